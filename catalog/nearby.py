"""Upcoming meetings near a point or online, for the menu, the handout and the finder.

A search costs a fixed handful of queries whatever the number of meetings and groups,
and stays fast among tens of thousands of them:

- meetings in person are narrowed in the database by a latitude/longitude box (an
  index on the position serves it), then measured exactly here;
- thousands of weekly times are ordered by an estimate on their own wall clock
  (``schedule.Clocks``), and the exact, daylight-saving correct next start
  (``schedule.next_start``) is worked out only for those that can make the cut;
- online meetings, when there are many, are read for the next hours only, by each
  time zone's own clock, and for the whole week only where too few start soon.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, Q

from catalog.languages import language_name, split_languages
from catalog.models import Attendance, MeetingSlot, Openness
from catalog.schedule import (
    CLOCK_CHANGE_MINUTES,
    WEEK_MINUTES,
    Clocks,
    bounding_box,
    distance_km,
)

DEFAULT_RADIUS_KM = 25
MAX_RADIUS_KM = 300
# The distances a counsellor can choose between.
RADII_KM = (5, 10, 25, 50, 100, 300)
PER_GROUP = 3

_IN_PERSON = (Attendance.IN_PERSON, Attendance.HYBRID)
_REMOTE = (Attendance.ONLINE, Attendance.HYBRID)


@dataclass(frozen=True)
class Upcoming:
    """A meeting at its next start: what a patient needs to go there or join."""

    id: int
    group_id: int
    group: str  # the group's slug
    name: str
    starts: dt.datetime  # aware, in the meeting's own time zone
    ends: dt.datetime | None
    timezone: str
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
    distance_km: float | None
    languages: tuple[str, ...]
    types: tuple[str, ...]
    is_example: bool

    @property
    def full_address(self) -> str:
        locality = " ".join(part for part in (self.postcode, self.municipality) if part)
        return ", ".join(part for part in (self.location, self.address, locality) if part)

    @property
    def language_names(self) -> list[str]:
        return [language_name(code) for code in self.languages]

    @property
    def online(self) -> bool:
        """Met at a distance in this listing (an online meeting, or hybrid found online)."""
        return self.distance_km is None


@dataclass(frozen=True)
class Search:
    """What to look for. Without ``near`` no in-person meeting is found."""

    group_ids: Collection[int] | None = None
    group_slugs: Collection[str] | None = None
    near: tuple[float, float] | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    in_person: bool = True
    online: bool = False
    languages: Collection[str] = ()  # any of these; meetings stating none come last
    weekdays: Collection[int] = ()  # Monday 0 … Sunday 6, local to the meeting
    starts_after: dt.time | None = None  # local wall-clock time, inclusive
    starts_before: dt.time | None = None  # local wall-clock time, exclusive
    women_only: bool = False
    # Leave out meetings for women only: what a search for a man needs.
    not_women_only: bool = False
    wheelchair_access: bool = False
    organisation_id: int | None = None
    exclude_ids: Collection[int] = field(default_factory=tuple)


@dataclass(frozen=True)
class Listing:
    """The finder's answer: how many meetings match, and the first of them in order."""

    in_person: int  # within the radius
    online: int  # to join at a distance, not counting hybrid ones already in person
    items: list[Upcoming]  # nearest in person first, then online soonest first

    @property
    def total(self) -> int:
        return self.in_person + self.online


# Read per weekly time: when it is, and the meeting it belongs to.
_COLUMNS = (
    "meeting_id",
    "weekday",
    "starts",
    "ends",
    "timezone",
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
)
_Slot = tuple[int, dt.time, dt.time | None, str]  # weekday, starts, ends, time zone


