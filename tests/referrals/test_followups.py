from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from referrals.followup import (
    REASON_THEMES,
    STUDY,
    Checkpoint,
    Outcome,
    Recorded,
    contradiction,
    missing_earlier,
    status,
    timing_problem,
)
from referrals.models import FollowUp, Referral
from referrals.services import record_choice, record_follow_up
from studies.models import Theme
from tests.factories import ReferralFactory

FIRST, ONE, THREE = Checkpoint.FIRST_MEETING, Checkpoint.ONE_MONTH, Checkpoint.THREE_MONTHS


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ([], {"attended": None, "next_checkpoint": FIRST}),
        ([(FIRST, Outcome.NOT_ATTENDED)], {"attended": False, "next_checkpoint": None}),
        ([(FIRST, Outcome.ATTENDED)], {"attended": True, "next_checkpoint": ONE}),
        (
            [(FIRST, Outcome.ATTENDED), (ONE, Outcome.ENGAGED)],
            {"attended": True, "engaged_one_month": True, "next_checkpoint": THREE},
        ),
        (
            [(FIRST, Outcome.ATTENDED), (ONE, Outcome.DISENGAGED)],
            {"engaged_one_month": False, "engaged_three_months": False, "disengaged": True},
        ),
        (
            [(ONE, Outcome.ENGAGED), (THREE, Outcome.DISENGAGED)],
            {
                "attended": True,
                "engaged_one_month": True,
                "disengaged": True,
                "next_checkpoint": None,
            },
        ),
        # A later checkpoint speaks for the earlier ones.
        (
            [(THREE, Outcome.ENGAGED)],
            {"attended": True, "engaged_one_month": True, "engaged_three_months": True},
        ),
    ],
)
def test_what_follow_ups_add_up_to(recorded, expected):
    result = status([Recorded(c, o) for c, o in recorded], chosen=True)
    for name, value in expected.items():
        assert getattr(result, name) == value, name


def test_nothing_is_due_without_a_choice():
    assert status([], chosen=False).next_checkpoint is None


def test_contradicting_follow_ups_are_named():
    assert contradiction([Recorded(FIRST, Outcome.NOT_ATTENDED), Recorded(ONE, Outcome.ENGAGED)])
    assert contradiction([Recorded(ONE, Outcome.DISENGAGED), Recorded(THREE, Outcome.ENGAGED)])
    assert contradiction([Recorded(ONE, Outcome.DISENGAGED), Recorded(THREE, Outcome.DISENGAGED)])
    assert not contradiction([Recorded(FIRST, Outcome.ATTENDED), Recorded(ONE, Outcome.ENGAGED)])


def test_the_reasons_are_the_norwegian_study_s_codes_under_its_themes(reference_data):
    """Each reason is a code of the study, filed under the final theme it belongs to."""
    themes = {t.key: t for t in Theme.objects.filter(study__key=STUDY).select_related("parent")}
    for theme in REASON_THEMES:
        if theme.key == "other":
            continue
        assert themes[theme.key].parent is None, theme.key
        for code, _label in theme.codes:
            assert code in themes, code
            assert themes[code].parent.parent.key == theme.key, code


@pytest.fixture
def referral(counsellor):
    """A referral of a hundred days ago: every checkpoint has fallen due."""
    referral = ReferralFactory.create(
        counsellor=counsellor, created_at=timezone.now() - dt.timedelta(100)
    )
    return record_choice(referral=referral, group="na")


def _record(referral, counsellor, checkpoint, outcome, **extra):
    return record_follow_up(
        referral=referral, recorded_by=counsellor, checkpoint=checkpoint, outcome=outcome, **extra
    )


@pytest.mark.django_db
def test_a_choice_makes_the_first_follow_up_due_two_weeks_after_the_referral(referral):
    assert referral.follow_up_due_on == timezone.localdate(referral.created_at) + dt.timedelta(14)
    assert referral.next_checkpoint == FIRST


@pytest.mark.django_db
def test_follow_ups_move_the_referral_on_and_close_it(referral, counsellor):
    today = timezone.localdate()
    _record(referral, counsellor, FIRST, Outcome.ATTENDED, first_meeting_on=today)
    referral.refresh_from_db()
    assert (referral.attended, referral.next_checkpoint) == (True, ONE)
    assert referral.follow_up_due_on == timezone.localdate(referral.created_at) + dt.timedelta(30)
    _record(referral, counsellor, ONE, Outcome.DISENGAGED, reasons=["conformity-pressure"])
    referral.refresh_from_db()
    assert referral.disengaged and referral.engaged_one_month is False
    assert referral.follow_up_due_on is None and referral.closed_on == today
    follow_up = referral.follow_ups.get(checkpoint=ONE)
    assert follow_up.recorded_by == counsellor
    assert list(follow_up.reasons.values_list("code", flat=True)) == ["conformity-pressure"]


