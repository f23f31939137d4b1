"""The catalog's read-only API: GET /api/v1/groups and GET /api/v1/meetings with the
meeting finder's filters, each doing what it says, refused in the contract's shape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import ApiToken
from catalog.models import Place, PlaceName
from tests.factories import GroupFactory, MeetingFactory, MeetingSlotFactory

pytestmark = pytest.mark.django_db

# Monday 7 December 2026, noon in Oslo.
NOW = dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.UTC)
OSLO = {"latitude": 59.9139, "longitude": 10.7522}
NEAR_OSLO = "latitude=59.9139&longitude=10.7522"
DRAMMEN = {"latitude": 59.7441, "longitude": 10.2045}  # about 35 km from Oslo


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr("catalog.api.timezone.now", lambda: NOW)


@pytest.fixture
def groups(db):
    return {
        "aa": GroupFactory.create(slug="aa", name="Alcoholics Anonymous"),
        "na": GroupFactory.create(slug="na", name="Narcotics Anonymous"),
    }


def _meeting(group, name, *, weekday=0, at="18:00", **fields):
    meeting = MeetingFactory.create(group=group, name=name, **fields)
    MeetingSlotFactory.create(
        meeting=meeting, weekday=weekday, starts=dt.time.fromisoformat(at), ends=None
    )
    return meeting


@pytest.fixture
def meetings(groups):
    aa, na = groups["aa"], groups["na"]
    return {
        "monday": _meeting(aa, "Monday Evening", openness="open"),
        "saturday": _meeting(
            na,
            "Women's Saturday",
            weekday=5,
            at="11:00",
            languages="en",
            women_only=True,
            wheelchair_access=True,
        ),
        "drammen": _meeting(aa, "Drammen Monday", at="19:00", **DRAMMEN),
        "online": _meeting(
            na,
            "Online Tuesday",
            weekday=1,
            at="20:00",
            attendance="online",
            online_url="https://zoom.us/j/1",
            languages="en",
            latitude=None,
            longitude=None,
        ),
    }


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


def _refused(response) -> list[str]:
    assert response.status_code == 422, response.content
    return [problem["field"] for problem in response.json()["detail"]]


# --- Who may ask ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/groups", "/api/v1/meetings"])
def test_without_credentials_the_api_answers_401(path):
    response = Client().get(path)
    assert response.status_code == 401
    assert response.json()["detail"][0]["field"] == "authorization"


@pytest.mark.parametrize("path", ["/api/v1/groups", "/api/v1/meetings"])
def test_a_user_without_a_role_is_refused(no_role_client, path):
    response = no_role_client.get(path)
    assert response.status_code == 403
    assert response.json()["detail"][0]["field"] == "user"


def test_a_bearer_token_of_a_supervisor_reads_the_meetings(supervisor, meetings):
    _token, key = ApiToken.issue(supervisor, "finder")
    response = Client().get(
        f"/api/v1/meetings?{NEAR_OSLO}", headers={"Authorization": f"Bearer {key}"}
    )
    assert "Monday Evening" in _names(response)


# --- Groups --------------------------------------------------------------------------


def test_groups_are_listed_by_slug_a_page_at_a_time(counsellor_client, groups):
    GroupFactory.create(slug="wfs", name="Women for Sobriety", languages="en nb", active=False)

    first = counsellor_client.get("/api/v1/groups?limit=2").json()
    rest = counsellor_client.get("/api/v1/groups?limit=2&offset=2").json()

    assert first["count"] == rest["count"] == 3
    assert [group["slug"] for group in first["items"]] == ["aa", "na"]
    assert rest["items"] == [
        {
            "slug": "wfs",
            "name": "Women for Sobriety",
            "kind": "twelve_step",
            "website": "",
            "languages": ["en", "nb"],
            "active": False,
        }
    ]


def test_a_page_of_more_than_a_hundred_groups_is_refused(counsellor_client):
    assert _refused(counsellor_client.get("/api/v1/groups?limit=101")) == ["limit"]


@pytest.mark.parametrize("number", [1, 50])
def test_groups_cost_the_same_queries_however_many(counsellor_client, max_queries, number):
    for index in range(number):
        GroupFactory.create(slug=f"group-{index:03d}")
    with max_queries(6):
        response = counsellor_client.get("/api/v1/groups?limit=100")
    assert response.json()["count"] == number


# --- Meetings ------------------------------------------------------------------------


def test_meetings_near_a_point_come_nearest_first_within_the_radius_then_online(
    counsellor_client, meetings
):
    assert _names(counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}")) == [
        "Monday Evening",
        "Women's Saturday",
        "Online Tuesday",
    ]
    wider = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&radius_km=50")
    assert _names(wider) == [
        "Monday Evening",
        "Women's Saturday",
        "Drammen Monday",
        "Online Tuesday",
    ]


def test_a_meeting_gives_its_next_start_in_its_own_zone_and_where_it_is(
    counsellor_client, meetings
):
    body = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&attendance=in_person").json()

    assert body["near"] == {**OSLO, "label": "59.9139, 10.7522"}
    first = body["items"][0]
    assert first == {
        "id": str(meetings["monday"].pk),
        "group": "aa",
        "name": "Monday Evening",
        "starts": "2026-12-07T18:00:00+01:00",
        "timezone": "Europe/Oslo",
        "attendance": "in_person",
        "address": "Kirkens Hus, Storgata 1, 0155 Oslo",
        "online_url": "",
        "phone": "",
        "distance_km": 0.0,
        "languages": ["nb"],
        "types": ["open"],
        "example": False,
    }


def test_days_are_the_meetings_own(counsellor_client, meetings):
    saturday = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&day=saturday")
    assert _names(saturday) == ["Women's Saturday"]
    both = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&day=saturday&day=tuesday")
    assert _names(both) == ["Women's Saturday", "Online Tuesday"]


def test_the_time_window_keeps_meetings_starting_inside_it(counsellor_client, meetings):
    evening = counsellor_client.get(
        f"/api/v1/meetings?{NEAR_OSLO}&radius_km=50&starts_after=17:00&starts_before=19:00"
    )
    assert _names(evening) == ["Monday Evening"]


def test_women_only_keeps_only_meetings_for_women(counsellor_client, meetings):
    response = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&women_only=true")
    assert _names(response) == ["Women's Saturday"]


def test_wheelchair_access_keeps_meetings_in_person_that_have_it_and_those_online(
    counsellor_client, meetings
):
    response = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&wheelchair=true")
    assert _names(response) == ["Women's Saturday", "Online Tuesday"]


def test_a_language_keeps_meetings_in_it_and_those_that_state_none_after(
    counsellor_client, meetings
):
    _meeting(meetings["monday"].group, "Unstated", languages="")
    response = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&language=en")
    assert _names(response) == ["Women's Saturday", "Unstated", "Online Tuesday"]


def test_online_attendance_finds_meetings_joined_by_link_or_telephone(counsellor_client, meetings):
    hybrid = _meeting(meetings["monday"].group, "Hybrid", attendance="hybrid", phone="+4722334455")
    response = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&attendance=online")
    assert _names(response) == ["Hybrid", "Online Tuesday"]
    hybrid_item = response.json()["items"][0]
    assert (hybrid_item["distance_km"], hybrid_item["phone"]) == (None, hybrid.phone)
    # Without a point there is nothing to measure from: only meetings joined remotely.
    assert _names(counsellor_client.get("/api/v1/meetings")) == ["Hybrid", "Online Tuesday"]


def test_meetings_in_person_need_somewhere_to_measure_from(counsellor_client, meetings):
    assert _refused(counsellor_client.get("/api/v1/meetings?attendance=in_person")) == ["place"]


def test_groups_narrow_the_meetings_to_theirs(counsellor_client, meetings):
    response = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&group=na")
    assert _names(response) == ["Women's Saturday", "Online Tuesday"]
    unknown = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&group=na&group=xa")
    assert _refused(unknown) == ["group"]
    assert "xa" in unknown.json()["detail"][0]["message"]


def test_limit_caps_the_meetings_and_count_says_how_many_were_found(counsellor_client, meetings):
    body = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&limit=1").json()
    assert [item["name"] for item in body["items"]] == ["Monday Evening"]
    assert body["count"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("radius_km=0", "radius_km"),
        ("radius_km=301", "radius_km"),
        ("radius_km=far", "radius_km"),
        ("day=funday", "day"),
        ("day=monday&day=Sunday", "day"),
        ("starts_after=25:00", "starts_after"),
        ("starts_before=7pm", "starts_before"),
        ("starts_after=20:00&starts_before=18:00", "starts_before"),
        ("attendance=either", "attendance"),
        ("language=english", "language"),
        ("language=xx", "language"),
        ("latitude=59.9", "longitude"),
        ("latitude=91&longitude=10", "latitude"),
        ("women_only=perhaps", "women_only"),
        ("limit=101", "limit"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(counsellor_client, meetings, query, field):
    where = "" if "latitude" in query else f"{NEAR_OSLO}&"
    response = counsellor_client.get(f"/api/v1/meetings?{where}{query}")
    assert _refused(response) == [field]
    assert response.json()["detail"][0]["message"]


def test_an_organisation_sees_its_own_meetings_and_no_other_organisations(
    counsellor_client, outsider_client, meetings, organisation, other_organisation
):
    group = meetings["monday"].group
    _meeting(group, "Oslo Clinic's example", organisation=organisation, is_example=True)
    _meeting(group, "Ghent Service's own", organisation=other_organisation)

    ours = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&group=aa").json()["items"]
    theirs = _names(outsider_client.get(f"/api/v1/meetings?{NEAR_OSLO}&group=aa"))

    assert [(item["name"], item["example"]) for item in ours] == [
        ("Monday Evening", False),
        ("Oslo Clinic's example", True),
    ]
    assert theirs == ["Monday Evening", "Ghent Service's own"]


@pytest.mark.parametrize("number", [1, 50])
def test_meetings_cost_the_same_queries_however_many(
    counsellor_client, groups, max_queries, number
):
    for index in range(number):
        _meeting(groups["aa"], f"Meeting {index:03d}", weekday=index % 7)
        _meeting(
            groups["na"], f"Online {index:03d}", attendance="online", online_url="https://x.org/"
        )
    with max_queries(8):
        response = counsellor_client.get(f"/api/v1/meetings?{NEAR_OSLO}&group=aa&group=na")
    assert response.json()["count"] == 2 * number


# --- Places --------------------------------------------------------------------------


def _place(name: str, country: str, *, population: int, **position) -> Place:
    place = Place.objects.create(
        reference=f"test:{name}:{country}",
        name=name,
        country=country,
        population=population,
        **position,
    )
    PlaceName.objects.create(key=name.lower(), place=place)
    return place


def test_a_place_is_resolved_offline_and_meetings_measured_from_it(counsellor_client, meetings):
    _place("Drammen", "NO", population=100_000, **DRAMMEN)

    body = counsellor_client.get("/api/v1/meetings?place=Drammen&attendance=in_person").json()

    assert body["near"]["label"].startswith("Drammen")
    assert [(item["name"], item["distance_km"]) for item in body["items"]] == [
        ("Drammen Monday", 0.0)
    ]


def test_an_unknown_or_ambiguous_place_is_refused_naming_place_and_the_candidates(
    counsellor_client, meetings
):
    _place("Springfield", "US", population=1000, latitude=39.8, longitude=-89.6)
    _place("Springfield", "GB", population=900, latitude=51.5, longitude=-0.1)

    unknown = counsellor_client.get("/api/v1/meetings?place=Atlantis")
    ambiguous = counsellor_client.get("/api/v1/meetings?place=Springfield")
    both = counsellor_client.get(f"/api/v1/meetings?place=Springfield&{NEAR_OSLO}")

    assert _refused(unknown) == _refused(ambiguous) == _refused(both) == ["place"]
    message = ambiguous.json()["detail"][0]["message"]
    assert "United States" in message
    assert "United Kingdom" in message


# --- The schema ----------------------------------------------------------------------


def test_the_openapi_schema_documents_the_finders_parameters_and_refusals(client, db):
    schema = client.get("/api/v1/openapi.json").json()

    meetings = schema["paths"]["/api/v1/meetings"]["get"]
    parameters = {parameter["name"] for parameter in meetings["parameters"]}
    assert parameters == {
        "group",
        "place",
        "latitude",
        "longitude",
        "radius_km",
        "day",
        "starts_after",
        "starts_before",
        "attendance",
        "language",
        "women_only",
        "wheelchair",
        "limit",
    }
    assert set(meetings["responses"]) == {"200", "401", "403", "422"}
    groups = schema["paths"]["/api/v1/groups"]["get"]
    assert {parameter["name"] for parameter in groups["parameters"]} == {"limit", "offset"}