class _Match:
    """A meeting that matches a search, with its weekly times, before it is placed."""

    __slots__ = ("distance", "group_id", "rank", "row", "slot", "slots", "soon", "starts")

    def __init__(self, row: Any, rank: int, distance: float | None) -> None:
        self.row = row  # the first row read of it: the meeting's columns
        self.group_id: int = row.meeting__group_id
        self.rank = rank  # 0: in a wanted language, 1: stating none
        self.distance = distance  # km, rounded as shown; None online
        self.slots: list[_Slot] = []
        self.soon = WEEK_MINUTES  # estimated minutes until the next start (Clocks)
        self.starts: dt.datetime | None = None  # exact, once worked out
        self.slot: _Slot | None = None  # the weekly time it next starts at

    def estimate(self, clocks: Clocks) -> None:
        self.soon = min(clocks.minutes_until(s[0], s[1], s[3]) for s in self.slots)

    def settle(self, clocks: Clocks) -> None:
        """Work out the exact next start, over every weekly time of the meeting."""
        if self.starts is not None:
            return
        for slot in self.slots:
            starts = clocks.next_start(slot[0], slot[1], slot[3])
            if self.starts is None or starts < self.starts:
                self.starts, self.slot = starts, slot

    def upcoming(self) -> Upcoming:
        assert self.starts is not None and self.slot is not None
        row, ends_at = self.row, self.slot[2]
        ends = None
        if ends_at is not None:
            ends = self.starts.replace(hour=ends_at.hour, minute=ends_at.minute)
            if ends <= self.starts:
                ends += dt.timedelta(days=1)
        return Upcoming(
            id=row.meeting_id,
            group_id=self.group_id,
            group=row.meeting__group__slug,
            name=row.meeting__name,
            starts=self.starts,
            ends=ends,
            timezone=self.slot[3],
            attendance=row.meeting__attendance,
            location=row.meeting__location,
            address=row.meeting__address,
            municipality=row.meeting__municipality,
            postcode=row.meeting__postcode,
            country=str(row.meeting__country or ""),
            latitude=row.meeting__latitude,
            longitude=row.meeting__longitude,
            online_url=row.meeting__online_url,
            online_notes=row.meeting__online_notes,
            phone=row.meeting__phone,
            distance_km=self.distance,
            languages=tuple(split_languages(row.meeting__languages)),
            types=_types(row),
            is_example=row.meeting__is_example,
        )


def _types(row: Any) -> tuple[str, ...]:
    types = []
    if row.meeting__openness == Openness.OPEN:
        types.append("open")
    elif row.meeting__openness == Openness.CLOSED:
        types.append("closed")
    if row.meeting__women_only:
        types.append("women")
    if row.meeting__secular:
        types.append("secular")
    if row.meeting__wheelchair_access:
        types.append("wheelchair")
    return tuple(types)


def _language_rank(languages: str, wanted: frozenset[str]) -> int | None:
    """0 for a meeting in a wanted language, 1 when it states none, None to leave out."""
    if not wanted:
        return 0
    codes = split_languages(languages)
    if not codes:
        return 1
    return 0 if wanted.intersection(codes) else None


def _rows(search: Search, attendance: Iterable[str]) -> Any:
    rows = MeetingSlot.objects.filter(
        meeting__retired_at__isnull=True,
        meeting__group__active=True,
        meeting__attendance__in=list(attendance),
    ).order_by()  # ordered here, not by the database
    if search.organisation_id is None:
        rows = rows.filter(meeting__organisation__isnull=True)
    else:
        rows = rows.filter(
            Q(meeting__organisation__isnull=True)
            | Q(meeting__organisation_id=search.organisation_id)
        )
    if search.group_ids is not None:
        rows = rows.filter(meeting__group_id__in=list(search.group_ids))
    if search.group_slugs is not None:
        rows = rows.filter(meeting__group__slug__in=list(search.group_slugs))
    if search.weekdays:
        rows = rows.filter(weekday__in=list(search.weekdays))
    if search.starts_after is not None:
        rows = rows.filter(starts__gte=search.starts_after)
    if search.starts_before is not None:
        rows = rows.filter(starts__lt=search.starts_before)
    if search.women_only:
        rows = rows.filter(meeting__women_only=True)
    if search.not_women_only:
        rows = rows.filter(meeting__women_only=False)
    if search.wheelchair_access:
        rows = rows.filter(meeting__wheelchair_access=True)
    if search.exclude_ids:
        rows = rows.exclude(meeting_id__in=list(search.exclude_ids))
    return rows


def _joinable(search: Search) -> Any:
    return _rows(search, _REMOTE).exclude(meeting__online_url="", meeting__phone="")


