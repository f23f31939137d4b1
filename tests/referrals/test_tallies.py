"""The tallies the dashboard reads stay equal to a count of the referrals themselves,
whatever is written, and a period cutting months counts exactly its days."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import io
import threading
import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from referrals import dashboard, tallies
from referrals.filters import ReferralFilter
from referrals.followup import REASON_CHOICES, Checkpoint, Outcome
from referrals.matching import match
from referrals.models import ReasonTally, Referral, Tally
from referrals.profile import parse_profile
from referrals.services import (
    anonymise_expired,
    erase_reference,
    record_choice,
    record_follow_up,
    save_referral,
    void_referral,
)
from referrals.snapshot import current_snapshot
from tests.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db

FIRST, ONE, THREE = Checkpoint.FIRST_MEETING, Checkpoint.ONE_MONTH, Checkpoint.THREE_MONTHS
CODES = [code for code, _label in REASON_CHOICES]
GROUPS = ["na", "aa", "smart-recovery"]
REFERENCES = ["P-1", "P-2", "P-3"]


def _at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _disengage(referral: Referral, by, reasons: list[str]) -> None:
    """The patient went to a first meeting on the day of the referral, and had left the
    group by one month (told today), for these reasons."""
    record_follow_up(
        referral=referral,
        recorded_by=by,
        checkpoint=FIRST,
        outcome=Outcome.ATTENDED,
        first_meeting_on=timezone.localdate(referral.created_at),
    )
    record_follow_up(
        referral=referral,
        recorded_by=by,
        checkpoint=ONE,
        outcome=Outcome.DISENGAGED,
        reasons=reasons,
        contacted_on=timezone.localdate(),
    )


# --- Every write keeps the tallies current ------------------------------------------

saves = st.tuples(
    st.just("save"),
    st.sampled_from(REFERENCES),
    st.integers(0, 1),  # counsellor
    st.sampled_from(GROUPS),  # first ranked
    st.booleans(),  # offered a non-twelve-step group
    st.sampled_from(["NO", "BE"]),
    st.integers(0, 7),  # when: one of _moments()
)
choices = st.tuples(st.just("choose"), st.integers(0, 20), st.sampled_from(GROUPS))
follow_ups = st.tuples(
    st.just("follow"),
    st.integers(0, 20),
    st.sampled_from(
        [
            (FIRST, Outcome.ATTENDED),
            (FIRST, Outcome.NOT_ATTENDED),
            (ONE, Outcome.ENGAGED),
            (ONE, Outcome.DISENGAGED),
            (THREE, Outcome.ENGAGED),
            (THREE, Outcome.DISENGAGED),
        ]
    ),
    st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True),
)
erasures = st.tuples(st.just("erase"), st.sampled_from(REFERENCES))
anonymisations = st.tuples(st.just("anonymise"))
voids = st.tuples(st.just("void"), st.integers(0, 20))
operations = st.lists(
    st.one_of(saves, choices, follow_ups, follow_ups, erasures, anonymisations, voids),
    min_size=1,
    max_size=14,
)


def _moments() -> list[dt.datetime]:
    """When referrals are saved: now, days and years ago, and next to local midnight at
    the turn of a month and of a year, where a day or month in UTC would differ."""
    now = timezone.localtime()
    first = now.date().replace(day=1)
    new_year = dt.date(now.year, 1, 1)
    return [
        now,
        now - dt.timedelta(days=3),
        now - dt.timedelta(days=40),
        now - dt.timedelta(days=800),  # past retention
        _at(first - dt.timedelta(days=1), 23, 30),
        _at(first - dt.timedelta(days=31), 0, 30),
        _at(new_year, 0, 30),
        _at(new_year - dt.timedelta(days=1), 23, 30),
    ]


def _apply(operation: tuple, people: list, supervisor, made: list[int]) -> None:
    kind, *args = operation
    if kind == "save":
        reference, who, first, offered, country, moment = args
        saved = ReferralFactory.create(
            counsellor=people[who],
            reference=reference,
            first_ranked=first,
            offered_non_twelve_step=offered,
            country=country,
            created_at=_moments()[moment],
        )
        made.append(saved.pk)
        return
    if kind == "erase":
        erase_reference(user=supervisor, reference=args[0])
        return
    if kind == "anonymise":
        anonymise_expired()
        return
    if not made:
        return
    referral = Referral.objects.filter(pk=made[args[0] % len(made)]).first()
    if referral is None:  # erased
        return
    if kind == "choose":
        record_choice(referral=referral, group=args[1])
        return
    if kind == "void":
        void_referral(referral=referral, user=referral.counsellor, reason="duplicate")
        return
    (checkpoint, outcome), reasons = args[1], args[2]
    record_follow_up(
        referral=referral,
        recorded_by=referral.counsellor,
        checkpoint=checkpoint,
        outcome=outcome,
        first_meeting_on=timezone.localdate() if outcome == Outcome.ATTENDED else None,
        reasons=reasons if outcome == Outcome.DISENGAGED else (),
        # Recorded once every checkpoint is due, so that the script reaches them all.
        today=timezone.localdate() + dt.timedelta(days=100),
    )


@pytest.fixture
def people(organisation):
    return [
        UserFactory(organisation=organisation, roles=[Role.COUNSELLOR]),
        UserFactory(organisation=organisation, roles=[Role.COUNSELLOR]),
    ]


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=operations)
def test_every_write_of_a_referral_keeps_the_tallies_current(script, people, supervisor):
    with transaction.atomic():
        made: list[int] = []
        for operation in script:
            # A refused write (a contradiction, an anonymised referral) writes nothing.
            with contextlib.suppress(ValidationError):
                _apply(operation, people, supervisor, made)
        assert tallies.mismatches() == 0, script
        transaction.set_rollback(True)


@pytest.fixture
def around_the_turns(people):
    """Referrals on each of _moments(), some followed up to disengagement."""
    for n, moment in enumerate(_moments()):
        for who, group in enumerate(["na", "smart-recovery"]):
            saved = ReferralFactory.create(
                counsellor=people[who], reference=f"P-{n}{who}", created_at=moment
            )
            referral = record_choice(referral=saved, group=group)
            if (n + who) % 3:
                _disengage(referral, people[who], CODES[n % 5 :: 7][: 1 + who])


# A period's first or last day: open, the day of a referral or one either side of it.
days = st.one_of(st.none(), st.tuples(st.integers(0, 7), st.integers(-1, 1)))


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(since=days, until=days)
def test_each_number_of_any_period_is_the_length_of_the_list_behind_it(
    around_the_turns, supervisor, since, until
):
    def day(choice: tuple[int, int] | None) -> dt.date | None:
        if choice is None:
            return None
        moment, offset = choice
        return timezone.localdate(_moments()[moment]) + dt.timedelta(days=offset)

    _assert_the_dashboard_counts_what_the_list_shows(supervisor, day(since), day(until))


def _assert_the_dashboard_counts_what_the_list_shows(supervisor, since, until) -> None:
    """The numbers of a period, from the tallies, are the lengths of the lists they link
    to, filtered from the referrals themselves."""
    period = {"since": since or "", "until": until or ""}
    filterset = ReferralFilter({**period, "period": ""}, user=supervisor)
    if since and until and since > until:
        # Refused, naming the field, rather than counted as a period with no referrals.
        assert not filterset.is_valid() and "until" in filterset.errors
        return
    assert filterset.is_valid()
    scope = dashboard.Scope.of(filterset)
    rows = dashboard.facts(scope)

    def listed(**facet: str) -> int:
        """The length of the list, counted from the referrals, which is also what the
        list says it holds, counted from the tallies."""
        filtered = ReferralFilter({**period, **facet}, user=supervisor)
        assert filtered.is_valid(), filtered.errors
        count = int(filtered.qs.count())
        assert dashboard.listed(filtered) == count, facet
        return count

    assert sum(row["n"] for row in rows) == listed(), period
    for outcome in ("attended", "not_attended", "engaged_three_months", "disengaged"):
        assert sum(row[f"n_{outcome}"] for row in rows) == listed(outcome=outcome), outcome
    for bar in dashboard.by_reason(scope, lambda **facet: "", 0):
        assert bar.count == listed(reason=bar.key), bar.key
    for theme in dashboard.by_theme(scope, lambda **facet: ""):
        assert theme.count == listed(theme=theme.key), theme.key
    for month in dashboard.monthly(scope, lambda **facet: ""):
        assert month.referrals == listed(month=f"{month.month:%Y-%m}"), month
    # The other facets of the dashboard's numbers, alone and crossed.
    for facet in [
        {"first_ranked": "na"},
        {"first_ranked": "na", "outcome": "disengaged"},
        {"offered_non_twelve_step": "true"},
        {"offered_non_twelve_step": "false"},
        {"outcome": "no_choice"},
        {"outcome": "awaiting", "first_ranked": "na"},
        {"theme": "other", "reason": "other"},
        {"theme": "model-does-not-fit", "reason": "other"},
        {"theme": "other", "outcome": "disengaged", "country": "NO"},
    ]:
        listed(**facet)


def test_a_referral_saved_from_a_menu_is_counted(reference_catalog, counsellor, supervisor_client):
    profile = {"reference": "P-0042", "country": "NO", "gender": "female"}
    menu = match(parse_profile(profile), current_snapshot())
    save_referral(counsellor=counsellor, profile=profile, menu=menu, language="nb")
    board = supervisor_client.get("/referrals/dashboard/").context["dashboard"]
    assert board.referrals == 1
    assert [bar.key for bar in board.first_ranked] == [menu.options[0].group]
    assert tallies.mismatches() == 0


# --- The dashboard reads the tallies -----------------------------------------------


def test_referrals_written_around_the_services_show_once_the_tallies_are_rebuilt(
    counsellor, supervisor_client
):
    ReferralFactory(counsellor=counsellor, reference="P-1")
    Referral.objects.bulk_create([Referral(**_columns(counsellor, f"P-{n}")) for n in range(2, 5)])
    assert _count(supervisor_client) == 1
    with pytest.raises(CommandError, match=r"tally row\(s\) differ") as refused:
        call_command("rebuild_tallies", "--check")
    assert refused.value.returncode == 1
    out = io.StringIO()
    call_command("rebuild_tallies", stdout=out)
    assert "Counted 2 tally row" in out.getvalue()  # a month's and a day's
    assert _count(supervisor_client) == 4
    call_command("rebuild_tallies", "--check", stdout=out)
    assert "current" in out.getvalue()


def _columns(counsellor, reference: str) -> dict:
    return {
        "organisation": counsellor.organisation,
        "counsellor": counsellor,
        "reference": reference,
        "profile": {},
        "menu": {},
        "country": "NO",
        "first_ranked": "na",
    }


def _count(client, query: str = "") -> int:
    board = client.get(f"/referrals/dashboard/{query}").context["dashboard"]
    return int(board.referrals)


def test_rebuilding_one_organisation_leaves_the_others_alone(counsellor, outsider):
    ReferralFactory(counsellor=counsellor)
    ReferralFactory(counsellor=outsider)
    theirs = Tally.objects.filter(organisation=outsider.organisation)
    theirs.update(referrals=7)
    call_command("rebuild_tallies", "--organisation", "oslo-clinic", stdout=io.StringIO())
    assert list(theirs.values_list("referrals", flat=True)) == [7, 7]  # month and day
    call_command("rebuild_tallies", stdout=io.StringIO())
    assert list(theirs.values_list("referrals", flat=True)) == [1, 1]


def test_rebuild_tallies_names_an_unknown_organisation(organisation):
    with pytest.raises(CommandError, match="--organisation: no organisation nowhere"):
        call_command("rebuild_tallies", "--organisation", "nowhere")


@pytest.mark.parametrize("out_of_step", ["missing", "counted too low"])
def test_a_tally_out_of_step_refuses_the_write_instead_of_counting_wrong(counsellor, out_of_step):
    referral = record_choice(referral=ReferralFactory(counsellor=counsellor), group="na")
    if out_of_step == "missing":
        Tally.objects.all().delete()
    else:
        Tally.objects.update(awaiting=0)
    with pytest.raises(tallies.TallyMismatch, match="rebuild_tallies"):
        record_follow_up(
            referral=referral,
            recorded_by=counsellor,
            checkpoint=FIRST,
            outcome=Outcome.NOT_ATTENDED,
            contacted_on=timezone.localdate(),
        )
    assert not referral.follow_ups.exists()


def test_a_tally_counting_nothing_any_more_goes(counsellor, supervisor):
    first = record_choice(referral=ReferralFactory(counsellor=counsellor), group="na")
    record_choice(referral=first, group="aa")
    assert set(Tally.objects.values_list("chosen_group", flat=True)) == {"aa"}
    erase_reference(user=supervisor, reference=first.reference)
    assert not Tally.objects.exists()


def test_the_migration_counts_the_referrals_saved_before_tallies(counsellor):
    referral = record_choice(referral=ReferralFactory(counsellor=counsellor), group="na")
    _disengage(referral, counsellor, ["conformity-pressure", "anonymity-breaches", "other"])
    ReferralFactory(counsellor=counsellor, created_at=timezone.now() - dt.timedelta(days=70))
    kept = tallies.counted()
    Tally.objects.all().delete()
    ReasonTally.objects.all().delete()
    migration = importlib.import_module("referrals.migrations.0006_tallies")
    migration.count_referrals(apps, None)
    assert tallies.counted() == kept
    # Two reasons of one theme count the referral once under the theme.
    theme = ReasonTally.objects.get(
        grain="month", theme="negative-experiences-spurred-frustration", code=""
    )
    assert theme.referrals == 1


# --- Periods that cut months -------------------------------------------------------

#  day          counsellor  chosen  outcome                         in 15 Mar - 20 May?
#  14 March     anna        na      -                               no (a day early)
#  15 March     anna        na      disengaged (conformity, other)  yes, partial month
#  10 April     anna        smart   disengaged (conformity)         yes, whole month
#  20 May       anna        na      attended                        yes, partial month
#  21 May       anna        na      -                               no (a day late)


@pytest.fixture
def spring(counsellor):
    year = timezone.localdate().year - 1
    made = {}
    for day, group in [
        ((3, 14), "na"),
        ((3, 15), "na"),
        ((4, 10), "smart-recovery"),
        ((5, 20), "na"),
        ((5, 21), "na"),
    ]:
        when = dt.date(year, *day)
        referral = ReferralFactory(counsellor=counsellor, created_at=_at(when))
        made[when] = record_choice(referral=referral, group=group)
    march, april, may = (dt.date(year, 3, 15), dt.date(year, 4, 10), dt.date(year, 5, 20))
    for when, reasons in [
        (march, ["conformity-pressure", "other"]),
        (april, ["conformity-pressure"]),
    ]:
        _disengage(made[when], counsellor, reasons)
    record_follow_up(
        referral=made[may],
        recorded_by=counsellor,
        checkpoint=FIRST,
        outcome=Outcome.ATTENDED,
        first_meeting_on=may,
    )
    return year


def test_a_period_cutting_months_counts_only_its_days(supervisor_client, spring, max_queries):
    query = f"?since={spring}-03-15&until={spring}-05-20"
    with max_queries(20):
        response = supervisor_client.get(f"/referrals/dashboard/{query}")
    board = response.context["dashboard"]
    assert board.referrals == 3
    by_month = {m.month: m.referrals for m in board.months if m.referrals}
    assert by_month == {
        dt.date(spring, 3, 1): 1,
        dt.date(spring, 4, 1): 1,
        dt.date(spring, 5, 1): 1,
    }
    outcomes = {
        g.slug: (g.outcomes.chosen, g.outcomes.attended, g.outcomes.disengaged)
        for g in board.chosen
    }
    # Disengaging at one month implies a first meeting attended.
    assert outcomes == {"na": (2, 2, 1), "smart-recovery": (1, 1, 1)}
    # One disengaged referral from a partial month and one from a whole month add up.
    themes = {t.key: (t.count, t.by_group) for t in board.themes}
    assert themes["negative-experiences-spurred-frustration"] == (
        2,
        {"na": 1, "smart-recovery": 1},
    )
    assert {r.key: r.count for r in board.reasons} == {"conformity-pressure": 2, "other": 1}


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("03-14", "05-21", 5),  # every one
        ("03-01", "05-31", 5),  # whole months only
        ("03-15", "03-15", 1),  # one day
        ("03-16", "05-19", 1),  # April only, from two partial months
        ("04-01", "04-30", 1),  # one whole month
        ("05-21", "", 1),  # open-ended
        ("", "03-14", 1),  # open-started
    ],
)
def test_periods_count_every_referral_of_their_days_once(
    supervisor_client, spring, since, until, expected
):
    parts = []
    if since:
        parts.append(f"since={spring}-{since}")
    if until:
        parts.append(f"until={spring}-{until}")
    assert _count(supervisor_client, "?" + "&".join(parts)) == expected


def test_csv_of_a_period_cutting_months_counts_its_days(supervisor_client, spring):
    response = supervisor_client.get(
        f"/referrals/dashboard/months.csv?since={spring}-03-15&until={spring}-05-20"
    )
    table = response.content.decode().split("\r\n\r\n", 1)[1]  # after what it counts
    rows = [row.split(",") for row in table.splitlines()[1:]]
    counted = {month: n for month, n, *_rest in rows if n != "0"}
    assert counted == {f"{spring}-03": "1", f"{spring}-04": "1", f"{spring}-05": "1"}


def test_a_date_out_of_range_is_named_not_a_server_error(supervisor_client, spring):
    for query in ("until=9999-12-31", "since=9999-12-31", "month=9999-12"):
        response = supervisor_client.get(f"/referrals/?{query}")
        assert response.status_code == 200
        assert "Ensure this value is less than or equal to 2999-12-31" in response.content.decode()
    response = supervisor_client.get("/referrals/dashboard/?until=9999-12-31")
    assert response.context["dashboard"] is None
    assert "less than or equal to 2999-12-31" in response.content.decode()


# --- Concurrent writes ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_two_writes_creating_the_same_tally_at_once_both_count(organisation, counsellor):
    """The second writer cannot see the first's new row until it commits; its insert
    then conflicts and it adds to the row the first one made."""
    first = ReferralFactory.build(counsellor=counsellor)
    first.save()
    second = ReferralFactory.build(counsellor=counsellor)
    second.save()
    part = tallies.current(first)
    assert tallies.current(second).grouping == part.grouping
    done = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with transaction.atomic():
                tallies.move(None, tallies.current(second))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()
            done.set()

    with transaction.atomic():
        tallies.move(None, part)
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert not done.wait(0.5), "the second writer should wait for the first's row"
    thread.join(10)
    assert not errors
    assert [t.referrals for t in Tally.objects.all()] == [2, 2]  # month and day


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_an_erasure_waits_for_a_follow_up_being_written_and_takes_away_what_it_counted(
    organisation, counsellor, supervisor
):
    referral = record_choice(referral=ReferralFactory(counsellor=counsellor), group="na")
    done = threading.Event()
    errors: list[BaseException] = []

    def eraser() -> None:
        try:
            erase_reference(user=supervisor, reference=referral.reference)
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connection.close()
            done.set()

    record_follow_up(
        referral=referral,
        recorded_by=counsellor,
        checkpoint=FIRST,
        outcome=Outcome.ATTENDED,
        first_meeting_on=timezone.localdate(),
    )
    with transaction.atomic():
        record_follow_up(
            referral=referral,
            recorded_by=counsellor,
            checkpoint=ONE,
            outcome=Outcome.DISENGAGED,
            reasons=["conformity-pressure"],
            contacted_on=timezone.localdate(),
        )
        thread = threading.Thread(target=eraser)
        thread.start()
        assert not done.wait(0.5), "the erasure should wait for the follow-up's lock"
    thread.join(10)
    assert not errors
    assert not Referral.objects.exists()
    assert tallies.mismatches() == 0
    assert not Tally.objects.exists()
    assert not ReasonTally.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_eight_saves_of_one_intake_at_once_make_one_referral(reference_data, counsellor):
    from referrals.matching import match
    from referrals.profile import parse_profile
    from referrals.services import save_intake
    from referrals.snapshot import current_snapshot

    profile = {"reference": "P-0042", "substances": ["alcohol"]}
    menu = match(parse_profile(profile), current_snapshot())
    key = uuid.uuid4()
    start = threading.Barrier(8)
    made: list[bool] = []
    errors: list[BaseException] = []

    def save() -> None:
        try:
            start.wait(5)
            made.append(
                save_intake(
                    counsellor=counsellor, profile=profile, menu=menu, language="en", intake_key=key
                )[1]
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(made) == [False] * 7 + [True]
    assert Referral.objects.filter(intake_key=key).count() == 1
    assert sum(t.referrals for t in Tally.objects.all()) == 2  # counted once: month and day
