"""Meetings imported from the fellowships' own feeds (Meeting Guide, BMLT, our CSV)
through the curation engine: the commands, the plan, derived availability, refresh."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from catalog import meeting_import
from catalog.feeds import bmlt, csv, meeting_guide, parse
from catalog.feeds.base import FeedMeeting
from catalog.models import Availability, Meeting, MeetingFeed, MeetingSlot, Source
from catalog.openformats import MEETING_GUIDE_LANGUAGES, meeting_guide_types
from tests.factories import (
    AvailabilityFactory,
    GroupFactory,
    MeetingFeedFactory,
    SourceFactory,
    UserFactory,
)

DATA = Path(__file__).parent / "data"
ONTARIO = DATA / "meeting-guide-ontario-2017.json"
YAP = DATA / "bmlt-yap-finger-lakes-monday.json"
SEZF = DATA / "bmlt-sezf-one-meeting.json"
BMLT_EXAMPLE = DATA / "bmlt-example.json"
TEMPLATE = Path(__file__).resolve().parents[2] / "catalog" / "data" / "meeting-template.csv"
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
# Meeting Guide's days (0 = Sunday) as the catalog's (0 = Monday).
CATALOG_DAY = {0: 6, 1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def aa(db):
    return GroupFactory(slug="aa", name="Alcoholics Anonymous")


@pytest.fixture
def na(db):
    return GroupFactory(slug="na", name="Narcotics Anonymous")


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_meetings", *args, stdout=out)
    return out.getvalue()


def import_ontario(path: Path = ONTARIO, *args: str) -> str:
    return run(
        str(path),
        "--format",
        "meeting-guide",
        "--group",
        "aa",
        "--timezone",
        "America/Toronto",
        "--feed",
        "aa-quinte",
        *args,
    )


def make_feed(**fields):
    return MeetingFeedFactory(**fields)


def make_availability(**fields):
    return AvailabilityFactory(**fields)


def history_rows() -> int:
    return sum(
        model.history.count() for model in (Meeting, MeetingSlot, Availability, MeetingFeed, Source)
    )


def feed_file(tmp_path: Path, rows: list[Any], name: str = "aa-quinte.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def ontario_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ONTARIO.read_text(encoding="utf-8"))
    return rows


def mg(**fields: object) -> dict[str, Any]:
    """An invented Meeting Guide row; tests give what they are about."""
    return {
        "slug": "1",
        "name": "Example meeting",
        "day": 1,
        "time": "19:00",
        "city": "Exampletown",
        "latitude": 59.9,
        "longitude": 10.7,
        **fields,
    }


def read(rows: list[Any], **options: str):
    return meeting_guide.parse(json.dumps(rows).encode(), name="feed.json", **options)


def messages(problems) -> list[str]:
    return [str(problem) for problem in problems]


# --- Meeting Guide: the real Ontario feed -----------------------------------------------


def test_the_ontario_feed_is_imported_whole(aa):
    started = time.perf_counter()
    output = import_ontario()
    seconds = time.perf_counter() - started
    print(f"\nOntario feed, 45 meetings: first import {seconds:.2f} s")
    assert output.strip().endswith(
        "aa-quinte: 45 created, 0 updated, 0 retired, 0 unchanged, 0 left out; "
        "availability by country: 1 updated."
    )
    feed = MeetingFeed.objects.get(key="aa-quinte")
    assert (feed.group, feed.timezone, feed.refreshed_at) == (aa, "America/Toronto", NOW)
    assert feed.source.key == "feed-aa-quinte"
    assert feed.source.title == "aa-quinte (meeting feed)"
    meetings = {m.external_id: m for m in Meeting.objects.filter(feed=feed)}
    assert len(meetings) == 45
    for row in ontario_rows():
        meeting = meetings[str(row["slug"])]
        assert meeting.name == row["name"]
        assert meeting.codes == row["types"]
        assert (meeting.latitude, meeting.longitude) == (row["latitude"], row["longitude"])
        slot = meeting.slots.get()
        assert slot.weekday == CATALOG_DAY[row["day"]], row["name"]
        assert (slot.starts.strftime("%H:%M"), slot.timezone) == (row["time"], "America/Toronto")
        assert meeting.openness == ("closed" if "C" in row["types"] else "open")
        assert meeting.wheelchair_access is (True if "X" in row["types"] else None)
    tweed = meetings["8"]
    assert (tweed.group, tweed.code_namespace, tweed.attendance) == (
        aa,
        "meeting-guide:aa",
        "in_person",
    )
    assert (tweed.location, tweed.address, tweed.municipality, tweed.country) == (
        "St Andrews Church",
        "55 Victoria St N",
        "Tweed",
        "CA",
    )
    assert tweed.slots.get().get_weekday_display() == "Tuesday"  # day 2
    assert tweed.source_updated == dt.datetime(2016, 5, 6, 15, 38, 25, tzinfo=dt.UTC)
    sunday = [m for m in meetings.values() if m.slots.get().weekday == 6]
    assert len(sunday) == sum(1 for row in ontario_rows() if row["day"] == 0) == 9


def test_the_ontario_feed_planned_names_each_meeting_as_a_curator_knows_it(aa):
    feed = meeting_import.ensure_feed(
        "aa-quinte", format="meeting-guide", group=aa, timezone="America/Toronto"
    )
    plan = meeting_import.plan_bytes(feed, ONTARIO.read_bytes(), now=NOW)
    assert plan.counts == {"create": 45}
    assert plan.changes[0].name == "Tweed Group (id 8) — Tue 19:30, Tweed"
    assert plan.skipped == [] and plan.notes == []
    assert not Meeting.objects.exists()


def test_a_second_import_of_the_same_feed_changes_nothing_and_writes_no_history(aa):
    import_ontario()
    history, entries = history_rows(), AuditEntry.objects.count()
    started = time.perf_counter()
    output = import_ontario()
    print(f"\nOntario feed again: {time.perf_counter() - started:.2f} s")
    assert "0 created, 0 updated, 0 retired, 45 unchanged, 0 left out" in output
    assert "availability by country: 0 updated" in output
    assert (history_rows(), AuditEntry.objects.count()) == (history, entries)


def test_a_meeting_gone_from_the_feed_is_retired_not_deleted_and_comes_back(aa, tmp_path):
    import_ontario()
    rows = ontario_rows()
    output = import_ontario(feed_file(tmp_path, rows[1:]))
    assert "0 created, 0 updated, 1 retired, 44 unchanged" in output
    tweed = Meeting.objects.get(external_id="8")
    assert tweed.retired_at == NOW
    assert tweed.slots.count() == 1
    assert not Meeting.objects.current().filter(pk=tweed.pk).exists()
    output = import_ontario(feed_file(tmp_path, rows))
    assert "0 created, 1 updated, 0 retired, 44 unchanged" in output
    tweed.refresh_from_db()
    assert tweed.retired_at is None
    assert Meeting.objects.current().filter(pk=tweed.pk).exists()


def test_a_changed_time_replaces_that_meetings_weekly_time_only(aa, tmp_path):
    import_ontario()
    rows = ontario_rows()
    rows[0]["time"] = "20:00"
    feed = MeetingFeed.objects.get(key="aa-quinte")
    plan = meeting_import.plan_bytes(feed, json.dumps(rows).encode(), now=NOW)
    assert [(c.action, c.name, c.fields) for c in plan.changing] == [
        ("update", "Tweed Group (id 8) — Tue 20:00, Tweed", ("weekly times",))
    ]
    meetings, slots = Meeting.history.count(), MeetingSlot.history.count()
    output = import_ontario(feed_file(tmp_path, rows))
    assert "0 created, 1 updated, 0 retired, 44 unchanged" in output
    assert Meeting.objects.get(external_id="8").slots.get().starts == dt.time(20)
    assert Meeting.history.count() == meetings  # the meeting's own fields did not change
    deleted, added = MeetingSlot.history.order_by("-history_id")[1], MeetingSlot.history.latest()
    assert (deleted.history_type, deleted.starts) == ("-", dt.time(19, 30))
    assert (added.history_type, added.starts) == ("+", dt.time(20))
    assert MeetingSlot.history.count() == slots + 2


def test_a_changed_field_is_updated_and_named(aa, tmp_path):
    import_ontario()
    rows = ontario_rows()
    rows[0].update(name="Tweed Group (new)", types=["O", "X"])
    feed = MeetingFeed.objects.get(key="aa-quinte")
    plan = meeting_import.plan_bytes(feed, json.dumps(rows).encode(), now=NOW)
    (change,) = plan.changing
    assert change.name == "Tweed Group (new) (id 8) — Tue 19:30, Tweed"
    assert set(change.fields) == {"name", "format codes", "open or closed", "wheelchair access"}
    plan.apply()
    tweed = Meeting.objects.get(external_id="8")
    assert (tweed.name, tweed.openness, tweed.wheelchair_access) == (
        "Tweed Group (new)",
        "open",
        True,
    )
    assert tweed.history.latest().history_change_reason == "Meeting feed import"


def test_a_dry_run_reports_and_writes_nothing(aa):
    output = import_ontario(ONTARIO, "--dry-run")
    assert "would create 45, update 0, retire 0, leave 0 unchanged; 0 left out" in output
    assert not Meeting.objects.exists()
    assert not MeetingFeed.objects.exists()
    assert not Source.objects.exists()


def test_an_import_is_recorded_in_the_audit_trail_in_a_few_queries(aa):
    with CaptureQueriesContext(connection) as queries:
        import_ontario()
    entries = AuditEntry.objects.filter(area="catalog")
    assert entries.filter(object_type="meeting", action="create").count() == 45
    assert entries.filter(object_type="meetingslot").count() == 45
    assert entries.filter(object_type="availability").count() == 1
    inserts = [q for q in queries.captured_queries if 'INSERT INTO "audit_auditentry"' in q["sql"]]
    # The feed's, its source's and every row's entries together, in batches (83 rows a
    # query on SQLite, whose queries take at most 999 parameters).
    assert len(inserts) <= 2
    assert len(queries) < 60


def test_an_import_failing_midway_writes_nothing(aa, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(meeting_import, "derive_availability", broken)
    entries = AuditEntry.objects.count()
    with pytest.raises(RuntimeError):
        import_ontario()
    assert not Meeting.objects.exists() and not MeetingSlot.objects.exists()
    assert not MeetingFeed.objects.exists() and not Source.objects.exists()
    assert AuditEntry.objects.count() == entries


# --- Meeting Guide: rows with problems, codes, attendance --------------------------------


def test_bad_rows_are_named_and_left_out_and_the_others_kept():
    parsed = read(
        [
            mg(slug="a", name="Good"),
            mg(slug=8, name="Tweed Group", time="25:00"),
            mg(slug="c", name="No day", day=7),
            mg(slug="d", name="Bad end", end_time="half past"),
            mg(slug="e", name="No place", city="", latitude=None, longitude=None),
            mg(slug="f", name="Far away", latitude=95, longitude=10),
            mg(slug="a", name="Again"),
            mg(slug="", name="No slug"),
            "not an object",
        ],
        timezone="Europe/Oslo",
    )
    assert [m.external_id for m in parsed.meetings] == ["a"]
    assert messages(parsed.skipped) == [
        "meeting 2 (“Tweed Group”, id 8): time “25:00” is not a time HH:MM",
        "meeting 3 (“No day”, id c): day “7” is not 0 (Sunday) to 6 (Saturday)",
        "meeting 4 (“Bad end”, id d): time “half past” is not a time HH:MM",
        "meeting 5 (“No place”, id e): no address, town or coordinates for a meeting in person",
        "meeting 6 (“Far away”, id f): coordinates “95, 10” are out of range",
        "meeting 7 (“Again”, id a): the identifier is already used by meeting 1 (“Good”, id a)",
        "meeting 8 (“No slug”): no slug (identifier)",
        "meeting 9: is not an object",
    ]


def test_a_row_without_any_time_zone_is_left_out_naming_the_remedy():
    parsed = read(
        [mg(slug="a"), mg(slug="b", timezone="Europe/Oslo"), mg(slug="c", timezone="Mars/Olympus")]
    )
    assert [m.external_id for m in parsed.meetings] == ["b"]
    assert messages(parsed.skipped) == [
        "meeting 1 (“Example meeting”, id a): no time zone: give one on the row, for the "
        "feed, or with --timezone",
        "meeting 3 (“Example meeting”, id c): time zone “Mars/Olympus” is unknown",
    ]


def test_the_rows_own_time_zone_wins_over_the_feeds():
    (meeting,) = read([mg(timezone="America/Vancouver")], timezone="Europe/Oslo").meetings
    assert meeting.slots[0][3] == "America/Vancouver"


def test_a_meeting_without_coordinates_is_kept_with_a_note():
    parsed = read([mg(latitude=None, longitude=None, address="Storgata 1")], timezone="Europe/Oslo")
    (meeting,) = parsed.meetings
    assert meeting.latitude is None and meeting.municipality == "Exampletown"
    assert messages(parsed.notes) == [
        "meeting 1 (“Example meeting”, id 1): no coordinates: kept, but it cannot be found by "
        "distance"
    ]


def test_unknown_codes_are_kept_unmapped_and_named_in_one_note():
    parsed = read(
        [mg(slug="a", types=["O", "ZZ", "SP"]), mg(slug="b", types=["ZZ", "Q1"])],
        timezone="Europe/Oslo",
    )
    assert [m.codes for m in parsed.meetings] == [["O", "ZZ", "SP"], ["ZZ", "Q1"]]
    assert parsed.skipped == []
    assert messages(parsed.notes) == [
        "format codes: “Q1” (1 meeting), “ZZ” (2 meetings): not codes of the Meeting Guide "
        "format; kept as the feed spells them, not mapped to the catalog's traits"
    ]


def test_meeting_guide_types_are_mapped_onto_the_catalogs_fields():
    parsed = read(
        [
            mg(slug="a", types=["C", "W", "A", "X", "NO", "EN"]),
            mg(slug="b", types=["O", "S", "FR", "DE", "NL"]),
            mg(slug="c", types=["O", "C"]),
            mg(slug="d", types=[]),
        ],
        timezone="Europe/Oslo",
    )
    a, b, c, d = parsed.meetings
    assert (a.openness, a.women_only, a.secular, a.wheelchair_access, a.languages) == (
        "closed",
        True,
        True,
        True,
        ["en", "nb"],
    )
    assert (b.openness, b.women_only, b.secular) == ("open", False, False)
    assert b.languages == ["de", "es", "fr", "nl"]
    assert (c.openness, d.openness, d.wheelchair_access, d.languages) == ("", "", None, [])
    assert "types say both open and closed: left unstated" in messages(parsed.notes)[0]


def test_every_language_type_is_a_reserved_code_and_the_export_maps_it_back():
    reserved = meeting_guide_types()
    for code, iso in meeting_guide.LANGUAGES.items():
        assert code in reserved, code
        assert MEETING_GUIDE_LANGUAGES[iso] == code


def test_conference_fields_make_a_meeting_online_or_hybrid():
    parsed = read(
        [
            mg(slug="a", conference_url="https://meet.example.org/a"),
            mg(
                slug="b", conference_phone="+47 22 00 00 00", city="", latitude=None, longitude=None
            ),
            mg(slug="c", attendance_option="online", conference_url="https://meet.example.org/c"),
            mg(slug="d", attendance_option="inactive"),
            mg(slug="e", conference_url="javascript:alert(1)"),
            mg(
                slug="f",
                day=[0, 6, 0],
                conference_url="https://meet.example.org/f",
                conference_phone_notes="PIN 1234",
                city="",
                latitude=None,
                longitude=None,
            ),
        ],
        timezone="Europe/Oslo",
    )
    a, b, c, e, f = parsed.meetings
    assert [m.attendance for m in (a, b, c, e, f)] == [
        "hybrid",
        "online",
        "online",
        "in_person",
        "online",
    ]
    assert e.online_url == ""
    assert [s[0] for s in f.slots] == [5, 6] and f.phone_notes == "PIN 1234"
    assert messages(parsed.notes) == [
        "meeting 4 (“Example meeting”, id d): inactive: not offered until the feed lists it again",
        "meeting 5 (“Example meeting”, id e): link “javascript:alert(1)” is not an http(s) "
        "address: left out",
    ]


def test_a_location_temporarily_closed_offers_only_its_online_part():
    parsed = read(
        [
            mg(slug="a", types=["TC", "O"], conference_url="https://meet.example.org/a"),
            mg(slug="b", types=["TC", "O"]),
        ],
        timezone="Europe/Oslo",
    )
    (online,) = parsed.meetings
    assert (online.external_id, online.attendance, online.municipality) == (
        "a",
        "online",
        "Exampletown",
    )
    assert parsed.skipped == []
    assert messages(parsed.notes) == [
        "meeting 2 (“Example meeting”, id b): location temporarily closed (TC) and no online "
        "part: not offered until the feed lists it open again"
    ]


def test_a_meeting_whose_location_closes_is_retired_and_offered_again_when_it_reopens(aa, tmp_path):
    import_ontario()
    rows = ontario_rows()
    rows[0]["types"] = ["C", "TC"]
    output = import_ontario(feed_file(tmp_path, rows))
    assert "1 retired" in output and "location temporarily closed" in output
    assert Meeting.objects.get(external_id="8").retired_at == NOW
    rows[0]["types"] = ["C"]
    import_ontario(feed_file(tmp_path, rows))
    assert Meeting.objects.get(external_id="8").retired_at is None


def test_country_names_and_codes_are_read_and_the_default_serves_rows_without():
    rows = [
        mg(slug="a", country="Canada"),
        mg(slug="b", country="USA"),
        mg(slug="c"),
        mg(slug="d", country="Atlantis"),
    ]
    parsed = read(rows, timezone="Europe/Oslo", country="NO")
    assert [m.country for m in parsed.meetings] == ["CA", "US", "NO", "NO"]
    assert messages(parsed.notes) == [
        "meeting 4 (“Example meeting”, id d): country “Atlantis” is not known: left empty"
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ('[{"name": "Bjørn"}]'.encode("latin-1"), "feed.json: is not UTF-8 text (byte 0xf8"),
        (
            b"<html>Not found</html>",
            "feed.json: is not valid JSON: a value is missing or is not JSON (line 1",
        ),
        (b'{"name": "one meeting"}', "feed.json: is not a list of meetings (Meeting Guide JSON)."),
    ],
)
def test_a_document_that_is_not_a_feed_is_refused_with_one_clear_message(data, error):
    from curation.imports import ImportRefused

    with pytest.raises(ImportRefused) as refused:
        meeting_guide.parse(data, name="feed.json")
    assert refused.value.errors[0].startswith(error)


# --- BMLT ------------------------------------------------------------------------------


def test_a_real_bmlt_response_is_read_with_its_servers_formats(na):
    output = run(
        str(YAP),
        "--format",
        "bmlt",
        "--group",
        "na",
        "--timezone",
        "America/New_York",
        "--country",
        "US",
        "--feed",
        "na-finger-lakes",
    )
    assert "53 created, 0 updated, 0 retired, 0 unchanged, 0 left out" in output
    assert "note:" not in output
    raw = {m["id_bigint"]: m for m in json.loads(YAP.read_text())["meetings"]}
    meetings = {m.external_id: m for m in Meeting.objects.filter(feed__key="na-finger-lakes")}
    assert set(meetings) == set(raw)
    first = meetings["2566"]
    assert (first.name, first.location, first.address) == (
        "Step up and Be Free",
        "Clifton springs Hospital",
        "128 Main street",
    )
    assert first.location_notes == "Admin Conference Room"
    assert (first.municipality, first.country, first.code_namespace) == (
        "Clifton Springs",
        "US",
        "bmlt:na",
    )
    assert (first.latitude, first.longitude) == (42.9613734, -77.1205486)
    assert first.codes == ["O", "RF", "To"] and first.openness == "open"
    slot = first.slots.get()
    assert (slot.weekday, slot.starts, slot.ends, slot.timezone) == (
        0,
        dt.time(19),
        None,
        "America/New_York",
    )
    assert all(m.slots.get().weekday == 0 for m in meetings.values())  # weekday_tinyint 2: Monday
    # "WC" is this server's key for the NAWS world id WCHR.
    wheelchair = {k for k, m in raw.items() if "WC" in m["formats"].split(",")}
    assert {k for k, m in meetings.items() if m.wheelchair_access} == wheelchair
    assert len(wheelchair) == 12
    assert all(m.attendance == "in_person" for m in meetings.values())


def test_a_real_bmlt_meeting_with_every_field(na):
    output = run(str(SEZF), "--format", "bmlt", "--group", "na")
    assert "1 created" in output
    assert "the response lists no formats (ask the server with get_used_formats=1)" in output
    meeting = Meeting.objects.get(external_id="6071")
    assert (meeting.name, meeting.country, meeting.postcode, meeting.languages) == (
        "7-ISH Group",
        "US",
        "28403",
        "en",
    )
    assert (meeting.openness, meeting.wheelchair_access) == ("open", True)  # O, WC
    assert meeting.location_notes == "Meets in the gymnasium."
    slot = meeting.slots.get()
    assert (slot.weekday, slot.starts, slot.ends, slot.timezone) == (
        6,
        dt.time(7),
        dt.time(8),
        "America/New_York",
    )


def test_bmlt_virtual_and_hybrid_meetings(na):
    run(str(BMLT_EXAMPLE), "--format", "bmlt", "--group", "na", "--timezone", "America/Toronto")
    meetings = {m.external_id: m for m in Meeting.objects.filter(feed__key="bmlt-example")}
    assert {k: m.attendance for k, m in meetings.items()} == {
        "101": "in_person",
        "102": "online",
        "103": "hybrid",
    }
    sunday = meetings["101"].slots.get()
    assert (sunday.weekday, sunday.starts, sunday.ends) == (6, dt.time(19), dt.time(20, 30))
    assert sunday.timezone == "America/Toronto"  # time_zone "": the feed's
    online = meetings["102"]
    assert (online.openness, online.women_only, online.languages) == ("closed", True, "es")
    assert online.latitude is None  # a virtual meeting's 0, 0
    assert online.slots.get().timezone == "America/New_York"
    late = meetings["103"].slots.get()
    assert (late.weekday, late.starts, late.ends) == (5, dt.time(23, 30), dt.time(0, 30))


def test_bmlt_codes_mean_what_their_world_ids_say_on_that_server():
    response = {
        "meetings": [
            {
                "id_bigint": "1",
                "meeting_name": "Example",
                "weekday_tinyint": "7",
                "start_time": "18:00:00",
                "location_municipality": "Exampletown",
                "formats": "X,Cl,ES,Zz,TC",
                "virtual_meeting_link": "https://meet.example.org/1",
            },
            {
                "id_bigint": "2",
                "meeting_name": "Example two",
                "weekday_tinyint": "8",
                "start_time": "18:00:00",
                "location_municipality": "Exampletown",
            },
            {
                "id_bigint": "3",
                "meeting_name": "Example three",
                "weekday_tinyint": "2",
                "start_time": "18:00:00",
                "location_municipality": "Exampletown",
                "published": "0",
            },
        ],
        "formats": [
            {"key_string": "X", "world_id": "WCHR"},
            {"key_string": "Cl", "world_id": "CLOSED"},
            {"key_string": "ES", "world_id": "LANG"},
            {"key_string": "TC", "world_id": "TC"},
        ],
    }
    parsed = bmlt.parse(json.dumps(response).encode(), name="bmlt.json", timezone="Europe/Oslo")
    (meeting,) = parsed.meetings
    assert (meeting.wheelchair_access, meeting.openness, meeting.languages) == (
        True,
        "closed",
        ["es"],
    )
    assert meeting.attendance == "online"  # temporarily closed, joinable online
    assert meeting.slots[0][0] == 5  # 7: Saturday
    assert messages(parsed.skipped) == [
        "meeting 2 (“Example two”, id 2): weekday “8” is not 1 (Sunday) to 7 (Saturday)"
    ]
    assert messages(parsed.notes) == [
        "meeting 3 (“Example three”, id 3): not published on its server: left out",
        "format codes: “Zz” (1 meeting): not codes of the formats this response lists; kept as "
        "the feed spells them, not mapped to the catalog's traits",
    ]


# --- CSV --------------------------------------------------------------------------------


def test_the_templates_example_rows_are_comments_and_valid_when_uncommented():
    data = TEMPLATE.read_bytes()
    header = data.decode().splitlines()[0].split(",")
    assert header[:4] == ["external_id", "group", "name", "weekday"]
    assert set(header) == set(csv.COLUMNS)
    assert parse("csv", data, name="meeting-template.csv").meetings == []
    uncommented = data.decode().replace("\n#example", "\nexample").encode()
    parsed = parse("csv", uncommented, name="meeting-template.csv")
    assert parsed.skipped == [] and parsed.notes == []
    assert [m.name.startswith("EXAMPLE (not a real meeting)") for m in parsed.meetings] == [
        True,
        True,
    ]
    assert [m.group for m in parsed.meetings] == ["na", "aa"]
    assert [[s[0] for s in m.slots] for m in parsed.meetings] == [[0], [3, 6]]


def test_a_csv_file_names_its_groups_per_row(aa, na, tmp_path):
    path = tmp_path / "oslo.csv"
    path.write_text(
        "external_id,group,name,weekday,starts,ends,timezone,attendance,address,municipality,"
        "country,online_url,languages,openness,wheelchair\n"
        "1,na,Mandagsgruppa,Monday,18:00,19:30,,in_person,Storgata 1,Oslo,NO,,nb,open,yes\n"
        "# a comment between rows\n"
        "2,aa,Nettmøtet,6,20:00,,,online,,,,https://meet.example.org/x,nb en,closed,no\n"
        "3,na,Feil,Funday,18:00,,,,,Oslo,NO,,,,\n"
        "4,xa,Ukjent,Monday,18:00,,,,,Oslo,NO,,,,\n"
        "5,,Uten gruppe,Monday,18:00,,,,,Oslo,NO,,,,\n",
        encoding="utf-8",
    )
    output = run(str(path), "--format", "csv", "--timezone", "Europe/Oslo")
    assert output.splitlines()[:3] == [
        "left out: meeting 3 (“Feil”, id 3), line 5: weekday “funday” is not Monday to Sunday "
        "or 0 (Monday) to 6 (Sunday)",
        "left out: meeting 4 (“Ukjent”, id 4), line 6: no group “xa” in the catalog",
        "left out: meeting 5 (“Uten gruppe”, id 5), line 7: no group: name it in the group "
        "column or for the feed",
    ]
    monday = Meeting.objects.get(external_id="1")
    assert (monday.group, monday.code_namespace, monday.codes) == (na, "csv:na", [])
    assert (monday.openness, monday.wheelchair_access) == ("open", True)
    assert monday.slots.get().timezone == "Europe/Oslo"
    online = Meeting.objects.get(external_id="2")
    assert (online.group, online.attendance, online.languages) == (aa, "online", "en nb")
    assert (online.wheelchair_access, online.slots.get().weekday) == (False, 6)
    assert Availability.objects.filter(source__feed__key="oslo").count() == 1


def test_a_csv_file_without_its_required_columns_is_refused(tmp_path):
    path = tmp_path / "meetings.csv"
    path.write_text("name;weekday\nA;Monday\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        run(str(path), "--format", "csv", "--timezone", "Europe/Oslo")
    assert "missing: external_id, name, weekday, starts" in str(refused.value)
    assert "uses semicolons" in str(refused.value)


# --- Derived availability -----------------------------------------------------------------


def test_availability_is_derived_per_group_and_country_beside_hand_curated_rows(aa, tmp_path):
    curated = SourceFactory(key="national-count")
    national = make_availability(
        group=aa, country="CA", region="", source=curated, in_person_per_week=1200
    )
    rows = [
        mg(slug="a", day=[1, 3], country="CA", types=["EN"], timezone="America/Toronto"),
        mg(
            slug="b",
            day=2,
            country="CA",
            types=["FR"],
            timezone="America/Toronto",
            conference_url="https://meet.example.org/b",
        ),
        mg(slug="c", day=2, country="US", timezone="America/New_York"),
        mg(
            slug="d",
            day=4,
            country="CA",
            city="",
            latitude=None,
            longitude=None,
            conference_url="https://meet.example.org/d",
            timezone="America/Toronto",
        ),
    ]
    import_ontario(feed_file(tmp_path, rows))
    feed = MeetingFeed.objects.get(key="aa-quinte")
    derived = {str(r.country): r for r in Availability.objects.filter(source=feed.source)}
    assert set(derived) == {"CA", "US"}
    canada = derived["CA"]
    assert (canada.group, canada.region, canada.verified_on) == (aa, "aa-quinte", NOW.date())
    assert canada.in_person_per_week == 3  # a: Monday and Wednesday; b: hybrid, Tuesday
    assert (canada.online, canada.languages) == ("yes", "en fr")
    assert (derived["US"].in_person_per_week, derived["US"].online) == (1, "no")
    national.refresh_from_db()
    assert (national.in_person_per_week, national.source, national.region) == (1200, curated, "")
    # The feed drops its US meeting: its US row goes, the national Canadian row stays.
    import_ontario(feed_file(tmp_path, rows[:2] + rows[3:]))
    assert set(
        Availability.objects.filter(source=feed.source).values_list("country", flat=True)
    ) == {"CA"}
    assert Availability.objects.filter(pk=national.pk).exists()
    assert Availability.history.filter(history_type="-", country="US").count() == 1


def test_a_feed_emptied_retires_its_meetings_and_removes_its_derived_availability(aa, tmp_path):
    import_ontario()
    feed = MeetingFeed.objects.get(key="aa-quinte")
    assert Availability.objects.get(source=feed.source).in_person_per_week == 45
    output = import_ontario(feed_file(tmp_path, []))
    assert "45 retired" in output
    assert Meeting.objects.filter(feed=feed, retired_at=NOW).count() == 45
    assert not Availability.objects.filter(source=feed.source).exists()


def test_a_row_of_another_source_holding_the_feeds_region_is_left_alone(aa):
    other = make_availability(group=aa, country="CA", region="aa-quinte", in_person_per_week=7)
    output = import_ontario()
    assert "availability in CA, region “aa-quinte”, is held by another source" in output
    other.refresh_from_db()
    assert other.in_person_per_week == 7


# --- A large feed -----------------------------------------------------------------------

# 50,000 with LARGE_FEED=1 (about a minute on SQLite); a tenth by default, so the suite
# stays fast. The times are printed (pytest -s), not asserted.
LARGE = 50_000 if os.environ.get("LARGE_FEED") else 5_000


def generated_feed(count: int, *, shift: int = 0) -> bytes:
    """Invented meetings, named and addressed as examples; ``shift`` moves every start."""
    places = [
        ("CA", "America/Toronto", 44.0, -77.0),
        ("US", "America/New_York", 42.8, -77.0),
        ("NO", "Europe/Oslo", 59.9, 10.7),
        ("NL", "Europe/Amsterdam", 52.4, 4.9),
        ("BE", "Europe/Brussels", 51.0, 3.7),
    ]
    rows = []
    for n in range(count):
        country, zone, lat, lon = places[n % 5]
        row = {
            "slug": f"gen-{n}",
            "name": f"Generated test meeting {n}",
            "day": [n % 7, (n + 3) % 7] if n % 10 == 0 else n % 7,
            "time": f"{(n + shift) % 24:02d}:{n * 5 % 60:02d}",
            "timezone": zone,
            "location": "Example hall",
            "address": f"{n} Example Street",
            "city": f"Exampletown {n % 300}",
            "country": country,
            "latitude": round(lat + n % 1000 / 1000, 6),
            "longitude": round(lon + n % 997 / 1000, 6),
            "types": ["C" if n % 2 else "O", "EN", *(["X"] if n % 3 == 0 else [])],
            "updated": "2026-01-01 10:00:00",
        }
        if n % 5 == 4:
            row["conference_url"] = f"https://meet.example.org/{n}"
        rows.append(row)
    return json.dumps(rows).encode()


def test_a_large_generated_feed_is_imported_in_bulk(aa, tmp_path):
    path = tmp_path / "generated.json"
    path.write_bytes(generated_feed(LARGE))
    timings = []
    for shift in (0, 0, 1):
        if shift:
            path.write_bytes(generated_feed(LARGE, shift=shift))
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            output = run(str(path), "--format", "meeting-guide", "--group", "aa")
        timings.append((time.perf_counter() - started, len(queries)))
        assert "0 left out" in output
    print(
        f"\n{LARGE:,} generated meetings ({path.stat().st_size / 2**20:.1f} MB): "
        + "; ".join(
            f"{what} {seconds:.1f} s in {count} queries"
            for what, (seconds, count) in zip(
                ("first import", "again unchanged", "every time moved"), timings, strict=True
            )
        )
    )
    assert Meeting.objects.filter(feed__key="generated").count() == LARGE
    assert MeetingSlot.objects.filter(meeting__feed__key="generated").count() == LARGE * 11 // 10
    # Bulk writes: queries grow with batches of rows (38 rows of 26 fields on SQLite,
    # whose queries take at most 999 parameters; 500 on PostgreSQL), not with rows.
    assert timings[0][1] < LARGE // 5
    assert timings[1][1] < 40


# --- Refreshing feeds ---------------------------------------------------------------------


class _Feeds(http.server.BaseHTTPRequestHandler):
    bodies = {"/quinte.json": ONTARIO.read_bytes(), "/garbage.json": b"<html>oops</html>"}

    def do_GET(self) -> None:
        body = self.bodies.get(self.path)
        if body is None:
            self.send_error(500)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_refresh_applies_every_feed_and_one_failing_does_not_stop_the_others(aa, server):
    good = make_feed(key="good", group=aa, url=f"{server}/quinte.json", timezone="America/Toronto")
    down = make_feed(
        key="down",
        group=aa,
        url=f"{server}/down.json",
        refreshed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    garbage = make_feed(key="garbage", group=aa, url=f"{server}/garbage.json")
    make_feed(key="paused", group=aa, url=f"{server}/quinte.json", active=False)
    make_feed(key="by-hand", group=aa, url="")
    out = StringIO()
    with pytest.raises(CommandError, match="Failed: down, garbage"):
        call_command("refresh_meetings", stdout=out)
    assert "good: 45 created, 0 updated" in out.getvalue()
    assert Meeting.objects.filter(feed=good).count() == 45
    assert not Meeting.objects.exclude(feed=good).exists()
    for feed in (good, down, garbage):
        feed.refresh_from_db()
    assert good.refreshed_at == NOW and good.last_report.startswith("45 created")
    assert down.refreshed_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the last that worked
    assert down.last_report == (
        f"FAILED at 2026-12-07 10:00; nothing changed:\n"
        f"{server}/down.json: answered HTTP 500 (Internal Server Error)."
    )
    assert garbage.refreshed_at is None
    assert f"{server}/garbage.json: is not valid JSON" in garbage.last_report
    out = StringIO()
    call_command("refresh_meetings", "--feed", "good", stdout=out)
    assert "good: 0 created, 0 updated, 0 retired, 45 unchanged" in out.getvalue()


def test_refresh_passes_over_a_feed_another_run_holds(aa, server, monkeypatch):
    make_feed(key="good", group=aa, url=f"{server}/quinte.json", timezone="America/Toronto")

    def held(feed):
        raise meeting_import.FeedBusy(feed.key)

    monkeypatch.setattr(meeting_import, "lock", held)
    out = StringIO()
    call_command("refresh_meetings", stdout=out)
    assert out.getvalue() == "good: passed over: another process is refreshing it.\n"
    assert not Meeting.objects.exists()


def test_refresh_exits_non_zero_when_a_feed_failed(aa, server):
    make_feed(key="down", group=aa, url=f"{server}/down.json")
    with pytest.raises(SystemExit) as exit:
        execute_from_command_line(["manage.py", "refresh_meetings"])
    assert exit.value.code == 1


def test_a_feed_is_held_while_it_is_applied(aa):
    feed = make_feed(key="good", group=aa)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        meeting_import.lock(feed)
    (query,) = queries.captured_queries
    assert 'FROM "catalog_meetingfeed"' in query["sql"]
    if connection.features.has_select_for_update_skip_locked:  # PostgreSQL
        assert "FOR UPDATE SKIP LOCKED" in query["sql"]


# --- The command's exit status ------------------------------------------------------------


def manage(*args: str) -> int:
    """The command's exit status, as a shell would see it. Run through call_command:
    the command-line entry point closes every database connection when it ends, which
    would end the test's own transaction on PostgreSQL."""
    try:
        call_command("import_meetings", *args)
    except CommandError as error:
        sys.stderr.write(f"CommandError: {error}\n")
        return error.returncode
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def test_the_command_exits_0_when_applied_even_with_rows_left_out(aa, tmp_path, capsys):
    path = feed_file(tmp_path, [mg(slug="a"), mg(slug="b", time="25:00")])
    assert (
        manage(str(path), "--format", "meeting-guide", "--group", "aa", "--timezone", "Europe/Oslo")
        == 0
    )
    assert "left out: meeting 2 (“Example meeting”, id b): time “25:00”" in capsys.readouterr().out
    assert Meeting.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "args", "error"),
    [
        ('[{"name": "Bjørn"}]'.encode("latin-1"), ("--group", "aa"), "is not UTF-8 text"),
        (b"[]", ("--group", "xa"), "No group with the slug “xa”."),
        (b"[]", ("--group", "aa", "--timezone", "Europe/Osl"), "“Europe/Osl” is not a time zone"),
        (b"[]", ("--group", "aa", "--country", "XQ"), "“XQ” is not a country code"),
        (b"[]", (), "Name the fellowship with --group."),
    ],
)
def test_the_command_exits_1_with_a_clear_message_when_refused(
    aa, tmp_path, capsys, content, args, error
):
    path = tmp_path / "feed.json"
    path.write_bytes(content)
    assert manage(str(path), "--format", "meeting-guide", *args) == 1
    assert error in capsys.readouterr().err
    assert not Meeting.objects.exists() and not MeetingFeed.objects.exists()