@pytest.mark.django_db
def test_a_correction_replaces_the_follow_up_and_reopens_the_referral(referral, counsellor):
    _record(referral, counsellor, FIRST, Outcome.NOT_ATTENDED)
    referral.refresh_from_db()
    assert referral.closed_on is not None
    _record(referral, counsellor, FIRST, Outcome.ATTENDED, first_meeting_on=timezone.localdate())
    referral.refresh_from_db()
    assert referral.attended and referral.closed_on is None
    assert referral.follow_ups.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("checkpoint", "outcome", "extra", "field"),
    [
        (FIRST, Outcome.ATTENDED, {}, "first_meeting_on"),
        (FIRST, Outcome.ATTENDED, {"first_meeting_on": dt.date(2999, 1, 1)}, "first_meeting_on"),
        (FIRST, Outcome.ATTENDED, {"first_meeting_on": dt.date(2000, 1, 1)}, "first_meeting_on"),
        (ONE, Outcome.DISENGAGED, {}, "reasons"),
        (ONE, Outcome.DISENGAGED, {"reasons": ["made-up"]}, "reasons"),
        (ONE, Outcome.ENGAGED, {"reasons": ["other"]}, "reasons"),
        (FIRST, Outcome.ENGAGED, {}, "outcome"),
    ],
)
def test_bad_follow_ups_are_refused_naming_the_field(
    referral, counsellor, checkpoint, outcome, extra, field
):
    with pytest.raises(ValidationError) as refused:
        _record(referral, counsellor, checkpoint, outcome, **extra)
    assert field in refused.value.message_dict
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
def test_a_contradiction_leaves_nothing_written(referral, counsellor):
    _record(referral, counsellor, FIRST, Outcome.NOT_ATTENDED)
    before = Referral.objects.values().get(pk=referral.pk)
    with pytest.raises(ValidationError, match="did not attend"):
        _record(referral, counsellor, ONE, Outcome.DISENGAGED, reasons=["other"])
    assert FollowUp.objects.count() == 1
    assert Referral.objects.values().get(pk=referral.pk) == before


@pytest.mark.django_db
def test_no_follow_up_before_a_choice(counsellor):
    referral = ReferralFactory.create(counsellor=counsellor)
    with pytest.raises(ValidationError, match="choice"):
        _record(referral, counsellor, FIRST, Outcome.NOT_ATTENDED)


@pytest.mark.django_db
def test_the_choice_stays_once_followed_up(referral, counsellor):
    _record(referral, counsellor, FIRST, Outcome.NOT_ATTENDED)
    with pytest.raises(ValidationError, match="new referral"):
        record_choice(referral=referral, group="aa")
    # Choosing the same group again changes nothing, the outcome included.
    record_choice(referral=referral, group="na")
    referral.refresh_from_db()
    assert referral.chosen_group == "na"
    assert referral.attended is False and referral.closed_on is not None


# Pages


