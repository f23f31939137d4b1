"""The search for upcoming meetings gives what working out every next start by hand
would give: nearest first in person, soonest first online, a few per group, across
clock changes and time zones, whichever way it reads the meetings."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from catalog import nearby
from catalog.models import Meeting, MeetingSlot
from catalog.nearby import Search, in_person, listing, online, per_group
from catalog.schedule import Clocks, distance_km, next_start
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db

DRAMMEN = (59.7439, 10.2045)
ZONES = ["Europe/Oslo", "America/Toronto", "Europe/London", "America/St_Johns", "Asia/Kolkata"]
NOWS = [
    dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC),  # half an hour before Oslo springs forward
    dt.datetime(2026, 10, 25, 0, 45, tzinfo=dt.UTC),  # in Oslo's repeated hour
    dt.datetime(2026, 3, 8, 6, 59, 30, tzinfo=dt.UTC),  # as Toronto springs forward
    dt.datetime(2026, 12, 8, 18, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 7, 15, 9, 10, tzinfo=dt.UTC),  # on summer time (where there is one)
]


@pytest.fixture
def meetings(db):
    """Three groups; meetings around Drammen and online on several clocks, with one to
    three weekly times each, chosen by a seeded generator."""
    rng = random.Random(7)
    groups = [GroupFactory(slug=slug) for slug in ("na", "aa", "smart-recovery")]
    for number in range(90):
        remote = number % 3 != 0
        meeting = Meeting.objects.create(
            group=groups[number % 3],
            name=f"Meeting {number}",
            attendance=("online" if number % 2 else "hybrid") if remote else "in_person",
            online_url=f"https://meet.example.org/{number}" if remote else "",
            latitude=None if remote else DRAMMEN[0] + rng.uniform(-0.3, 0.3),
            longitude=None if remote else DRAMMEN[1] + rng.uniform(-0.5, 0.5),
            municipality="" if remote else "Drammen",
            languages=rng.choice(["nb", "en", "en nl", ""]),
            women_only=number % 5 == 1,
        )
        if meeting.attendance == "hybrid":
            meeting.latitude, meeting.longitude = DRAMMEN[0] + 0.01, DRAMMEN[1]
            meeting.municipality = "Drammen"
            meeting.save()
        for weekday in rng.sample(range(7), rng.randint(1, 3)):
            MeetingSlot.objects.create(
                meeting=meeting,
                weekday=weekday,
                starts=dt.time(rng.randrange(24), rng.choice([0, 15, 30, 45])),
                ends=dt.time(rng.randrange(24), 0),
                timezone="Europe/Oslo" if not remote else rng.choice(ZONES),
            )
    return groups


def by_hand(search: Search, now: dt.datetime, *, remote: bool) -> list[tuple[int, dt.datetime]]:
    """Every next start of every matching meeting worked out, then ordered."""
    found = []
    for meeting in Meeting.objects.filter(
        group__slug__in=search.group_slugs or ["na", "aa", "smart-recovery"]
    ).prefetch_related("slots"):
        if remote and (meeting.attendance == "in_person"):
            continue
        if not remote and meeting.attendance == "online":
            continue
        codes = meeting.language_list
        if search.languages and codes and not set(codes) & set(search.languages):
            continue
        rank = 1 if search.languages and not codes else 0
        rank = 2 * rank + (1 if search.women_only_first and not meeting.women_only else 0)
        distance = 0.0
        if not remote:
            distance = round(distance_km(*DRAMMEN, meeting.latitude, meeting.longitude), 1)
            if distance > search.radius_km:
                continue
        slots = [
            s for s in meeting.slots.all() if not search.weekdays or s.weekday in search.weekdays
        ]
        if not slots:
            continue
        starts = min(next_start(s.weekday, s.starts, s.timezone, now) for s in slots)
        found.append(((rank, distance, starts.timestamp(), meeting.pk), meeting.pk, starts))
    found.sort()
    return [(pk, starts) for _key, pk, starts in found]


def listed(items) -> list[tuple[int, dt.datetime]]:
    return [(item.id, item.starts) for item in items]


SEARCHES = [
    Search(near=DRAMMEN, radius_km=25, online=True),
    Search(near=DRAMMEN, radius_km=10, online=True, languages=("nb",)),
    Search(near=DRAMMEN, online=True, languages=("nl", "nb"), weekdays=(0, 5, 6)),
    Search(group_slugs=("aa", "na"), near=DRAMMEN, online=True, languages=("en",)),
    Search(near=DRAMMEN, online=True, languages=("nb", "en"), women_only_first=True),
]


@pytest.mark.parametrize(
    ("read_whole", "horizons"),
    [(1000, (180, 1440)), (4, (180, 1440)), (4, (30, 300)), (4, (600, 3000))],
    ids=["read-whole", "read-soon-first", "short-horizons", "long-horizons"],
)
@pytest.mark.parametrize("search", SEARCHES)
def test_the_search_gives_what_working_out_every_start_gives(
    meetings, monkeypatch, search, read_whole, horizons
):
    # With many meetings (here: more than four weekly times) online ones are read for
    # the next hours first, then the next day, then the week; the answer must not change.
    monkeypatch.setattr(nearby, "_READ_WHOLE", read_whole)
    monkeypatch.setattr(nearby, "_horizons", lambda timetable: horizons)
    for now in NOWS:
        near = by_hand(search, now, remote=False)
        remote = by_hand(search, now, remote=True)
        assert listed(in_person(search, now)) == near
        assert listed(online(search, now)) == remote

        shown: set[int] = set()
        expected: dict[int, list[tuple[int, dt.datetime]]] = {}
        group_of = dict(Meeting.objects.values_list("pk", "group_id"))
        for pk, starts in near:
            if len(expected.setdefault(group_of[pk], [])) < 3:
                expected[group_of[pk]].append((pk, starts))
                shown.add(pk)
        extra: dict[int, list[tuple[int, dt.datetime]]] = {}
        for pk, starts in remote:
            if pk not in shown and len(extra.setdefault(group_of[pk], [])) < 3:
                extra[group_of[pk]].append((pk, starts))
        for group_id, items in extra.items():
            expected.setdefault(group_id, []).extend(items)
        found = per_group(search, now)
        assert {g: listed(items) for g, items in found.items()} == {
            g: items for g, items in expected.items() if items
        }

        nearby_ids = {pk for pk, _starts in near}
        hybrid = set(Meeting.objects.filter(attendance="hybrid").values_list("pk", flat=True))
        rest = [(pk, starts) for pk, starts in remote if pk not in nearby_ids & hybrid]
        for limit in (1, 7, 40):
            page = listing(search, now, limit=limit)
            assert (page.in_person, page.online) == (len(near), len(rest))
            assert listed(page.items) == (near + rest)[:limit]


def test_the_menu_search_costs_one_query_whatever_the_number_of_meetings(
    meetings, django_assert_num_queries, django_assert_max_num_queries
):
    search = Search(group_slugs=("na", "aa"), near=DRAMMEN, online=True, languages=("nb",))
    with django_assert_max_num_queries(2):  # the timetable read once per process
        per_group(search, NOWS[-1])
    with django_assert_num_queries(1):  # is it current?
        found = per_group(search, NOWS[-1])
    assert found


def test_many_meetings_starting_soon_are_read_for_the_next_hours_only(
    db, monkeypatch, django_assert_num_queries
):
    # Meetings online twice an hour round the clock, at a quarter past on Oslo's clock
    # and a quarter to on Toronto's: more than _READ_WHOLE weekly times, and plenty in
    # the next three hours, so enough for three per group are found among those, and
    # the next start of the others is never worked out.
    monkeypatch.setattr(nearby, "_READ_WHOLE", 20)
    group = GroupFactory(slug="aa")
    for hour in range(24):
        for minute, zone in ((15, "Europe/Oslo"), (45, "America/Toronto")):
            meeting = Meeting.objects.create(
                group=group,
                name=f"Every day at {hour}:{minute}",
                attendance="online",
                online_url=f"https://meet.example.org/{hour}/{minute}",
                languages="en",
            )
            for day in range(7):
                MeetingSlot.objects.create(
                    meeting=meeting, weekday=day, starts=dt.time(hour, minute), timezone=zone
                )
    worked_out = []
    exact = Clocks.next_start

    def counted(self, *args):
        worked_out.append(args)
        return exact(self, *args)

    monkeypatch.setattr(Clocks, "next_start", counted)
    search = Search(group_slugs=("aa",), online=True, languages=("en",))
    per_group(search, NOWS[0])  # reads the timetable
    for now in NOWS:
        worked_out.clear()
        with django_assert_num_queries(1):  # is the timetable current?
            found = per_group(search, now)
        assert len(worked_out) < 30  # of 336 weekly times
        (items,) = found.values()
        assert listed(items) == by_hand(search, now, remote=True)[:3]
        assert listed(listing(search, now, limit=5).items) == by_hand(search, now, remote=True)[:5]


def test_the_timetable_is_read_again_when_meetings_or_groups_change(db, meetings):
    search = Search(near=DRAMMEN, radius_km=50, online=True)
    now = NOWS[-1]

    def found() -> set[int]:
        return {item.id for item in listing(search, now, limit=1000).items}

    before = found()
    meeting = Meeting.objects.create(
        group=meetings[0], name="New", attendance="online", online_url="https://meet.example.org/n"
    )
    MeetingSlot.objects.create(meeting=meeting, weekday=0, starts=dt.time(9), timezone="UTC")
    assert found() == before | {meeting.pk}
    meeting.retired_at = now
    meeting.save()
    assert found() == before
    group = meetings[1]
    group.active = False
    group.save()
    assert found() == before - set(group.meetings.values_list("pk", flat=True))


def test_a_meeting_on_summer_time_is_not_passed_over_for_a_later_one(db, monkeypatch):
    # In July, Oslo is on summer time (UTC+2) and Kolkata keeps UTC+5:30 all year. Read
    # three hours ahead on standard time, the Oslo meeting (in 2 h 10 min, but 3 h 10
    # min on standard time) is not read at first; the Kolkata one (in 2 h 50 min) is.
    # The Oslo meeting still comes first.
    monkeypatch.setattr(nearby, "_READ_WHOLE", 1)
    monkeypatch.setattr(nearby, "_horizons", lambda timetable: (180, 1440))
    now = dt.datetime(2026, 7, 15, 9, 0, tzinfo=dt.UTC)  # a Wednesday
    group = GroupFactory(slug="aa")
    for name, starts, zone in (
        ("Oslo", dt.time(13, 10), "Europe/Oslo"),  # 11:10 UTC
        ("Kolkata", dt.time(17, 20), "Asia/Kolkata"),  # 11:50 UTC
    ):
        meeting = Meeting.objects.create(
            group=group,
            name=name,
            attendance="online",
            online_url=f"https://meet.example.org/{name}",
        )
        MeetingSlot.objects.create(meeting=meeting, weekday=2, starts=starts, timezone=zone)
    search = Search(group_slugs=("aa",), online=True)
    (items,) = per_group(search, now, limit=1).values()
    assert [item.name for item in items] == ["Oslo"]
    assert [item.name for item in listing(search, now, limit=1).items] == ["Oslo"]
