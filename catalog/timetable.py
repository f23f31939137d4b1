"""Every meeting on offer and its weekly times, kept in memory per process.

A menu asks for a few meetings of each option, near a point and online, on every
match; reading and ordering thousands of weekly times from the database for each
would cost far more than the match. So the meetings on offer (not retired, of an
active group) are read once into a ``Timetable``: meetings in person ordered by
latitude, weekly times to join at a distance ordered by their minute of the UTC week,
for ``catalog.nearby`` to search without the database.

It is read again only when meetings, their weekly times or the groups changed: every
change to them leaves a row in a history table (an edit, an undo, an import: see
``curation.imports``), so the newest history rows, read in one query, tell whether a
kept timetable is current.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import threading
from collections.abc import Iterable
from typing import Any, NamedTuple, TypeVar, cast

from django.db import connection
from django.utils import timezone

from catalog.languages import split_languages
from catalog.models import Attendance, Group, Meeting, MeetingSlot
from catalog.schedule import WEEK_MINUTES, utc_week_minute

_T = TypeVar("_T")


class MeetingRow(NamedTuple):
    """What a search reads of a meeting, and what a listing shows of it."""

    id: int
    group_id: int
    group: str  # the group's slug
    name: str
    attendance: str
    location: str
    address: str
    municipality: str
    postcode: str
    country: str
    latitude: float | None
    longitude: float | None
    online_url: str
    online_notes: str
    phone: str
    languages: tuple[str, ...]
    openness: str
    women_only: bool
    secular: bool
    wheelchair_access: bool | None
    is_example: bool
    organisation_id: int | None


class SlotRow(NamedTuple):
    """One weekly time of a meeting."""

    meeting: MeetingRow
    weekday: int  # Monday 0 … Sunday 6, on the meeting's own clock
    starts: dt.time
    ends: dt.time | None
    timezone: str
    # The minute of the UTC week it starts at on standard time (schedule.utc_week_minute).
    utc_minute: int


_MEETING_COLUMNS = (
    "meeting_id",
    "meeting__group_id",
    "meeting__group__slug",
    "meeting__name",
    "meeting__attendance",
    "meeting__location",
    "meeting__address",
    "meeting__municipality",
    "meeting__postcode",
    "meeting__country",
    "meeting__latitude",
    "meeting__longitude",
    "meeting__online_url",
    "meeting__online_notes",
    "meeting__phone",
    "meeting__languages",
    "meeting__openness",
    "meeting__women_only",
    "meeting__secular",
    "meeting__wheelchair_access",
    "meeting__is_example",
    "meeting__organisation_id",
)
_SLOT_COLUMNS = ("weekday", "starts", "ends", "timezone")
_LANGUAGES = 15  # the position of the languages among _MEETING_COLUMNS


class Timetable:
    """The meetings on offer: in person by latitude, to join at a distance by the minute
    of the UTC week each weekly time starts at (all together and per group). Never
    changed once built."""

    def __init__(self, slots: list[SlotRow]) -> None:
        self._group_ids = {slot.meeting.group: slot.meeting.group_id for slot in slots}
        nearby = [slot for slot in slots if slot.meeting.latitude is not None and _met(slot)]
        nearby.sort(key=lambda slot: slot.meeting.latitude or 0.0)
        self.in_person = _Band(nearby)
        self._in_person_by_group = {group: _Band(band) for group, band in _by_group(nearby).items()}
        remote = [slot for slot in slots if _joinable(slot)]
        remote.sort(key=lambda slot: slot.utc_minute)
        self.remote = _Week(remote)
        self._by_group = {group: _Week(week) for group, week in _by_group(remote).items()}

    def within_latitudes(
        self,
        south: float,
        north: float,
        group_ids: Iterable[int] | None = None,
        slugs: Iterable[str] | None = None,
    ) -> list[SlotRow]:
        """Weekly times of meetings in person between two latitudes, of these groups
        (every group's when neither is given)."""
        if group_ids is None and slugs is None:
            return self.in_person.between(south, north)
        bands = self._in_person_by_group
        return [
            slot
            for group in self._groups(group_ids, slugs)
            if group in bands
            for slot in bands[group].between(south, north)
        ]

    def _groups(self, group_ids: Iterable[int] | None, slugs: Iterable[str] | None) -> list[int]:
        wanted = set(group_ids or ())
        wanted.update(self._group_ids[slug] for slug in slugs or () if slug in self._group_ids)
        return sorted(wanted)

    def remote_of(
        self,
        group_ids: Iterable[int] | None = None,
        slugs: Iterable[str] | None = None,
        *,
        each_group: bool = False,
    ) -> list[_Week]:
        """The weekly times to join at a distance of these groups (every group's when
        neither is given), a week of them per group (or, for every group and not
        ``each_group``, one week of all)."""
        if group_ids is None and slugs is None:
            return list(self._by_group.values()) if each_group else [self.remote]
        weeks = self._by_group
        return [weeks[group] for group in self._groups(group_ids, slugs) if group in weeks]


def _by_group(slots: list[SlotRow]) -> dict[int, list[SlotRow]]:
    """The slots of each group, in the order given."""
    groups: dict[int, list[SlotRow]] = {}
    for slot in slots:
        groups.setdefault(slot.meeting.group_id, []).append(slot)
    return groups


class _Band:
    """Weekly times of meetings in person in order of latitude."""

    def __init__(self, slots: list[SlotRow]) -> None:
        self.slots = slots
        self._latitudes = [slot.meeting.latitude or 0.0 for slot in slots]

    def between(self, south: float, north: float) -> list[SlotRow]:
        first = bisect.bisect_left(self._latitudes, south)
        return self.slots[first : bisect.bisect_right(self._latitudes, north)]


class _Week:
    """Weekly times in order of their minute of the UTC week on standard time."""

    def __init__(self, slots: list[SlotRow]) -> None:
        self.slots = slots
        self._minutes = [slot.utc_minute for slot in slots]

    def __len__(self) -> int:
        return len(self.slots)

    def starting_within(self, first: int, minutes: int) -> list[SlotRow]:
        """Those from minute ``first`` of the UTC week to ``minutes`` later, in order."""
        if minutes >= WEEK_MINUTES:
            return self.slots
        stop = first + minutes
        begin = bisect.bisect_left(self._minutes, first)
        if stop <= WEEK_MINUTES:
            return self.slots[begin : bisect.bisect_left(self._minutes, stop)]
        wrapped = bisect.bisect_left(self._minutes, stop - WEEK_MINUTES)
        return self.slots[begin:] + self.slots[:wrapped]


def _met(slot: SlotRow) -> bool:
    return slot.meeting.attendance in (Attendance.IN_PERSON, Attendance.HYBRID)


def _joinable(slot: SlotRow) -> bool:
    meeting = slot.meeting
    return meeting.attendance in (Attendance.ONLINE, Attendance.HYBRID) and bool(
        meeting.online_url or meeting.phone
    )


# Columns whose values repeat from meeting to meeting, kept once each in memory.
_SHARED = (2, 4, 7, 9, 16)  # group, attendance, municipality, country, openness


def build_timetable() -> Timetable:
    """One query, whatever the number of meetings."""
    year = timezone.now().year
    meetings: dict[int, MeetingRow] = {}
    shared: dict[tuple[type, object], Any] = {}  # one object for each value that repeats

    def keep(value: _T) -> _T:
        return cast(_T, shared.setdefault((type(value), value), value))

    slots = []
    rows = (
        MeetingSlot.objects.filter(meeting__retired_at__isnull=True, meeting__group__active=True)
        .order_by()
        .values_list(*_MEETING_COLUMNS, *_SLOT_COLUMNS)
    )
    width = len(_MEETING_COLUMNS)
    for row in rows.iterator(chunk_size=5000):
        meeting = meetings.get(row[0])
        if meeting is None:
            values = list(row[:width])
            values[9] = str(values[9] or "")  # the country
            values[_LANGUAGES] = tuple(split_languages(values[_LANGUAGES]))
            for position in (*_SHARED, _LANGUAGES):
                values[position] = keep(values[position])
            meeting = meetings[row[0]] = MeetingRow(*values)
        weekday, starts, ends, zone = row[width:]
        starts, ends, zone = keep(starts), keep(ends), keep(zone)
        minute = utc_week_minute(weekday, starts, zone, year)
        slots.append(SlotRow(meeting, weekday, starts, ends, zone, minute))
    return Timetable(slots)


_lock = threading.Lock()
_kept: tuple[tuple[object, ...], Timetable] | None = None


def current_timetable() -> Timetable:
    """The timetable, read again only if meetings or groups changed since (one query)."""
    global _kept
    version = (
        connection.alias,
        connection.settings_dict["NAME"],
        timezone.now().year,
        *_version(),
    )
    kept = _kept
    if kept is not None and kept[0] == version:
        return kept[1]
    with _lock:
        timetable = build_timetable()
        _kept = (version, timetable)
    return timetable


def forget() -> None:
    """Let the next search read the timetable again."""
    global _kept
    _kept = None


def _version() -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        return tuple(cursor.fetchone() or ())


@functools.cache
def _version_sql() -> str:
    # The newest history row of each table, by id and by time: after a rollback (as
    # between tests) an id can be given again, never at the same moment.
    quote = connection.ops.quote_name
    columns = []
    for model in (Meeting, MeetingSlot, Group):
        table = quote(model.history.model._meta.db_table)
        columns.append(f"(SELECT MAX(history_id) FROM {table})")
        columns.append(f"(SELECT MAX(history_date) FROM {table})")
    return f"SELECT {', '.join(columns)}"