def _due(counsellor, days_ago: int, reference: str) -> Referral:
    referral = ReferralFactory.create(
        counsellor=counsellor,
        reference=reference,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    return record_choice(referral=referral, group="na")


@pytest.mark.django_db
def test_each_counsellor_sees_their_own_follow_ups_due(
    counsellor, counsellor_client, organisation, max_queries
):
    from accounts.roles import Role
    from tests.factories import UserFactory

    _due(counsellor, 20, "P-OVERDUE-1")
    _due(counsellor, 10, "P-SOON-1")
    _due(counsellor, 1, "P-LATER-1")
    colleague = UserFactory(organisation=organisation, roles=[Role.COUNSELLOR])
    _due(colleague, 20, "P-COLLEAGUE-1")
    with max_queries(10) as few:
        page = counsellor_client.get("/referrals/follow-ups/").content.decode()
    assert "P-OVERDUE-1" in page and "overdue" in page
    assert "P-SOON-1" in page
    assert "P-LATER-1" not in page and "P-COLLEAGUE-1" not in page
    for number in range(10):
        _due(counsellor, 30, f"P-MORE-{number}")
    with max_queries(few.number):
        assert counsellor_client.get("/referrals/follow-ups/").status_code == 200
    home = counsellor_client.get("/").content.decode()
    assert "11 follow-ups are due" in home


@pytest.mark.django_db
def test_a_counsellor_records_a_follow_up_through_the_form(counsellor, counsellor_client):
    referral = _due(counsellor, 20, "P-FORM-1")
    url = f"/referrals/{referral.pk}/follow-up/first_meeting/"
    page = counsellor_client.get(url).content.decode()
    assert "Attended a first meeting" in page and "Did not attend" in page
    response = counsellor_client.post(url, {"outcome": "attended"})
    assert "Give the date of the first meeting." in response.content.decode()
    response = counsellor_client.post(
        url, {"outcome": "attended", "first_meeting_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    detail = counsellor_client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Attended a first meeting" in detail and "Correct" in detail

    url = f"/referrals/{referral.pk}/follow-up/one_month/"
    page = counsellor_client.get(url).content.decode()
    assert "Conformity pressure" in page and "Negative experiences" in page
    response = counsellor_client.post(url, {"outcome": "disengaged"})
    assert "Give at least one reason" in response.content.decode()
    # Twenty days in, one month has not come: the answer rests on a contact.
    early = {"outcome": "disengaged", "reasons": ["anonymity-breaches"]}
    response = counsellor_client.post(url, early)
    assert "give the date of the contact it rests on" in response.content.decode()
    assert not referral.follow_ups.filter(checkpoint="one_month").exists()
    counsellor_client.post(url, {**early, "contacted_on": timezone.localdate().isoformat()})
    referral.refresh_from_db()
    assert referral.disengaged and referral.follow_up_due_on is None
    detail = counsellor_client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Anonymity breaches" in detail


@pytest.mark.django_db
def test_a_contradiction_on_the_form_is_shown_not_saved(counsellor, counsellor_client):
    referral = _due(counsellor, 40, "P-CONTRA-1")
    counsellor_client.post(
        f"/referrals/{referral.pk}/follow-up/first_meeting/", {"outcome": "not_attended"}
    )
    response = counsellor_client.post(
        f"/referrals/{referral.pk}/follow-up/one_month/", {"outcome": "engaged"}
    )
    assert response.status_code == 200
    assert "did not attend" in response.content.decode()
    assert referral.follow_ups.count() == 1


@pytest.mark.django_db
def test_only_the_referral_s_counsellor_records_follow_ups(
    counsellor, supervisor_client, outsider_client, no_role_client
):
    referral = _due(counsellor, 20, "P-GUARD-1")
    url = f"/referrals/{referral.pk}/follow-up/first_meeting/"
    data = {"outcome": "not_attended"}
    assert supervisor_client.get(url).status_code == 403
    assert supervisor_client.post(url, data).status_code == 403
    assert no_role_client.post(url, data).status_code == 403
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, data).status_code == 404
    assert not FollowUp.objects.exists()
    # An unknown checkpoint is not a page either.
    assert outsider_client.get(f"/referrals/{referral.pk}/follow-up/ten_years/").status_code == 404


# Follow-ups that tell the truth: not before they are due without a contact, and in order.

REFERRED = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("checkpoint", "outcome", "days_in", "contact_days_in", "field_error"),
    [
        # Due: nothing more is asked.
        (THREE, Outcome.ENGAGED, 91, None, False),
        (ONE, Outcome.DISENGAGED, 45, None, False),
        # A first meeting attended rests on its own date, on any day.
        (FIRST, Outcome.ATTENDED, 2, None, False),
        # Early without a contact: refused.
        (FIRST, Outcome.NOT_ATTENDED, 5, None, True),
        (ONE, Outcome.DISENGAGED, 10, None, True),
        (THREE, Outcome.ENGAGED, 0, None, True),
        # Early with a contact: disengaging or not going can be known any day...
        (ONE, Outcome.DISENGAGED, 10, 9, False),
        (FIRST, Outcome.NOT_ATTENDED, 5, 5, False),
        # ... still engaged only from a week before it falls due.
        (ONE, Outcome.ENGAGED, 25, 24, False),
        (ONE, Outcome.ENGAGED, 25, 20, True),
        (THREE, Outcome.ENGAGED, 30, 30, True),
        # A contact in the future or before the referral is no contact.
        (ONE, Outcome.DISENGAGED, 10, 11, True),
        (ONE, Outcome.DISENGAGED, 40, -1, True),
    ],
)
def test_a_follow_up_before_it_is_due_rests_on_a_contact(
    checkpoint, outcome, days_in, contact_days_in, field_error
):
    contact = None if contact_days_in is None else REFERRED + dt.timedelta(contact_days_in)
    problem = timing_problem(
        checkpoint,
        outcome,
        referred_on=REFERRED,
        today=REFERRED + dt.timedelta(days_in),
        contacted_on=contact,
    )
    assert bool(problem) is field_error
    if problem:
        assert list(problem) == ["contacted_on"]


def test_a_checkpoint_needs_the_one_before_it():
    attended = Recorded(FIRST, Outcome.ATTENDED)
    assert missing_earlier(ONE, []) and missing_earlier(THREE, [attended])
    assert not missing_earlier(ONE, [attended])
    assert not missing_earlier(THREE, [attended, Recorded(ONE, Outcome.ENGAGED)])
    assert not missing_earlier(FIRST, [])


@pytest.mark.django_db
def test_three_months_engaged_cannot_skip_the_earlier_checkpoints(referral, counsellor):
    with pytest.raises(ValidationError, match="first meeting as attended"):
        _record(referral, counsellor, ONE, Outcome.ENGAGED)
    with pytest.raises(ValidationError, match="one-month follow-up as still engaged"):
        _record(referral, counsellor, THREE, Outcome.ENGAGED)
    _record(referral, counsellor, FIRST, Outcome.ATTENDED, first_meeting_on=timezone.localdate())
    with pytest.raises(ValidationError, match="one-month follow-up as still engaged"):
        _record(referral, counsellor, THREE, Outcome.ENGAGED)
    _record(referral, counsellor, ONE, Outcome.ENGAGED)
    _record(referral, counsellor, THREE, Outcome.ENGAGED)
    referral.refresh_from_db()
    assert referral.engaged_three_months and referral.closed_on == timezone.localdate()


@pytest.mark.django_db
def test_still_engaged_on_the_day_of_the_referral_is_refused(counsellor, counsellor_client):
    """The lie the follow-ups used to accept: engaged at three months on day one."""
    referral = record_choice(referral=ReferralFactory(counsellor=counsellor), group="na")
    today = timezone.localdate().isoformat()
    base = f"/referrals/{referral.pk}/follow-up/"
    counsellor_client.post(
        f"{base}first_meeting/", {"outcome": "attended", "first_meeting_on": today}
    )
    response = counsellor_client.post(
        f"{base}one_month/", {"outcome": "engaged", "contacted_on": today}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "a week before it falls due" in page
    referral.refresh_from_db()
    assert referral.engaged_one_month is None and referral.closed_on is None
    assert referral.follow_ups.count() == 1


@pytest.mark.django_db
def test_the_contact_date_is_kept_and_shown(counsellor, counsellor_client):
    referral = record_choice(
        referral=ReferralFactory(
            counsellor=counsellor, created_at=timezone.now() - dt.timedelta(days=5)
        ),
        group="na",
    )
    contact = timezone.localdate() - dt.timedelta(days=1)
    response = counsellor_client.post(
        f"/referrals/{referral.pk}/follow-up/first_meeting/",
        {"outcome": "not_attended", "contacted_on": contact.isoformat()},
    )
    assert response.status_code == 302
    assert referral.follow_ups.get().contacted_on == contact
    detail = counsellor_client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Contact on" in detail


# One tab never silently overwrites another.


@pytest.mark.django_db
def test_a_stale_follow_up_form_is_refused_and_writes_nothing(
    referral, counsellor, counsellor_client
):
    url = f"/referrals/{referral.pk}/follow-up/first_meeting/"
    first_tab = counsellor_client.get(url).context["form"]["version"].value()
    second_tab = counsellor_client.get(url).context["form"]["version"].value()
    assert first_tab and first_tab == second_tab
    today = timezone.localdate().isoformat()
    saved = counsellor_client.post(
        url, {"outcome": "attended", "first_meeting_on": today, "version": first_tab}
    )
    assert saved.status_code == 302
    stale = counsellor_client.post(url, {"outcome": "not_attended", "version": second_tab})
    assert stale.status_code == 200
    assert "changed at" in stale.content.decode()
    assert "since you opened it" in stale.content.decode()
    assert referral.follow_ups.get().outcome == Outcome.ATTENDED


@pytest.mark.django_db
def test_a_stale_choice_is_refused(counsellor, counsellor_client):
    referral = ReferralFactory.create(counsellor=counsellor)
    detail = f"/referrals/{referral.pk}/"
    version = counsellor_client.get(detail).context["choose_form"]["version"].value()
    counsellor_client.post(f"{detail}choose/", {"group": "na", "version": version})
    response = counsellor_client.post(
        f"{detail}choose/", {"group": "aa", "version": version}, follow=True
    )
    assert "since you opened it" in response.content.decode()
    referral.refresh_from_db()
    assert referral.chosen_group == "na"


@pytest.mark.django_db(transaction=True)
def test_racing_saves_of_one_version_write_once(counsellor):
    """Two tabs saving at once: the lock makes the second see the first's change."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writes; the race needs PostgreSQL")
    from referrals.services import version_of

    referral = ReferralFactory.create(counsellor=counsellor)
    version = version_of(referral)
    outcomes: list[str] = []

    def choose(group: str) -> None:
        try:
            record_choice(referral=referral, group=group, version=version)
            outcomes.append("saved")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=choose, args=(g,)) for g in ("na", "aa", "smart-recovery")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "saved"]