def _collect(
    rows: Iterable[Any],
    wanted: frozenset[str],
    *,
    near: tuple[float, float] | None = None,
    radius_km: float = 0.0,
    skip: Collection[int] = (),
) -> list[_Match]:
    """The meetings of ``rows`` in a wanted language or stating none (and within
    ``radius_km`` of ``near`` when given), each with its weekly times."""
    found: dict[int, _Match | None] = {}
    zones = set()
    for row in rows:
        meeting_id = row.meeting_id
        if meeting_id not in found:
            rank = _language_rank(row.meeting__languages, wanted)
            distance = None
            if near is not None:
                distance = distance_km(*near, row.meeting__latitude, row.meeting__longitude)
            if rank is None or meeting_id in skip:
                found[meeting_id] = None
            elif distance is None:
                found[meeting_id] = _Match(row, rank, None)
            else:
                within = distance <= radius_km
                found[meeting_id] = _Match(row, rank, round(distance, 1)) if within else None
        match = found[meeting_id]
        if match is not None:
            match.slots.append((row.weekday, row.starts, row.ends, row.timezone))
        zones.add(row.timezone)
    _learn_zones(zones)
    return [match for match in found.values() if match is not None]


def _nearby(search: Search) -> list[_Match]:
    """Meetings in person within the radius: one query."""
    if search.near is None or not search.in_person:
        return []
    latitude, longitude = search.near
    south, north, west, east = bounding_box(latitude, longitude, search.radius_km)
    rows = _rows(search, _IN_PERSON).filter(
        meeting__latitude__gte=south, meeting__latitude__lte=north
    )
    if west is not None and east is not None:
        rows = rows.filter(meeting__longitude__gte=west, meeting__longitude__lte=east)
    return _collect(
        rows.values_list(*_COLUMNS, named=True),
        frozenset(search.languages),
        near=search.near,
        radius_km=search.radius_km,
    )


# With more weekly times to join online than this, a search for the first few reads
# those starting in the next _SOON_MINUTES first (see _remote).
_READ_WHOLE = 200
_SOON_MINUTES = 12 * 60
# What starts within this by the estimate surely starts before anything not read.
_SURELY_SOON = _SOON_MINUTES - 2 * CLOCK_CHANGE_MINUTES
# Time zones met so far in this process. They only narrow what is read first: weekly
# times in a zone not met before are always read, so no answer depends on them.
_zones_met: frozenset[str] = frozenset()


def _learn_zones(zones: set[str]) -> None:
    global _zones_met
    if not zones <= _zones_met:
        _zones_met = _zones_met | zones


def _remote(
    search: Search,
    clocks: Clocks,
    *,
    limit: int | None = None,
    per_group: int | None = None,
    skip: Collection[int] = (),
) -> list[_Match]:
    """Meetings to join at a distance, enough to choose the first ``limit`` (or
    ``per_group`` of each group) from; every one when neither is given.

    One query, and a second only for many meetings with few starting soon. Reading
    tens of thousands of weekly times costs far more than ordering them, so where
    there are many, the first query reads only those starting within _SOON_MINUTES
    on their own clocks (and, so that an empty answer means there is nothing, any
    one that matches). A group, or the whole listing, with enough surely soon in a
    wanted language (those stating none come after) is then complete; the others are
    read again for the whole week.
    """
    wanted = frozenset(search.languages)
    rows = _joinable(search)
    bound = per_group if per_group is not None else limit
    if bound is None:
        return _collect(rows.values_list(*_COLUMNS, named=True), wanted, skip=skip)
    few = ~Exists(rows.values("pk")[_READ_WHOLE : _READ_WHOLE + 1])
    any_one = rows.values("pk")[:1]
    read = list(
        rows.filter(Q(few) | _starting_soon(clocks) | Q(pk=any_one))
        .annotate(whole=ExpressionWrapper(few, output_field=BooleanField()))
        .values_list(*_COLUMNS, "whole", named=True)
    )
    found = _collect(read, wanted, skip=skip)
    if not read or read[0].whole:
        return found
    surely: dict[int | None, list[int]] = defaultdict(list)
    for match in found:
        match.estimate(clocks)
        if match.rank == 0:
            surely[match.group_id if per_group is not None else None].append(match.soon)
    complete = {
        key
        for key, minutes in surely.items()
        if len(minutes) >= bound and sorted(minutes)[bound - 1] < _SURELY_SOON
    }
    if per_group is None:
        if None in complete:
            return found
        return _collect(rows.values_list(*_COLUMNS, named=True), wanted, skip=skip)
    kept = [match for match in found if match.group_id in complete]
    if search.group_ids is not None:
        rest = replace(search, group_ids=set(search.group_ids) - complete)
    elif search.group_slugs is not None:
        done = {match.row.meeting__group__slug for match in kept}
        rest = replace(search, group_slugs=set(search.group_slugs) - done)
    else:
        rest = search
    more = _joinable(rest).exclude(meeting__group_id__in=complete)
    return kept + _collect(more.values_list(*_COLUMNS, named=True), wanted, skip=skip)


