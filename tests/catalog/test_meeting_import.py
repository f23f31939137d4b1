"""Meeting feeds imported through the curation engine: Meeting Guide, BMLT and CSV."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Availability, Meeting, MeetingFeed, MeetingSlot, Source
from curation.imports import ImportRefused
from tests.factories import (
    AvailabilityFactory,
    GroupFactory,
    MeetingFeedFactory,
    SourceFactory,
    UserFactory,
)

DATA = Path(__file__).parent / "data"
ONTARIO = DATA / "meeting-guide-ontario-2017.json"
BMLT = DATA / "bmlt-example.json"

pytestmark = pytest.mark.django_db


def history_rows() -> int:
    return int(Meeting.history.count() + MeetingSlot.history.count() + Availability.history.count())


def import_ontario(path: Path = ONTARIO, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(
        "import_meetings", str(path), "--format", "meeting-guide", "--group", "aa",
        "--timezone", "America/Toronto", "--feed", "aa-ontario", *args, stdout=out,
    )  # fmt: skip
    return out.getvalue()


@pytest.fixture
def aa(db):
    return GroupFactory(slug="aa", name="Alcoholics Anonymous")


def test_ontario_end_to_end(aa):
    started = time.perf_counter()
    output = import_ontario()
    elapsed = time.perf_counter() - started
    assert elapsed < 5
    feed = MeetingFeed.objects.get(key="aa-ontario")
    assert feed.source.key == "feed-aa-ontario"
    assert feed.source.title == "Aa Ontario (meeting feed)"
    assert feed.refreshed_at is not None
    assert "45 created" in output
    meetings = Meeting.objects.filter(feed=feed)
    assert meetings.count() == 45
    tweed = meetings.get(external_id="8")
    assert tweed.name == "Tweed Group"
    assert tweed.group == aa
    assert tweed.code_namespace == "meeting-guide:aa"
    assert tweed.openness == "closed"
    assert tweed.codes == ["C"]
    assert tweed.latitude == pytest.approx(44.4759824)
    assert tweed.longitude == pytest.approx(-77.3114402)
    assert tweed.municipality == "Tweed" and tweed.country == "CA"
    slot = tweed.slots.get()
    assert (slot.weekday, slot.starts, slot.timezone) == (1, dt.time(19, 30), "America/Toronto")
    raw = json.loads(ONTARIO.read_text())
    sunday = next(m for m in raw if m["day"] == 0)
    assert meetings.get(external_id=str(sunday["slug"])).slots.get().weekday == 6
    opened = next(m for m in raw if "O" in m["types"] and "X" in m["types"])
    meeting = meetings.get(external_id=str(opened["slug"]))
    assert meeting.openness == "open"
    assert meeting.wheelchair_access is True
    assert tweed.wheelchair_access is (True if "X" in raw[0]["types"] else None)


def test_second_import_changes_nothing(aa):
    import_ontario()
    before = history_rows()
    output = import_ontario()
    assert "0 created, 0 updated, 0 retired, 45 unchanged" in output
    assert history_rows() == before


def test_removed_meeting_retired_then_back(aa, tmp_path):
    import_ontario()
    raw = json.loads(ONTARIO.read_text())
    shorter = tmp_path / "aa-ontario.json"
    shorter.write_text(json.dumps(raw[1:]))
    output = import_ontario(shorter)
    assert "1 retired" in output
    tweed = Meeting.objects.get(external_id="8")
    assert tweed.retired_at is not None
    import_ontario()
    tweed.refresh_from_db()
    assert tweed.retired_at is None


def test_changed_time_updates_one_meeting(aa, tmp_path):
    import_ontario()
    raw = json.loads(ONTARIO.read_text())
    raw[0]["time"] = "20:00"
    changed = tmp_path / "aa-ontario.json"
    changed.write_text(json.dumps(raw))
    before = Meeting.history.count()
    output = import_ontario(changed)
    assert "0 created, 1 updated, 0 retired, 44 unchanged" in output
    assert Meeting.objects.get(external_id="8").slots.get().starts == dt.time(20)
    assert Meeting.history.count() == before  # only its weekly time changed


def test_dry_run_writes_nothing(aa):
    output = import_ontario(ONTARIO, "--dry-run")
    assert "Would create 45" in output
    assert not Meeting.objects.exists()
    assert not MeetingFeed.objects.exists()


def test_bmlt(db):
    GroupFactory(slug="na")
    call_command(
        "import_meetings", str(BMLT), "--format", "bmlt", "--group", "na",
        "--timezone", "America/Toronto",
    )  # fmt: skip
    feed = MeetingFeed.objects.get(key="bmlt-example")
    meetings = {m.external_id: m for m in Meeting.objects.filter(feed=feed)}
    assert {k: m.attendance for k, m in meetings.items()} == {
        "101": "in_person",
        "102": "online",
        "103": "hybrid",
    }
    sunday = meetings["101"].slots.get()
    assert (sunday.weekday, sunday.starts, sunday.ends) == (6, dt.time(19), dt.time(20, 30))
    assert sunday.timezone == "America/Toronto"
    assert meetings["101"].openness == "open" and meetings["101"].wheelchair_access is True
    assert meetings["101"].codes == ["O", "WCHR", "JFT"]
    assert meetings["101"].code_namespace == "bmlt:na"
    online = meetings["102"]
    assert online.openness == "closed" and online.women_only
    assert online.languages == "es" and online.latitude is None
    slot = online.slots.get()
    assert (slot.weekday, slot.timezone) == (2, "America/New_York")
    late = meetings["103"].slots.get()
    assert (late.weekday, late.starts, late.ends) == (5, dt.time(23, 30), dt.time(0, 30))
    assert meetings["103"].online_url == "https://meet.example.org/saturday"


def test_malformed_rows_reported_and_others_imported(db, tmp_path):
    from catalog.feeds import parse_meeting_guide

    rows = [
        {"name": "Good", "slug": "a", "day": 1, "time": "19:00", "city": "Oslo", "types": ["ZZ"]},
        {"name": "Tweed Group", "slug": 8, "day": 2, "time": "25:00", "city": "Tweed"},
        {"name": "Again", "slug": "a", "day": 3, "time": "10:00", "city": "Oslo"},
        {"name": "Online", "slug": "c", "day": [0, 6], "time": "08:00", "conference_url": "https://x.example"},
        {"name": "Closed", "slug": "d", "day": 1, "time": "09:00", "city": "Oslo", "types": ["TC"]},
    ]  # fmt: skip
    data = json.dumps(rows).encode()
    records, problems = parse_meeting_guide(data, timezone="Europe/Oslo", name="f.json")
    messages = [str(p) for p in problems]
    assert "meeting 2 (“Tweed Group”, id 8): time “25:00” is not a time HH:MM" in messages
    assert any(m.startswith("meeting 3 (“Again”, id a)") for m in messages)
    assert any(m.startswith("meeting 5") and "temporarily closed" in m for m in messages)
    assert [r.external_id for r in records] == ["a", "c"]
    assert records[0].codes == ["ZZ"]
    assert records[1].attendance == "online"
    assert sorted(s[0] for s in records[1].slots) == [5, 6]
    _records, problems = parse_meeting_guide(data, timezone="", name="f.json")
    assert any("time zone" in str(p) for p in problems)
    path = tmp_path / "f.json"
    path.write_bytes(data)
    GroupFactory(slug="aa")
    out = __import__("io").StringIO()
    call_command(
        "import_meetings", str(path), "--format", "meeting-guide", "--group", "aa",
        "--timezone", "Europe/Oslo", stdout=out,
    )  # fmt: skip
    assert "skipped meeting 2 (“Tweed Group”, id 8)" in out.getvalue()
    assert Meeting.objects.count() == 2


def test_non_utf8_refused(db, tmp_path):
    GroupFactory(slug="aa")
    path = tmp_path / "feed.csv"
    path.write_bytes("external_id,name,weekday,starts\n1,Bjørn,Monday,18:00\n".encode("latin-1"))
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("import_meetings", str(path), "--format", "csv", "--group", "aa",
                     "--timezone", "Europe/Oslo")  # fmt: skip
    assert not Meeting.objects.exists()


def test_csv_template_rows(db):
    from catalog.feeds import parse_csv

    template = Path(__file__).resolve().parents[2] / "catalog" / "data" / "meeting-template.csv"
    records, problems = parse_csv(template.read_bytes(), timezone="", name="template.csv")
    assert problems == []
    assert len(records) == 2
    assert all("Example" in r.name for r in records)


def test_derived_availability(aa):
    SourceFactory(key="hand-curated")
    curated = Source.objects.get(key="hand-curated")
    AvailabilityFactory(group=aa, country="NO", source=curated, in_person_per_week=3)
    other = Availability.objects.get(source=curated)
    import_ontario()
    feed = MeetingFeed.objects.get(key="aa-ontario")
    row = Availability.objects.get(source=feed.source)
    assert (row.country, row.region) == ("CA", feed.name)
    assert row.in_person_per_week == 45
    assert row.online == "no"
    assert row.verified_on == dt.date.today()
    other.refresh_from_db()
    assert other.in_person_per_week == 3 and other.source == curated


def test_refresh_with_one_failing_feed(aa, monkeypatch):
    MeetingFeedFactory(key="good", group=aa, url="https://good.example/feed.json",
                              timezone="America/Toronto")  # fmt: skip
    good = MeetingFeed.objects.get(key="good")
    MeetingFeedFactory(key="bad", group=aa, url="https://bad.example/feed.json")

    def fake_fetch(url, *, max_bytes, timeout=30):
        if "bad" in url:
            raise ImportRefused([f"{url}: answered HTTP 500 (Server Error)."])
        return ONTARIO.read_bytes()

    monkeypatch.setattr("curation.documents.fetch", fake_fetch)
    with pytest.raises(CommandError, match="bad"):
        call_command("refresh_meetings")
    assert Meeting.objects.filter(feed=good).count() == 45
    bad = MeetingFeed.objects.get(key="bad")
    assert "HTTP 500" in bad.last_report and bad.refreshed_at is not None
    good.refresh_from_db()
    assert "45 created" in good.last_report


def test_admin_save_creates_the_feeds_source(aa, rf):
    from django.contrib.admin.sites import site

    feed = MeetingFeed(key="aa-new", name="AA New", format="csv", group=aa)
    request = rf.post("/")
    request.user = UserFactory()
    site._registry[MeetingFeed].save_model(request, feed, None, False)
    feed.refresh_from_db()
    assert feed.source.key == "feed-aa-new"
    assert feed.source.title == "AA New (meeting feed)"


def test_availability_row_deleted_when_no_meetings_left(aa, tmp_path):
    import_ontario()
    feed = MeetingFeed.objects.get(key="aa-ontario")
    assert Availability.objects.filter(source=feed.source).count() == 1
    empty = tmp_path / "aa-ontario.json"
    empty.write_text("[]")
    output = import_ontario(empty)
    assert "45 retired" in output
    assert not Availability.objects.filter(source=feed.source).exists()


def test_csv_import_via_command(db, tmp_path):
    GroupFactory(slug="aa")
    path = tmp_path / "oslo.csv"
    path.write_text(
        "external_id,name,weekday,starts,ends,timezone,attendance,address,municipality,"
        "country,online_url,languages,openness,wheelchair\n"
        "1,Mandagsgruppa,Monday,18:00,19:30,,in_person,Storgata 1,Oslo,NO,,nb,open,yes\n"
        "2,Nettmøtet,6,20:00,,,online,,,,https://meet.example.org/x,nb en,closed,no\n"
        "3,Feil,Funday,18:00,,,,,Oslo,NO,,,,\n",
        encoding="utf-8",
    )
    out = __import__("io").StringIO()
    call_command("import_meetings", str(path), "--format", "csv", "--group", "aa",
                 "--timezone", "Europe/Oslo", stdout=out)  # fmt: skip
    assert "weekday “funday”" in out.getvalue()
    assert "note: 1 meeting in person has no coordinates" in out.getvalue()
    monday = Meeting.objects.get(external_id="1")
    assert monday.openness == "open" and monday.wheelchair_access is True
    assert monday.slots.get().timezone == "Europe/Oslo"
    online = Meeting.objects.get(external_id="2")
    assert online.attendance == "online" and online.languages == "en nb"
    assert online.slots.get().weekday == 6
    assert online.code_namespace == "csv:aa"
