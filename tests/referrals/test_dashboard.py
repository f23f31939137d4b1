"""The dashboard against a small case computed by hand (see the table below)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from accounts.roles import Role
from catalog.models import Group
from referrals.followup import Checkpoint, Outcome
from referrals.services import record_choice, record_follow_up
from tests.factories import GroupFactory, ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db

FIRST, ONE, THREE = Checkpoint.FIRST_MEETING, Checkpoint.ONE_MONTH, Checkpoint.THREE_MONTHS

#  #  counsellor first-ranked       chosen  offered non-12  follow-ups
#  1  anna       na                 na      yes             attended, engaged 1 m, engaged 3 m
#  2  anna       na                 na      yes             attended, disengaged at 1 m
#                                                            (negative focus; conformity pressure)
#  3  anna       na                 smart   yes             did not attend
#  4  bo         smart              aa      yes             none yet
#  5  bo         user-organization  -       yes             no choice
#  6  bo         na                 na      no              attended, engaged 1 m, disengaged 3 m
#                                                            (natural course; other)
#  7  anna       na                 na      yes             two years ago: outside 12 months
#  8  (another organisation)        na      yes             never counted


@pytest.fixture
def groups(db):
    GroupFactory(slug="na", name="Narcotics Anonymous", kind=Group.Kind.TWELVE_STEP)
    GroupFactory(slug="aa", name="Alcoholics Anonymous", kind=Group.Kind.TWELVE_STEP)
    GroupFactory(slug="smart-recovery", name="SMART Recovery", kind=Group.Kind.SECULAR)
    GroupFactory(
        slug="user-organization", name="User organisation", kind=Group.Kind.USER_ORGANISATION
    )


@pytest.fixture
def anna(organisation):
    return UserFactory(
        username="anna", first_name="Anna", organisation=organisation, roles=[Role.COUNSELLOR]
    )


@pytest.fixture
def bo(organisation):
    return UserFactory(
        username="bo", first_name="Bo", organisation=organisation, roles=[Role.COUNSELLOR]
    )


def _referral(counsellor, reference, first, chosen="", offered=True, days_ago=3):
    referral = ReferralFactory.create(
        counsellor=counsellor,
        reference=reference,
        first_ranked=first,
        offered_non_twelve_step=offered,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    if chosen:
        referral = record_choice(referral=referral, group=chosen)
    return referral


def _follow(referral, checkpoint, outcome, **extra):
    if outcome == Outcome.ATTENDED:
        extra["first_meeting_on"] = timezone.localdate(referral.created_at)
    record_follow_up(
        referral=referral,
        recorded_by=referral.counsellor,
        checkpoint=checkpoint,
        outcome=outcome,
        # Recorded when each checkpoint was due (the referrals are days old).
        today=timezone.localdate(referral.created_at) + dt.timedelta(days=100),
        **extra,
    )


@pytest.fixture
def case(groups, anna, bo, outsider):
    r1 = _referral(anna, "P-1", "na", "na")
    _follow(r1, FIRST, Outcome.ATTENDED)
    _follow(r1, ONE, Outcome.ENGAGED)
    _follow(r1, THREE, Outcome.ENGAGED)
    r2 = _referral(anna, "P-2", "na", "na")
    _follow(r2, FIRST, Outcome.ATTENDED)
    _follow(
        r2,
        ONE,
        Outcome.DISENGAGED,
        reasons=["perceived-negative-focus", "conformity-pressure"],
    )
    r3 = _referral(anna, "P-3", "na", "smart-recovery")
    _follow(r3, FIRST, Outcome.NOT_ATTENDED)
    _referral(bo, "P-4", "smart-recovery", "aa")
    _referral(bo, "P-5", "user-organization")
    r6 = _referral(bo, "P-6", "na", "na", offered=False)
    _follow(r6, FIRST, Outcome.ATTENDED)
    _follow(r6, ONE, Outcome.ENGAGED)
    _follow(r6, THREE, Outcome.DISENGAGED, reasons=["natural-course-of-disengagement", "other"])
    _referral(anna, "P-7", "na", "na", days_ago=730)
    _referral(outsider, "X-8", "na", "na")


def _dashboard(client, query=""):
    response = client.get(f"/referrals/dashboard/{query}")
    assert response.status_code == 200
    return response.context["dashboard"]


def test_the_summary_adds_up(supervisor_client, case):
    board = _dashboard(supervisor_client)
    assert board.referrals == 6
    assert board.offered_non_twelve_step == 5
    assert board.totals.chosen == 5
    assert board.chose_non_twelve_step == 1  # SMART Recovery, of 5 choices
    # Chosen: na 3, smart 1, aa 1 of 5, so 60² + 20² + 20².
    assert board.hhi_chosen == 4400
    assert board.equivalent_chosen == 2.3
    # First-ranked: na 4, smart 1, user organisation 1 of 6.
    assert board.hhi_first_ranked == 5000
    assert board.top_chosen.slug == "na"
    page = supervisor_client.get("/referrals/dashboard/").content.decode()
    # First-ranked non-twelve-step: smart 1 and user organisation 1 of 6 menus; every
    # menu offers one, so that share would not inform.
    assert board.first_non_twelve_step == 2
    assert re.search(r'data-kpi="first-non-twelve-step">\s*33 %', page)
    assert "5 offered one at all" in page
    assert re.search(r'data-kpi="hhi">\s*4400', page)
    assert "/referrals/follow-ups/" not in page  # supervisors do not record follow-ups


def test_shares_by_first_ranked_and_chosen_group(supervisor_client, case):
    board = _dashboard(supervisor_client)
    assert [(b.key, b.count) for b in board.first_ranked] == [
        ("na", 4),
        ("smart-recovery", 1),
        ("user-organization", 1),
    ]
    assert [(g.slug, g.outcomes.chosen) for g in board.chosen] == [
        ("na", 3),
        ("aa", 1),
        ("smart-recovery", 1),
    ]


def test_outcomes_per_group(supervisor_client, case):
    outcomes = {g.slug: vars(g.outcomes) for g in _dashboard(supervisor_client).chosen}
    assert outcomes["na"] == {
        "chosen": 3,
        "awaiting": 0,
        "attended": 3,
        "not_attended": 0,
        "engaged_one_month": 2,
        "engaged_three_months": 1,
        "disengaged": 2,
    }
    assert outcomes["smart-recovery"]["not_attended"] == 1
    assert outcomes["aa"]["awaiting"] == 1


def test_disengagement_reasons_by_theme(supervisor_client, case):
    board = _dashboard(supervisor_client)
    assert {t.key: (t.count, t.by_group) for t in board.themes} == {
        "model-does-not-fit": (1, {"na": 1}),
        "negative-experiences-spurred-frustration": (1, {"na": 1}),
        "safe-place-can-become-cage": (1, {"na": 1}),
        "other": (1, {"na": 1}),
    }
    assert {r.key: r.count for r in board.reasons} == {
        "perceived-negative-focus": 1,
        "conformity-pressure": 1,
        "natural-course-of-disengagement": 1,
        "other": 1,
    }
    assert all(r.total == 2 for r in board.reasons)  # of 2 disengaged referrals


def test_counsellors_compared(supervisor_client, case, anna, bo):
    rows = {c.name: c for c in _dashboard(supervisor_client).counsellors}
    assert set(rows) == {"Anna", "Bo"}
    assert (rows["Anna"].referrals, rows["Bo"].referrals) == (3, 3)
    assert (rows["Anna"].offered_non_twelve_step, rows["Bo"].offered_non_twelve_step) == (3, 2)
    assert (rows["Anna"].chose_twelve_step, rows["Bo"].chose_twelve_step) == (2, 2)
    assert rows["Anna"].hhi == 5556  # na 2, smart 1
    assert rows["Bo"].hhi == 5000  # aa 1, na 1
    assert rows["Anna"].top_group == "na"
    assert (rows["Anna"].outcomes.disengaged, rows["Bo"].outcomes.disengaged) == (1, 1)


def test_referrals_over_time_fill_every_month_of_the_period(supervisor_client, case):
    months = _dashboard(supervisor_client).months
    assert len(months) == 12
    assert months[-1].month == timezone.localdate().replace(day=1)
    assert sum(m.referrals for m in months) == 6
    everything = _dashboard(supervisor_client, "?period=")
    assert everything.referrals == 7
    assert len(everything.months) >= 24


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?period=3m", 6),
        ("?period=", 7),
        ("?counsellor={bo}", 3),
        ("?group=na", 3),
        ("?country=BE", 0),
        ("?since={two_years_ago}&until={two_years_ago}", 1),
    ],
)
def test_filters(supervisor_client, case, bo, query, expected):
    two_years_ago = timezone.localdate() - dt.timedelta(days=730)
    query = query.format(bo=bo.pk, two_years_ago=two_years_ago.isoformat())
    assert _dashboard(supervisor_client, query).referrals == expected


def test_the_country_filter_offers_the_countries_of_the_referrals(supervisor_client, case):
    page = supervisor_client.get("/referrals/dashboard/?country=BE").content.decode()
    select = re.search(r'<select name="country".*?</select>', page, re.DOTALL)
    assert select is not None
    # Norway has referrals; Belgium is the one asked for; no other of the world's.
    assert re.findall(r'<option value="(\w*)"', select.group()) == ["", "BE", "NO"]


def test_a_bad_filter_is_named_and_shows_no_numbers(supervisor_client, case):
    response = supervisor_client.get("/referrals/dashboard/?since=yesterday&period=5y")
    assert response.context["dashboard"] is None
    page = response.content.decode()
    assert "Enter a valid date." in page
    assert "Select a valid choice" in page


def test_a_period_ending_before_it_starts_is_refused_not_counted_as_empty(supervisor_client, case):
    response = supervisor_client.get("/referrals/dashboard/?since=2026-06-01&until=2026-05-01")
    assert response.context["dashboard"] is None
    assert "“To” is before “From”: give a day on or after 2026-06-01." in (
        response.content.decode()
    )


def _listed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return sorted(r.reference for r in response.context["page"])


def test_each_number_drills_down_to_the_referrals_behind_it(supervisor_client, case):
    board = _dashboard(supervisor_client)
    na = next(g for g in board.chosen if g.slug == "na")
    assert _listed(supervisor_client, na.urls["chosen"]) == ["P-1", "P-2", "P-6"]
    assert _listed(supervisor_client, na.urls["disengaged"]) == ["P-2", "P-6"]
    assert _listed(supervisor_client, na.urls["engaged_three_months"]) == ["P-1"]
    aa = next(g for g in board.chosen if g.slug == "aa")
    assert _listed(supervisor_client, aa.urls["awaiting"]) == ["P-4"]
    first = {b.key: b.url for b in board.first_ranked}
    assert _listed(supervisor_client, first["smart-recovery"]) == ["P-4"]
    themes = {t.key: t.url for t in board.themes}
    assert _listed(supervisor_client, themes["model-does-not-fit"]) == ["P-2"]
    reasons = {r.key: r.url for r in board.reasons}
    assert _listed(supervisor_client, reasons["other"]) == ["P-6"]
    bo = next(c for c in board.counsellors if c.name == "Bo")
    assert _listed(supervisor_client, bo.urls["referrals"]) == ["P-4", "P-5", "P-6"]
    this_month = board.months[-1]
    assert len(_listed(supervisor_client, this_month.url)) == this_month.referrals
    # The period travels with the drill-down: the old referral stays out.
    assert "period=12m" in na.urls["chosen"]
    page = supervisor_client.get(na.urls["disengaged"]).content.decode()
    assert "Outcome: Disengaged" in page and "Chosen group: Narcotics Anonymous" in page


def test_csv_of_every_table(supervisor_client, case):
    def rows(table, query=""):
        response = supervisor_client.get(f"/referrals/dashboard/{table}.csv{query}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f"referrals-{table}-" in response["Content-Disposition"]
        lines = list(csv.reader(io.StringIO(response.content.decode())))
        # What it counts, then a blank line, then the table.
        about = lines[: lines.index([])]
        assert all(line[0].startswith("# ") for line in about)
        return lines[len(about) + 1 :]

    chosen = rows("chosen")
    assert chosen[0][:4] == ["Group", "Slug", "Twelve-step", "Chose it"]
    assert chosen[1] == ["Narcotics Anonymous", "na", "yes", "3", "0", "3", "0", "2", "1", "2"]
    assert rows("first-ranked")[1] == ["Narcotics Anonymous", "na", "4", "0.6667"]
    months = rows("months")
    assert len(months) == 13 and months[-1][1] == "6"
    themes = rows("themes")
    assert themes[0] == ["Theme", "Disengaged referrals", "Narcotics Anonymous"]
    assert ["The model did not fit", "1", "1"] in themes
    reasons = rows("reasons")
    assert ["Other reasons", "Other", "other", "1"] in reasons
    counsellors = rows("counsellors")
    assert counsellors[1][:5] == ["Anna", "3", "3", "2", "5556"]
    # The same filters as the page.
    assert len(rows("counsellors", "?group=aa")) == 2
    bad = supervisor_client.get("/referrals/dashboard/months.csv?since=nonsense")
    assert bad.status_code == 400 and b"since" in bad.content
    assert supervisor_client.get("/referrals/dashboard/nothing.csv").status_code == 404


def test_csv_cells_cannot_become_spreadsheet_formulas(supervisor_client, organisation, groups):
    sneaky = UserFactory(
        username="sneaky",
        first_name="=cmd|' /C calc'!A0",
        organisation=organisation,
        roles=[Role.COUNSELLOR],
    )
    _referral(sneaky, "P-9", "na", "na")
    text = supervisor_client.get("/referrals/dashboard/counsellors.csv").content.decode()
    assert "\n'=cmd" in text


def test_a_counsellor_sees_a_personal_summary_only(counsellor_client, counsellor, case, bo):
    _referral(counsellor, "P-MINE-1", "na", "aa")
    board = _dashboard(counsellor_client)
    assert board.referrals == 1
    assert board.counsellors is None
    # Asking for a colleague's referrals changes nothing.
    assert _dashboard(counsellor_client, f"?counsellor={bo.pk}").referrals == 1
    page = counsellor_client.get("/referrals/dashboard/").content.decode()
    assert "My referral patterns" in page and "Counsellors compared" not in page
    assert counsellor_client.get("/referrals/dashboard/counsellors.csv").status_code == 404
    chosen = counsellor_client.get("/referrals/dashboard/chosen.csv").content.decode()
    assert "Narcotics Anonymous" not in chosen and "Alcoholics Anonymous" in chosen


def test_nobody_sees_another_organisation_s_numbers(outsider_client, case, anna):
    board = _dashboard(outsider_client)
    assert board.referrals == 1  # only their own
    # Naming a counsellor of another organisation shows nothing of theirs.
    listed = outsider_client.get(f"/referrals/?counsellor={anna.pk}")
    assert [r.reference for r in listed.context["page"]] == ["X-8"]
    for table in ("months", "chosen", "themes", "reasons", "first-ranked"):
        text = outsider_client.get(f"/referrals/dashboard/{table}.csv").content.decode()
        assert "P-" not in text


def test_a_supervisor_of_another_organisation_sees_only_their_own(other_organisation, case, anna):
    from django.test import Client

    other_supervisor = UserFactory(organisation=other_organisation, roles=[Role.SUPERVISOR])
    client = Client()
    client.force_login(other_supervisor)
    board = _dashboard(client)
    assert board.referrals == 1
    assert [c.name for c in board.counsellors] == ["outsider"]
    response = client.get(f"/referrals/dashboard/?counsellor={anna.pk}")
    assert response.context["dashboard"] is None
    assert "Select a valid choice" in response.content.decode()
    listed = client.get(f"/referrals/?counsellor={anna.pk}")
    assert "Select a valid choice" in listed.content.decode()
    assert [r.reference for r in listed.context["page"]] == ["X-8"]


def test_the_dashboard_needs_a_role(no_role_client, admin_client_, case):
    assert no_role_client.get("/referrals/dashboard/").status_code == 403
    assert admin_client_.get("/referrals/dashboard/").status_code == 403
    assert admin_client_.get("/referrals/dashboard/months.csv").status_code == 403


def test_queries_do_not_grow_with_referrals(supervisor_client, case, anna, bo, max_queries):
    with max_queries(16) as few:
        supervisor_client.get("/referrals/dashboard/")
    for number in range(30):
        counsellor = UserFactory(organisation=anna.organisation, roles=[Role.COUNSELLOR])
        referral = _referral(counsellor, f"P-MORE-{number}", "aa", "smart-recovery")
        _follow(referral, FIRST, Outcome.ATTENDED)
        _follow(referral, ONE, Outcome.DISENGAGED, reasons=["anonymity-breaches"])
    with max_queries(few.number):
        board = _dashboard(supervisor_client)
    assert board.referrals == 36
    with max_queries(few.number):
        supervisor_client.get("/referrals/?outcome=disengaged&period=12m")
    for table in ("months", "chosen", "themes", "reasons", "counsellors", "first-ranked"):
        with max_queries(8):
            supervisor_client.get(f"/referrals/dashboard/{table}.csv")


def test_the_drill_down_shows_the_reasons_and_goes_back_with_its_filters(
    supervisor_client, case, max_queries
):
    with max_queries(16):
        response = supervisor_client.get("/referrals/?period=3m&group=na&outcome=disengaged")
    page = response.content.decode()
    # The reasons in words, beside each disengaged referral.
    assert "Negative focus: powerlessness, defects of character" in page
    assert "Conformity pressure" in page
    assert 'href="/referrals/dashboard/?period=3m&amp;group=na"' in page
    assert "Back to the dashboard" in page


def test_a_csv_says_what_it_counts(supervisor_client, case, bo):
    response = supervisor_client.get(
        f"/referrals/dashboard/chosen.csv?period=3m&counsellor={bo.pk}"
    )
    head = response.content.decode().split("\r\n\r\n")[0]
    assert "# Organisation: " in head
    assert "# Period: " in head and " to " in head
    assert f"# Counsellor: {bo}" in head and "# Chosen group: all" in head
    assert "# Exported " in head and " by " in head