def _starting_soon(clocks: Clocks) -> Q:
    """Weekly times that start within _SOON_MINUTES on their own zone's wall clock,
    and every weekly time in a zone not met before."""
    zones = _zones_met
    by_minute: dict[int, list[str]] = defaultdict(list)
    for zone in sorted(zones):
        by_minute[clocks.local(zone)[2]].append(zone)
    condition = ~Q(timezone__in=sorted(zones)) if zones else Q()
    for first, names in sorted(by_minute.items()):
        condition |= _week_range(first, first + _SOON_MINUTES) & Q(timezone__in=names)
    return condition


def _week_range(first: int, stop: int) -> Q:
    """Weekly times from minute ``first`` of the week up to ``stop``, which may run
    into the next week."""
    condition = Q()
    minute = first
    while minute < stop:
        day, offset = divmod(minute % WEEK_MINUTES, 1440)
        end = min(offset + stop - minute, 1440)
        part = Q(weekday=day)
        if offset:
            part &= Q(starts__gte=dt.time(offset // 60, offset % 60))
        if end < 1440:
            part &= Q(starts__lt=dt.time(end // 60, end % 60))
        condition |= part
        minute += end - offset
    return condition


def _candidates(
    ordered: list[_Match],
    key: Callable[[_Match], tuple[int, float]],
    limit: int | None,
    per_group: int | None,
    slack: float,
) -> list[_Match]:
    """From matches ordered by ``key``, those that can be among the first ``limit`` (or
    ``per_group`` of each group) once ties, or estimates within ``slack``, are settled."""
    bound = per_group if per_group is not None else limit
    if bound is None:
        return ordered
    if bound <= 0:
        return []
    last: dict[int | None, tuple[int, float]] = {}
    counts: dict[int | None, int] = defaultdict(int)
    chosen = []
    for match in ordered:
        bucket = match.group_id if per_group is not None else None
        rank, value = key(match)
        if counts[bucket] >= bound:
            last_rank, last_value = last[bucket]
            if rank != last_rank or value > last_value + slack:
                continue
        else:
            counts[bucket] += 1
            last[bucket] = (rank, value)
        chosen.append(match)
    return chosen


def _take(ordered: list[_Match], limit: int | None, per_group: int | None) -> list[_Match]:
    if per_group is not None:
        counts: dict[int, int] = defaultdict(int)
        taken = []
        for match in ordered:
            if counts[match.group_id] < per_group:
                counts[match.group_id] += 1
                taken.append(match)
        return taken
    return ordered if limit is None else ordered[:limit]


def _nearest(
    matches: list[_Match], clocks: Clocks, limit: int | None = None, per_group: int | None = None
) -> list[_Match]:
    """Nearest first, then soonest; the next start is worked out only where it decides."""

    def near(match: _Match) -> tuple[int, float]:
        return match.rank, match.distance or 0.0

    ordered = sorted(matches, key=lambda match: (*near(match), match.row.meeting_id))
    chosen = _candidates(ordered, near, limit, per_group, slack=0.0)
    for match in chosen:
        match.settle(clocks)
    chosen.sort(key=lambda match: (*near(match), _utc(match), match.row.meeting_id))
    return _take(chosen, limit, per_group)


def _soonest(
    matches: list[_Match], clocks: Clocks, limit: int | None = None, per_group: int | None = None
) -> list[_Match]:
    """Soonest first. For the first few, ordered by the estimate first, so that exact
    next starts are worked out only for meetings within a clock change of the cut."""
    chosen = matches
    if limit is not None or per_group is not None:
        for match in matches:
            match.estimate(clocks)

        def soon(match: _Match) -> tuple[int, float]:
            return match.rank, match.soon

        ordered = sorted(matches, key=lambda match: (*soon(match), match.row.meeting_id))
        chosen = _candidates(ordered, soon, limit, per_group, slack=2 * CLOCK_CHANGE_MINUTES)
    for match in chosen:
        match.settle(clocks)
    chosen.sort(key=lambda match: (match.rank, _utc(match), match.row.meeting_id))
    return _take(chosen, limit, per_group)


def _utc(match: _Match) -> float:
    # Compared as timestamps: much faster than aware times in different zones.
    assert match.starts is not None
    return match.starts.timestamp()


def in_person(search: Search, now: dt.datetime) -> list[Upcoming]:
    """Meetings within the radius, nearest first (then soonest). One query."""
    return [match.upcoming() for match in _nearest(_nearby(search), Clocks(now))]


def online(search: Search, now: dt.datetime) -> list[Upcoming]:
    """Meetings one can join by link or telephone, soonest first. One query."""
    if not search.online:
        return []
    clocks = Clocks(now)
    return [match.upcoming() for match in _soonest(_remote(search, clocks), clocks)]


def listing(search: Search, now: dt.datetime, *, limit: int) -> Listing:
    """How many meetings match in person and online, and the first ``limit`` of them:
    in person nearest first, then online soonest first (without the hybrid meetings
    already listed in person). Wheelchair access is asked of meetings in person only.
    Three queries, rarely four."""
    clocks = Clocks(now)
    near = _nearby(search)
    chosen = _nearest(near, clocks, limit=limit)
    online_count = 0
    if search.online:
        search = replace(search, wheelchair_access=False)
        # Hybrid meetings nearby are listed once, in person.
        listed = {m.row.meeting_id for m in near if m.row.meeting__attendance == Attendance.HYBRID}
        online_count = _count_online(search, listed)
        rest = limit - len(chosen)
        if rest > 0 and online_count:
            found = _remote(search, clocks, limit=rest, skip=listed)
            chosen += _soonest(found, clocks, limit=rest)
    items = [match.upcoming() for match in chosen]
    return Listing(in_person=len(near), online=online_count, items=items)


def _count_online(search: Search, listed: Collection[int]) -> int:
    """Meetings to join at a distance, in a wanted language or stating none, that are
    not ``listed`` already: one query."""
    rows = _joinable(search)
    if search.languages:
        spoken = Q(meeting__languages="")
        for code in search.languages:
            spoken |= (
                Q(meeting__languages=code)
                | Q(meeting__languages__startswith=f"{code} ")
                | Q(meeting__languages__endswith=f" {code}")
                | Q(meeting__languages__contains=f" {code} ")
            )
        rows = rows.filter(spoken)
    if listed:
        rows = rows.exclude(meeting_id__in=list(listed))
    return int(rows.values("meeting_id").distinct().count())


def per_group(
    search: Search, now: dt.datetime, limit: int = PER_GROUP
) -> dict[int, list[Upcoming]]:
    """Each group's next meetings: nearby ones nearest first, then online ones soonest first.

    Two queries whatever the number of groups and meetings (three for many online
    meetings with few starting soon).
    """
    clocks = Clocks(now)
    chosen = _nearest(_nearby(search), clocks, per_group=limit)
    if search.online:
        shown = {match.row.meeting_id for match in chosen}
        found = _remote(search, clocks, per_group=limit, skip=shown)
        chosen += _soonest(found, clocks, per_group=limit)
    grouped: dict[int, list[Upcoming]] = defaultdict(list)
    for match in chosen:
        grouped[match.group_id].append(match.upcoming())
    return dict(grouped)
