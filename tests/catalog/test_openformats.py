"""The catalog in open formats: the Meeting Guide feed and the HSDS 3.0 document are
valid against the schemas shipped in catalog/data/schemas/, say what the catalog
says, and hold only reference meetings that are offered."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from catalog.models import Group, Meeting, MeetingSlot
from catalog.openformats import (
    MEETING_GUIDE_LANGUAGES,
    SCHEMAS,
    hsds_document,
    hsds_id,
    meeting_guide_feed,
    meeting_guide_types,
)
from tests.factories import (
    GroupFactory,
    MeetingFactory,
    MeetingFeedFactory,
    MeetingSlotFactory,
    OrganisationFactory,
    SourceFactory,
    TraitValueFactory,
)

pytestmark = pytest.mark.django_db

MEETING_GUIDE = SCHEMAS / "meeting-guide"
UPSTREAM_ID = "https://raw.githubusercontent.com/code4recovery/spec/refs/heads/main/schema/"
OUR_ID = "urn:recovery-menu:meeting-guide:"
HSDS = SCHEMAS / "hsds-3.0"
HSDS_BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
# The draft's address patterns accept only a US address in plain ASCII letters.
US_ONLY_PATTERNS = ("formatted_address", "address", "city", "state", "postal_code")


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- The schemas ---------------------------------------------------------------------


def adapted_meeting_guide_schemas() -> dict[str, Any]:
    """The upstream draft schemas with the changes the schemas' README lists: our
    identifiers, the reserved types of data/types.json on main (newer than the draft,
    which lacks ten of them, Dutch among them), and no US-only address patterns."""
    upstream = MEETING_GUIDE / "upstream"
    adapted = {}
    for name in ("feed.schema.json", "meeting.schema.json", "meeting-type.schema.json"):
        text = (upstream / name).read_text(encoding="utf-8").replace(UPSTREAM_ID, OUR_ID)
        adapted[name] = json.loads(text)
    meeting = adapted["meeting.schema.json"]["properties"]
    for field in US_ONLY_PATTERNS:
        del meeting[field]["pattern"]
    current, proposed, changed = adapted["meeting-type.schema.json"]["items"]["anyOf"]
    current["enum"] = list(_read(upstream / "types.json"))
    proposed["enum"] = list(_read(upstream / "proposed-new.json"))
    changed["enum"] = [names["en"] for names in _read(upstream / "proposed-change.json").values()]
    note = "Adapted from the Code4Recovery draft (MIT): see catalog/data/schemas/README.md."
    return {
        name: {"$schema": schema.pop("$schema"), "$id": schema.pop("$id"), "$comment": note}
        | schema
        for name, schema in adapted.items()
    }


def meeting_guide_validator() -> Draft7Validator:
    registry: Registry[Any] = Registry()
    for name in ("feed.schema.json", "meeting.schema.json", "meeting-type.schema.json"):
        schema = _read(MEETING_GUIDE / name)
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema, DRAFT7))
    feed = _read(MEETING_GUIDE / "feed.schema.json")
    Draft7Validator.check_schema(feed)
    return Draft7Validator(feed, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)


def _closed(node: Any) -> Any:
    """additionalProperties false on every object, as HSDS validates its own examples
    (validate_examples_json_schema.sh): a misspelt field is an error, not an extra."""
    if isinstance(node, dict):
        closed = {key: _closed(value) for key, value in node.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


def hsds_validator() -> Draft202012Validator:
    """The export's page against the API Reference's Page, each service against the
    canonical service.json, its references resolved across the shipped files."""
    registry: Registry[Any] = Registry()
    for path in sorted(HSDS.glob("*.json")):
        contents = _read(path)
        if path.name != "openapi.json":
            contents = _closed(contents)
        registry = registry.with_resource(
            HSDS_BASE + path.name, Resource.from_contents(contents, DRAFT202012)
        )
    page = {
        "allOf": [{"$ref": HSDS_BASE + "openapi.json#/components/schemas/Page"}],
        "type": "object",
        "required": [
            "total_items",
            "total_pages",
            "page_number",
            "size",
            "first_page",
            "last_page",
            "empty",
            "contents",
        ],
        "properties": {
            "contents": {"type": "array", "items": {"$ref": HSDS_BASE + "service.json"}}
        },
    }
    return Draft202012Validator(
        page, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _errors(validator: Any, document: Any) -> list[str]:
    return [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_the_shipped_meeting_guide_schemas_are_the_upstream_draft_with_the_listed_changes():
    for name, schema in adapted_meeting_guide_schemas().items():
        assert _read(MEETING_GUIDE / name) == schema, name


def test_the_upstream_meeting_guide_example_is_valid_against_the_shipped_schema():
    example = _read(MEETING_GUIDE / "upstream" / "example.json")
    example.pop("$schema")
    assert _errors(meeting_guide_validator(), [example]) == []


def test_the_meeting_guide_schema_refuses_what_the_format_does_not_allow():
    bad = [{"name": "Tuesday", "slug": "1", "day": [7], "time": "7pm", "types": ["ONL"]}]
    fields = {error.split(":")[0] for error in _errors(meeting_guide_validator(), bad)}
    assert fields == {"0/day/0", "0/time", "0/types/0"}


def test_every_mapped_language_is_a_reserved_meeting_guide_type():
    assert set(MEETING_GUIDE_LANGUAGES.values()) <= set(meeting_guide_types())


# --- The Meeting Guide feed ---------------------------------------------------------


@pytest.fixture
def aa(db):
    return GroupFactory(slug="aa", name="Alcoholics Anonymous", languages="en nb")


def _feed() -> list[dict[str, Any]]:
    return meeting_guide_feed(Meeting.objects.all())


def _by_slug(feed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["slug"]: entry for entry in feed}


def test_the_feed_of_every_kind_of_meeting_is_valid_against_the_shipped_schema(aa):
    in_tromso = MeetingFactory.create(
        group=aa,
        name="Lørdagsmøtet",
        location="Blå Kors",
        address="Storgata 94",
        municipality="Tromsø",
        postcode="9008",
        latitude=69.6496,
        longitude=18.9553,
        openness="closed",
        wheelchair_access=True,
        notes="Ring på døra.",
    )
    MeetingSlotFactory(meeting=in_tromso, weekday=5, starts=dt.time(11), ends=None)
    online = MeetingFactory.create(
        group=aa,
        name="Online Sunday",
        attendance="online",
        location="",
        address="",
        municipality="",
        postcode="",
        country="",
        latitude=None,
        longitude=None,
        online_url="https://zoom.us/j/123456789",
        online_notes="Password: 1234",
        phone="+47 22 33 44 55",
        phone_notes="Meeting ID 123 456 789",
        languages="en",
    )
    MeetingSlotFactory(meeting=online, weekday=6, starts=dt.time(20), timezone="UTC")
    hybrid = MeetingFactory.create(
        group=aa, attendance="hybrid", online_url="https://meet.example.org/x", phone="ring us"
    )
    MeetingSlotFactory(meeting=hybrid)
    MeetingFactory(group=aa, name="By appointment")  # no weekly time

    feed = _feed()

    assert len(feed) == 4
    assert _errors(meeting_guide_validator(), feed) == []


def test_an_imported_meeting_guide_meeting_comes_back_as_the_feed_gave_it(aa):
    """A meeting as the Meeting Guide importer stores it (Sunday is the catalog's day 6)
    is exported with the day, times, zone, place and codes of the entry it came from."""
    entry = {
        "name": "Serenity at Noon",
        "slug": "serenity-at-noon",
        "day": 0,
        "time": "12:00",
        "end_time": "13:00",
        "timezone": "America/Toronto",
        "location": "St Thomas Church",
        "address": "201 Church St",
        "city": "Belleville",
        "postal_code": "K8N 3C5",
        "country": "CA",
        "latitude": 44.1628,
        "longitude": -77.3832,
        "types": ["D", "EN", "O", "ONL", "SP"],
        "notes": "Side door.",
    }
    feed = MeetingFeedFactory.create(key="aa-quinte", group=aa, timezone="America/Toronto")
    meeting = MeetingFactory.create(
        group=aa,
        feed=feed,
        external_id=entry["slug"],
        name=entry["name"],
        location=entry["location"],
        address=entry["address"],
        municipality=entry["city"],
        postcode=entry["postal_code"],
        country=entry["country"],
        latitude=entry["latitude"],
        longitude=entry["longitude"],
        notes=entry["notes"],
        languages="en",
        codes=entry["types"],
        code_namespace="meeting-guide:aa",
        openness="open",
    )
    MeetingSlotFactory(
        meeting=meeting,
        weekday=MeetingSlot.Weekday.SUNDAY,
        starts=dt.time(12),
        ends=dt.time(13),
        timezone="America/Toronto",
    )

    (exported,) = _feed()

    assert exported["slug"] == str(meeting.pk)
    assert exported["group"] == "Alcoholics Anonymous"
    assert exported["attendance_option"] == "in_person"
    same = {key: value for key, value in entry.items() if key not in ("slug", "types")}
    assert {key: exported[key] for key in same} == same
    # ONL is not a reserved code (the format infers online meetings from their links).
    assert exported["types"] == ["D", "EN", "O", "SP"]
    assert _errors(meeting_guide_validator(), [exported]) == []


def test_the_catalogs_own_fields_decide_the_types_and_a_foreign_vocabularys_codes_stay_out(aa):
    # Edited here after import: now closed, for women, with wheelchair access.
    from_feed = MeetingFactory.create(
        group=aa,
        codes=["O", "BE", "XYZ"],
        code_namespace="meeting-guide:aa",
        openness="closed",
        women_only=True,
        wheelchair_access=True,
        secular=True,
        languages="nl",
    )
    # BMLT's NA codes: "BT" and "SP" mean other things there.
    from_bmlt = MeetingFactory.create(group=aa, codes=["BT", "SP", "O"], code_namespace="bmlt:na")

    feed = _by_slug(_feed())

    assert feed[str(from_feed.pk)]["types"] == ["A", "BE", "C", "NL", "W", "X"]
    assert feed[str(from_bmlt.pk)]["types"] == ["NO"]


def test_days_count_from_sunday_and_days_at_one_time_share_a_listing(aa):
    meeting = MeetingFactory.create(group=aa)
    for weekday in (0, 2, 6):  # Monday, Wednesday, Sunday
        MeetingSlotFactory(meeting=meeting, weekday=weekday, starts=dt.time(18, 30), ends=None)

    (entry,) = _feed()

    assert entry["slug"] == str(meeting.pk)
    assert entry["day"] == [0, 1, 3]
    assert entry["time"] == "18:30"
    assert "end_time" not in entry


def test_a_meeting_at_several_times_is_one_listing_per_time_each_with_a_lasting_slug(aa):
    meeting = MeetingFactory.create(group=aa)
    MeetingSlotFactory(meeting=meeting, weekday=0, starts=dt.time(18), ends=dt.time(19))
    MeetingSlotFactory(meeting=meeting, weekday=5, starts=dt.time(11), ends=dt.time(12, 30))

    feed = _by_slug(_feed())

    assert set(feed) == {f"{meeting.pk}-1100", f"{meeting.pk}-1800"}
    saturday, monday = feed[f"{meeting.pk}-1100"], feed[f"{meeting.pk}-1800"]
    assert (saturday["day"], saturday["time"], saturday["end_time"]) == (6, "11:00", "12:30")
    assert (monday["day"], monday["time"], monday["end_time"]) == (1, "18:00", "19:00")


def test_online_meetings_give_their_link_and_a_dialable_number_and_no_place(aa):
    meeting = MeetingFactory.create(
        group=aa,
        attendance="online",
        online_url="https://zoom.us/j/1",
        phone="+47 (22) 33-44-55",
        phone_notes="PIN 1234",
    )
    MeetingSlotFactory(meeting=meeting)

    (entry,) = _feed()

    assert entry["conference_url"] == "https://zoom.us/j/1"
    assert entry["conference_phone"] == "+4722334455"
    assert entry["conference_phone_notes"] == "PIN 1234"
    assert entry["attendance_option"] == "online"
    assert not {"address", "city", "latitude", "location"} & set(entry)


def test_examples_retired_meetings_inactive_groups_and_an_organisations_own_are_left_out(aa):
    clinic = OrganisationFactory.create()
    offered = MeetingFactory.create(group=aa, name="Offered")
    MeetingFactory(group=aa, name="Retired", retired_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    MeetingFactory(group=aa, name="Invented", organisation=clinic, is_example=True)
    MeetingFactory(group=aa, name="The clinic's own", organisation=clinic)
    MeetingFactory(group=GroupFactory(active=False), name="Of a group that stopped")

    assert [entry["slug"] for entry in _feed()] == [str(offered.pk)]


# --- HSDS 3.0 ------------------------------------------------------------------------


def _service(document: dict[str, Any], group: Group) -> dict[str, Any]:
    return next(s for s in document["contents"] if s["id"] == hsds_id("service", group.pk))


def test_the_shipped_catalog_with_meetings_is_valid_hsds_3(reference_catalog):
    na = Group.objects.get(slug="na")
    hybrid = MeetingFactory.create(
        group=na,
        attendance="hybrid",
        online_url="https://zoom.us/j/42",
        phone="+4722334455",
        wheelchair_access=True,
        openness="open",
        codes=["BE"],
        code_namespace="meeting-guide:na",
    )
    MeetingSlotFactory(meeting=hybrid)
    MeetingSlotFactory(meeting=hybrid, weekday=3, starts=dt.time(19), ends=None)
    phone_only = MeetingFactory.create(
        group=na, attendance="online", online_url="", phone="+4799999999", latitude=None
    )
    MeetingSlotFactory(meeting=phone_only, timezone="Asia/Kolkata")
    Group.objects.filter(slug="aa").update(active=False)

    document = hsds_document()

    assert document["total_items"] == Group.objects.count() == len(document["contents"])
    assert _errors(hsds_validator(), document) == []


def test_the_hsds_validator_refuses_a_misspelt_or_missing_field(reference_catalog):
    document = hsds_document()
    service = document["contents"][0]
    service["organisation"] = service.pop("organization")
    del service["status"]
    errors = _errors(hsds_validator(), document)
    assert any("'status' is a required property" in error for error in errors)
    assert any("'organisation' was unexpected" in error for error in errors)


def test_each_group_is_a_service_of_its_own_organization_with_its_languages_and_traits(
    vocabulary,
):
    group = GroupFactory.create(
        slug="smart-recovery",
        name="SMART Recovery",
        description="Self-management and recovery training.",
        website="https://smartrecovery.org/",
        languages="en nb",
        active=False,
    )
    TraitValueFactory(group=group, source=SourceFactory(key="smart"))

    service = _service(hsds_document(), group)

    assert service["status"] == "inactive"
    assert service["url"] == "https://smartrecovery.org/"
    assert service["organization"]["name"] == "SMART Recovery"
    assert service["organization"]["description"] == "Self-management and recovery training."
    assert [language["code"] for language in service["languages"]] == ["en", "nb"]
    (trait,) = service["attributes"]
    assert trait["taxonomy_term"]["code"] == "sponsorship"
    assert trait["value"] == "yes"


def test_a_hybrid_meeting_is_offered_at_its_place_and_online_each_on_its_weekly_schedule(aa):
    meeting = MeetingFactory.create(
        group=aa,
        name="Tirsdagsmøtet",
        attendance="hybrid",
        online_url="https://zoom.us/j/7",
        wheelchair_access=True,
        women_only=True,
    )
    MeetingSlotFactory(meeting=meeting, weekday=1, starts=dt.time(18), ends=dt.time(19, 30))

    at_place, online = _service(hsds_document(), aa)["service_at_locations"]

    assert at_place["location"]["location_type"] == "physical"
    assert at_place["location"]["latitude"] == 59.9139
    assert at_place["location"]["addresses"][0]["city"] == "Oslo"
    assert at_place["location"]["accessibility"][0]["description"] == "Wheelchair access"
    assert online["location"] == {
        "id": online["location_id"],
        "location_type": "virtual",
        "url": "https://zoom.us/j/7",
        "name": "Online",
    }
    for entry, attending in ((at_place, "in person"), (online, "online")):
        (schedule,) = entry["schedules"]
        assert schedule["freq"] == "WEEKLY"
        assert schedule["byday"] == "TU"
        # Oslo keeps summer time: the wall-clock time, and the zone in words.
        assert (schedule["opens_at"], schedule["closes_at"]) == ("18:00", "19:30")
        assert "timezone" not in schedule
        assert "Europe/Oslo" in schedule["description"]
        assert schedule["attending_type"] == attending
        codes = [a["taxonomy_term"]["code"] for a in entry["attributes"]]
        assert codes == ["NO", "W", "X"]
        assert {a["taxonomy_term"]["name"] for a in entry["attributes"]} == {
            "Norwegian",
            "Women",
            "Wheelchair Access",
        }


def test_a_zone_without_summer_time_gives_its_offset(aa):
    MeetingSlotFactory(meeting__group=aa, starts=dt.time(19), ends=None, timezone="Asia/Kolkata")

    (entry,) = _service(hsds_document(), aa)["service_at_locations"]

    (schedule,) = entry["schedules"]
    assert schedule["timezone"] == 5.5
    assert schedule["opens_at"] == "19:00+05:30"


def test_meetings_at_one_place_share_its_location_and_identifiers_are_stable(aa):
    MeetingSlotFactory(meeting__group=aa)
    MeetingSlotFactory(meeting__group=aa, meeting__location="Kirkens hus ")

    first = hsds_document()
    places = [entry["location_id"] for entry in _service(first, aa)["service_at_locations"]]

    assert len(places) == 2
    assert len(set(places)) == 1
    assert hsds_document() == first


def test_hsds_leaves_out_examples_and_retired_meetings(aa):
    clinic = OrganisationFactory.create()
    MeetingFactory(group=aa, organisation=clinic, is_example=True)
    MeetingFactory(group=aa, retired_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    assert _service(hsds_document(), aa)["service_at_locations"] == []


# --- The pages -----------------------------------------------------------------------


def _meetings(group: Group, number: int) -> None:
    for _ in range(number):
        MeetingSlotFactory(meeting__group=group)


@pytest.mark.parametrize("number", [1, 50])
def test_a_counsellor_reads_the_meeting_guide_feed_in_the_browser(
    counsellor_client, aa, max_queries, number
):
    _meetings(aa, number)

    with max_queries(6):
        response = counsellor_client.get("/catalog/meetings.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'inline; filename="meetings.json"'
    feed = response.json()
    assert len(feed) == number
    assert _errors(meeting_guide_validator(), feed) == []


@pytest.mark.parametrize("number", [1, 50])
def test_a_supervisor_downloads_the_catalog_as_hsds(supervisor_client, aa, max_queries, number):
    _meetings(aa, number)

    with max_queries(8):
        response = supervisor_client.get("/catalog/hsds.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="recovery-menu-hsds-')
    document = response.json()
    assert len(_service(document, aa)["service_at_locations"]) == number
    assert _errors(hsds_validator(), document) == []


def test_the_feed_holds_reference_meetings_only_even_for_the_organisation_that_keeps_its_own(
    counsellor_client, outsider_client, aa, organisation
):
    offered = MeetingFactory.create(group=aa)
    MeetingFactory(group=aa, organisation=organisation, name="Oslo Clinic's own")

    for client in (counsellor_client, outsider_client):
        feed = client.get("/catalog/meetings.json").json()
        assert [entry["slug"] for entry in feed] == [str(offered.pk)]


@pytest.mark.parametrize("path", ["/catalog/meetings.json", "/catalog/hsds.json"])
def test_a_user_without_a_role_may_not_have_the_exports(no_role_client, path):
    assert no_role_client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/catalog/meetings.json", "/catalog/hsds.json"])
def test_a_visitor_who_is_not_logged_in_is_asked_to(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_import_and_export_page_links_both_open_formats(admin_client_):
    page = admin_client_.get("/catalog/import/").content.decode()
    assert 'href="/catalog/meetings.json"' in page
    assert 'href="/catalog/hsds.json"' in page
