"""The meeting finder: each filter does what it says, with meetings placed by hand
around Drammen, in Oslo and online on Toronto's clock, under a stopped clock."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest

from catalog import finder
from catalog.finder import clock_times
from catalog.models import Group, Meeting, Place, PlaceName
from catalog.places import normalise
from tests.factories import GroupFactory, MeetingFactory, MeetingSlotFactory

pytestmark = pytest.mark.django_db

URL = "/catalog/meetings/find/"
# Tuesday 8 December 2026, 12:00 in Oslo.
NOW = dt.datetime(2026, 12, 8, 11, 0, tzinfo=dt.UTC)
MONDAY, TUESDAY, WEDNESDAY = 0, 1, 2
DRAMMEN = (59.7439, 10.2045)
OSLO = (59.9139, 10.7522)  # about 36 km from Drammen
MJONDALEN = (59.7486, 10.0167)  # about 10.5 km west of Drammen


@pytest.fixture(autouse=True)
def stopped_clock(monkeypatch):
    monkeypatch.setattr(finder, "now", lambda: NOW)


def place(
    name: str,
    latitude: float,
    longitude: float,
    *,
    region: str,
    country: str = "NO",
    population: int = 10_000,
) -> Place:
    found = Place.objects.create(
        reference=f"test:{name}:{country}",
        name=name,
        country=country,
        region=region,
        latitude=latitude,
        longitude=longitude,
        population=population,
    )
    PlaceName.objects.create(key=normalise(name), place=found)
    return found


@pytest.fixture
def gazetteer(db):
    place("Drammen", *DRAMMEN, region="Buskerud", population=100_000)
    place("Oslo", *OSLO, region="Oslo", population=700_000)
    # Bergen in Vestland has less than ten times the people of Bergen in North Holland.
    place("Bergen", 60.3913, 5.3221, region="Vestland", population=294_000)
    place("Bergen", 52.6692, 4.7016, region="North Holland", country="NL", population=30_000)


@pytest.fixture
def groups(db):
    return {
        "na": GroupFactory(slug="na", name="Narcotics Anonymous"),
        "aa": GroupFactory(slug="aa", name="Alcoholics Anonymous"),
        "trauma": GroupFactory(
            slug="trauma-support", name="Trauma support", kind=Group.Kind.COMPLEMENTARY
        ),
        "closed": GroupFactory(slug="gone", name="A closed fellowship", active=False),
    }


def in_person(group, name, at, *, weekday=TUESDAY, starts="19:00", **fields):
    found = MeetingFactory(
        group=group, name=name, latitude=at[0], longitude=at[1], municipality=name, **fields
    )
    MeetingSlotFactory(meeting=found, weekday=weekday, starts=dt.time.fromisoformat(starts))
    return found


def online(group, name, *, weekday=TUESDAY, starts="19:30", zone="America/Toronto", **fields):
    found = MeetingFactory(
        group=group,
        name=name,
        attendance=Meeting.Attendance.ONLINE,
        online_url=f"https://meet.example.org/{normalise(name).replace(' ', '-')}",
        latitude=None,
        longitude=None,
        location="",
        address="",
        municipality="",
        postcode="",
        country="",
        **fields,
    )
    MeetingSlotFactory(
        meeting=found, weekday=weekday, starts=dt.time.fromisoformat(starts), timezone=zone
    )
    return found


def names(response) -> list[str]:
    """The meetings listed, in order."""
    found = re.findall(
        r'<h3 class="h6 mb-1">\s*(?:<a [^>]*>)?([^<]+?)\s*<', response.content.decode()
    )
    return [html.unescape(name) for name in found]


def announced(response) -> str:
    match = re.search(r'<p id="finder-status"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    assert match, "the page has no live region"
    return " ".join(match.group(1).split())


def test_meetings_in_person_are_those_within_the_radius_nearest_first(
    counsellor_client, gazetteer, groups
):
    in_person(groups["na"], "Oslo Group", OSLO)
    in_person(groups["aa"], "Mjøndalen Group", MJONDALEN)
    in_person(groups["na"], "Drammen Group", (59.7450, 10.2100))

    near = counsellor_client.get(URL, {"place": "Drammen", "attendance": "in_person"})

    assert names(near) == ["Drammen Group", "Mjøndalen Group"]
    # The radius not given is the default, and the form shows it.
    assert '<option value="25" selected>' in near.content.decode()
    assert announced(near) == "Found 2 meetings within 25 km of Drammen."
    assert "0.3 km away" in near.content.decode()
    assert "10.5 km away" in near.content.decode()

    wider = counsellor_client.get(
        URL, {"place": "Drammen", "radius": 50, "attendance": "in_person"}
    )
    assert names(wider) == ["Drammen Group", "Mjøndalen Group", "Oslo Group"]
    assert "36.0 km away" in wider.content.decode()
    assert announced(wider) == "Found 3 meetings within 50 km of Drammen."


def test_days_and_times_of_day_go_by_the_meetings_own_clock(counsellor_client, groups):
    # Tuesday 19:30 in Toronto is 01:30 on Wednesday in Oslo.
    online(groups["na"], "Toronto Tuesday Evening")
    online(groups["aa"], "Oslo Tuesday Morning", starts="09:00", zone="Europe/Oslo")
    search = {"attendance": "online"}

    assert names(counsellor_client.get(URL, {**search, "day": TUESDAY, "time": "evening"})) == [
        "Toronto Tuesday Evening"
    ]
    assert names(counsellor_client.get(URL, {**search, "day": WEDNESDAY})) == []
    assert names(counsellor_client.get(URL, {**search, "time": "morning"})) == [
        "Oslo Tuesday Morning"
    ]
    assert names(counsellor_client.get(URL, {**search, "time": "afternoon"})) == []
    both_days = counsellor_client.get(URL, {**search, "day": [MONDAY, TUESDAY]})
    assert names(both_days) == ["Toronto Tuesday Evening", "Oslo Tuesday Morning"]


def test_each_start_is_given_on_its_own_clock_and_on_the_counsellors(counsellor_client, groups):
    online(groups["na"], "Toronto Tuesday Evening")
    online(groups["aa"], "Oslo Next Monday", weekday=MONDAY, starts="18:00", zone="Europe/Oslo")

    page = counsellor_client.get(URL, {"attendance": "online"}).content.decode()

    # Soonest first: Tuesday in Toronto, then next Monday in Oslo.
    assert page.index("Toronto Tuesday Evening") < page.index("Oslo Next Monday")
    assert "Tue 8 Dec 19:30 Toronto time" in page
    assert "01:30 Wed in Oslo" in page
    assert '<time datetime="2026-12-08T19:30:00-05:00">' in page
    assert "Mon 14 Dec 18:00</time>" in page


def test_clock_times_name_the_day_only_when_it_differs():
    starts = dt.datetime(2026, 12, 8, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    toronto = starts.astimezone(ZoneInfo("America/Toronto"))
    assert clock_times(toronto, "America/Toronto", "Europe/Oslo") == (
        "Tue 8 Dec 13:00 Toronto time",
        "19:00 in Oslo",
    )
    berlin = toronto.astimezone(ZoneInfo("Europe/Berlin"))
    # The same wall clock as Oslo's: said once.
    assert clock_times(berlin, "Europe/Berlin", "Europe/Oslo") == ("Tue 8 Dec 19:00", "")


def test_online_leaves_out_meetings_in_person_and_asks_nothing_of_wheelchairs(
    counsellor_client, gazetteer, groups
):
    in_person(groups["na"], "Step-free Group", (59.7450, 10.2100), wheelchair_access=True)
    in_person(groups["na"], "Stairs Group", (59.7460, 10.2100), wheelchair_access=False)
    online(groups["aa"], "Online Group")

    only_online = counsellor_client.get(
        URL, {"attendance": "online", "place": "Drammen", "wheelchair": "on"}
    )
    assert names(only_online) == ["Online Group"]
    assert announced(only_online) == "Found 1 online meeting."
    assert "km away" not in only_online.content.decode()

    both = counsellor_client.get(
        URL, {"attendance": "either", "place": "Drammen", "wheelchair": "on"}
    )
    assert names(both) == ["Step-free Group", "Online Group"]
    assert announced(both) == "Found 1 meeting within 25 km of Drammen and 1 online meeting."
    assert "wheelchair access" in both.content.decode()


def test_a_language_keeps_meetings_in_it_and_then_those_that_state_none(counsellor_client, groups):
    online(groups["na"], "Dutch Group", languages="nl", starts="20:00")
    online(groups["na"], "Unstated Group", languages="", starts="19:00")
    online(groups["na"], "Norwegian Group", languages="nb", starts="18:00")

    dutch = counsellor_client.get(URL, {"attendance": "online", "language": "nl"})

    assert names(dutch) == ["Dutch Group", "Unstated Group"]
    page = counsellor_client.get(URL).content.decode()
    offered = re.search(r'<select name="language".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="(\w*)"', offered) == ["", "nl", "nb"]  # Dutch, Norwegian


def test_women_only_keeps_meetings_for_women(counsellor_client, groups):
    online(groups["na"], "Women's Group", women_only=True)
    online(groups["na"], "Mixed Group")

    response = counsellor_client.get(URL, {"attendance": "online", "women": "on"})

    assert names(response) == ["Women's Group"]
    assert "women only" in response.content.decode()


def test_a_group_narrows_the_search_and_only_active_fellowships_are_offered(
    counsellor_client, groups
):
    online(groups["na"], "NA Online")
    online(groups["aa"], "AA Online")
    online(groups["trauma"], "Trauma Online")

    response = counsellor_client.get(URL, {"attendance": "online", "group": "aa"})

    assert names(response) == ["AA Online"]
    offered = re.search(r'<select name="group".*?</select>', response.content.decode(), re.S)
    assert re.findall(r'<option value="([\w-]*)"', offered.group(0)) == ["", "aa", "na"]
    everything = counsellor_client.get(URL, {"attendance": "online"})
    assert names(everything) == ["NA Online", "AA Online"]


def test_an_unknown_place_says_so_naming_the_field(counsellor_client, gazetteer, groups):
    response = counsellor_client.get(URL, {"place": "Atlantis"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Town, municipality or postcode</a>: No place called “Atlantis” is known." in page
    assert announced(response) == "Nothing was searched. No place called “Atlantis” is known."


def test_an_ambiguous_place_offers_each_candidate_as_a_search_of_its_own(
    outsider_client, gazetteer, groups
):
    # The outsider's clinic is in Belgium, which has no Bergen of this name to prefer.
    in_person(groups["na"], "Bryggen Group", (60.3960, 5.3240))
    in_person(groups["na"], "Noord-Holland Group", (52.6700, 4.7000))

    response = outsider_client.get(URL, {"place": "Bergen", "radius": 10, "group": "na"})

    assert announced(response).startswith("Nothing was searched. “Bergen” could be several")
    links = re.findall(
        r'<a class="btn btn-sm btn-outline-primary" href="([^"]+)">([^<]+)</a>',
        response.content.decode(),
    )
    assert [label for _url, label in links] == [
        "Bergen (Vestland, Norway)",
        "Bergen (North Holland, Netherlands)",
    ]
    chosen = outsider_client.get(html.unescape(links[1][0]))
    assert names(chosen) == ["Noord-Holland Group"]
    assert announced(chosen).startswith("Found 1 meeting within 10 km of Bergen")


def test_the_clinics_country_decides_between_places_of_one_name(
    counsellor_client, gazetteer, groups
):
    in_person(groups["na"], "Bryggen Group", (60.3960, 5.3240))

    response = counsellor_client.get(URL, {"place": "Bergen", "attendance": "in_person"})

    assert names(response) == ["Bryggen Group"]


def test_the_organisations_own_examples_are_marked_and_others_unseen(
    counsellor_client, organisation, other_organisation, groups
):
    online(groups["na"], "Our Example", organisation=organisation, is_example=True)
    online(groups["na"], "Their Example", organisation=other_organisation, is_example=True)
    online(groups["na"], "Reference Meeting")

    response = counsellor_client.get(URL, {"attendance": "online"})

    assert names(response) == ["Our Example", "Reference Meeting"]
    assert "Invented for demonstration" in response.content.decode()


def test_retired_meetings_and_inactive_groups_are_not_offered(counsellor_client, groups):
    online(groups["na"], "Retired", retired_at=NOW)
    online(groups["closed"], "Inactive group")

    assert names(counsellor_client.get(URL, {"attendance": "online"})) == []


def test_results_come_twenty_to_a_page(counsellor_client, groups):
    # Every 50 minutes on Wednesday, from midnight.
    for number in range(25):
        starts = f"{number * 50 // 60:02d}:{number * 50 % 60:02d}"
        online(
            groups["na"],
            f"Meeting {number:02d}",
            starts=starts,
            zone="Europe/Oslo",
            weekday=WEDNESDAY,
        )

    first = counsellor_client.get(URL, {"attendance": "online"})
    second = counsellor_client.get(URL, {"attendance": "online", "page": 2})

    assert names(first) == [f"Meeting {number:02d}" for number in range(20)]
    assert names(second) == [f"Meeting {number:02d}" for number in range(20, 25)]
    assert "Page 2 of 2" in second.content.decode()
    assert announced(second) == "Found 25 online meetings."


def test_htmx_gets_the_results_and_the_announcement_only(counsellor_client, groups):
    online(groups["na"], "Online Group")

    response = counsellor_client.get(URL, {"attendance": "online"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert "<form" not in page and '<div id="finder-results">' in page
    assert '<p id="finder-status" hx-swap-oob="innerHTML">Found 1 online meeting.</p>' in page
    assert "HX-Request" in response["Vary"]


def test_the_page_works_without_javascript_and_is_a_get_form(counsellor_client, groups):
    page = counsellor_client.get(URL).content.decode()

    assert '<form method="get" action="/catalog/meetings/find/" id="finder-form"' in page
    assert 'role="status"' in page
    assert "<fieldset" in page and "<legend" in page
    assert 'name="radius"' in page and '<option value="25" selected>' in page


def test_the_intake_can_link_here_with_place_radius_group_and_attendance(
    counsellor_client, gazetteer, groups
):
    in_person(groups["na"], "Drammen Group", (59.7450, 10.2100))
    in_person(groups["aa"], "AA Drammen", (59.7450, 10.2110))

    response = counsellor_client.get(f"{URL}?place=Drammen&radius=10&group=na&attendance=in_person")

    assert names(response) == ["Drammen Group"]


@pytest.mark.parametrize(
    ("client", "status"),
    [
        ("counsellor_client", 200),
        ("supervisor_client", 200),
        ("admin_client_", 200),
        ("no_role_client", 403),
    ],
)
def test_anyone_who_can_read_the_catalog_may_search(request, client, status, groups):
    assert request.getfixturevalue(client).get(URL).status_code == status


def test_queries_do_not_grow_with_the_meetings(counsellor_client, gazetteer, groups, max_queries):
    in_person(groups["na"], "One", (59.7450, 10.2100))
    online(groups["aa"], "Online one")
    search = {"place": "Drammen", "attendance": "either", "language": "nb"}
    with max_queries(12) as few:
        counsellor_client.get(URL, search)
    for number in range(30):
        in_person(groups["na"], f"Near {number}", (59.74 + number / 1000, 10.21), languages="nb")
        online(groups["aa"], f"Online {number}", weekday=number % 7, languages="nb en")
    with max_queries(few.number):
        response = counsellor_client.get(URL, search)
    assert len(names(response)) == 20