def test_the_command_refuses_a_feed_in_another_format(aa, tmp_path, capsys):
    import_ontario()
    assert manage(str(ONTARIO), "--format", "bmlt", "--feed", "aa-quinte") == 1
    assert "The feed “aa-quinte” is in the format meeting-guide." in capsys.readouterr().err


def test_a_missing_file_is_named(aa, capsys):
    assert manage("/nowhere/feed.json", "--format", "meeting-guide", "--group", "aa") == 1
    assert "/nowhere/feed.json: No such file or directory" in capsys.readouterr().err


# --- Feeds configured by admins -----------------------------------------------------------


@pytest.fixture
def superuser_client(client, organisation):
    user = UserFactory(username="root", organisation=organisation, is_staff=True, is_superuser=True)
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_an_admin_adds_a_feed_and_its_source_is_made_with_it(aa, superuser_client):
    response = superuser_client.post(
        "/admin/catalog/meetingfeed/add/",
        {
            "key": "aa-quinte",
            "name": "AA Quinte",
            "format": "meeting-guide",
            "url": "https://example.org/quinte.json",
            "group": aa.pk,
            "timezone": "America/Toronto",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    feed = MeetingFeed.objects.get(key="aa-quinte")
    assert (feed.source.key, feed.source.title, feed.source.url, feed.source.kind) == (
        "feed-aa-quinte",
        "AA Quinte (meeting feed)",
        "https://example.org/quinte.json",
        "primary",
    )
    page = superuser_client.get("/admin/catalog/meetingfeed/").content.decode()
    assert "AA Quinte" in page and "Meeting Guide JSON" in page
    change = superuser_client.get(f"/admin/catalog/meetingfeed/{feed.pk}/change/").content.decode()
    assert 'name="last_report"' not in change  # read-only


def test_renaming_a_feed_keeps_its_source_in_step(aa):
    feed = meeting_import.ensure_feed("aa-quinte", format="meeting-guide", group=aa)
    feed.name, feed.url = "AA Quinte", "https://example.org/q.json"
    meeting_import.sync_feed_source(feed)
    feed.source.refresh_from_db()
    assert (feed.source.title, feed.source.url) == (
        "AA Quinte (meeting feed)",
        "https://example.org/q.json",
    )


def test_a_feeds_source_key_taken_by_another_source_gets_a_number(aa):
    SourceFactory(key="feed-aa-quinte")
    feed = meeting_import.ensure_feed("aa-quinte", format="meeting-guide", group=aa)
    assert feed.source.key == "feed-aa-quinte-2"


# --- The CSV template download ------------------------------------------------------------


def test_a_catalog_admin_downloads_the_csv_template(admin_client_, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = admin_client_.get("/catalog/meetings/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="meeting-template.csv"' in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("external_id,group,name,weekday,starts,")
    assert "EXAMPLES ONLY" in body


@pytest.mark.parametrize("persona", ["counsellor_client", "supervisor_client", "outsider_client"])
def test_other_roles_cannot_download_the_template(persona, request):
    assert request.getfixturevalue(persona).get("/catalog/meetings/template.csv").status_code == 403


def test_nothing_is_fetched_while_serving_a_request(admin_client_, monkeypatch):
    def no_fetch(*args, **kwargs):
        raise AssertionError("fetched while serving a request")

    monkeypatch.setattr("curation.documents.fetch", no_fetch)
    assert admin_client_.get("/catalog/meetings/template.csv").status_code == 200


def test_feed_meeting_labels_read_as_a_curator_names_a_meeting():
    assert FeedMeeting(external_id="8", name="Tweed Group").label == "Tweed Group (id 8)"
