"""Upcoming meetings near a point or online, for the menu, the handout and the finder.

A search reads the meetings on offer from the process's timetable
(``catalog.timetable``): one query, to tell whether it is current, whatever the
number of meetings and groups. It stays fast among tens of thousands of them:

- meetings in person are narrowed by latitude in the timetable's order, then by
  longitude, then measured exactly;
- weekly times are ordered by an estimate on their own wall clock
  (``schedule.Clocks``), and the exact, daylight-saving correct next start
  (``schedule.next_start``) is worked out only for those that can make the cut;
- online meetings, when there are many, are read for the next hours only (the
  timetable keeps them in order of the UTC week), and for the whole week only where
  too few start soon.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace

from catalog.languages import language_name
from catalog.models import Attendance, Openness
from catalog.schedule import (
    CLOCK_CHANGE_MINUTES,
    WEEK_MINUTES,
    Clocks,
    bounding_box,
    distance_km,
)
from catalog.timetable import MeetingRow, SlotRow, Timetable, current_timetable

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
    # Meetings for women only first: what a woman who prefers them needs.
    women_only_first: bool = False
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


_Slot = tuple[int, dt.time, dt.time | None, str]  # weekday, starts, ends, time zone


class _Match:
    """A meeting that matches a search, with its weekly times, before it is placed."""

    __slots__ = ("distance", "group_id", "meeting", "rank", "slot", "slots", "soon", "starts")

    def __init__(self, meeting: MeetingRow, rank: int, distance: float | None) -> None:
        self.meeting = meeting
        self.group_id = meeting.group_id
        # 0 first: in a wanted language (and for women only, where they come first)
        self.rank = rank
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
        meeting, ends_at = self.meeting, self.slot[2]
        ends = None
        if ends_at is not None:
            ends = self.starts.replace(hour=ends_at.hour, minute=ends_at.minute)
            if ends <= self.starts:
                ends += dt.timedelta(days=1)
        return Upcoming(
            id=meeting.id,
            group_id=meeting.group_id,
            group=meeting.group,
            name=meeting.name,
            starts=self.starts,
            ends=ends,
            timezone=self.slot[3],
            attendance=meeting.attendance,
            location=meeting.location,
            address=meeting.address,
            municipality=meeting.municipality,
            postcode=meeting.postcode,
            country=meeting.country,
            latitude=meeting.latitude,
            longitude=meeting.longitude,
            online_url=meeting.online_url,
            online_notes=meeting.online_notes,
            phone=meeting.phone,
            distance_km=self.distance,
            languages=meeting.languages,
            types=_types(meeting),
            is_example=meeting.is_example,
        )


def _types(meeting: MeetingRow) -> tuple[str, ...]:
    types = []
    if meeting.openness == Openness.OPEN:
        types.append("open")
    elif meeting.openness == Openness.CLOSED:
        types.append("closed")
    if meeting.women_only:
        types.append("women")
    if meeting.secular:
        types.append("secular")
    if meeting.wheelchair_access:
        types.append("wheelchair")
    return tuple(types)


def _language_rank(languages: tuple[str, ...], wanted: frozenset[str]) -> int | None:
    """0 for a meeting in a wanted language, 1 when it states none, None to leave out."""
    if not wanted:
        return 0
    if not languages:
        return 1
    return 0 if wanted.intersection(languages) else None


def _admits(search: Search) -> Callable[[SlotRow], bool]:
    """Whether a weekly time matches the search, but for place, time and language."""
    organisation = search.organisation_id
    group_ids = None if search.group_ids is None else frozenset(search.group_ids)
    slugs = None if search.group_slugs is None else frozenset(search.group_slugs)
    weekdays = frozenset(search.weekdays)
    after, before = search.starts_after, search.starts_before
    excluded = frozenset(search.exclude_ids)

    def admits(slot: SlotRow) -> bool:
        meeting = slot.meeting
        return (
            (meeting.organisation_id is None or meeting.organisation_id == organisation)
            and (group_ids is None or meeting.group_id in group_ids)
            and (slugs is None or meeting.group in slugs)
            and (not weekdays or slot.weekday in weekdays)
            and (after is None or slot.starts >= after)
            and (before is None or slot.starts < before)
            and (not search.women_only or meeting.women_only)
            and (not search.not_women_only or not meeting.women_only)
            and (not search.wheelchair_access or meeting.wheelchair_access is True)
            and meeting.id not in excluded
        )

    return admits


def _collect(
    slots: Iterable[SlotRow],
    search: Search,
    *,
    near: tuple[float, float] | None = None,
    skip: Collection[int] = (),
) -> list[_Match]:
    """The meetings of ``slots`` in a wanted language or stating none (and within the
    search's radius of ``near`` when given), each with its weekly times.

    Each is ranked: in a wanted language before stating none, and within each, for a
    search that puts them first, meetings for women only before the others."""
    wanted = frozenset(search.languages)
    radius_km = search.radius_km
    women_first = search.women_only_first
    found: dict[int, _Match | None] = {}
    for slot in slots:
        meeting = slot.meeting
        if meeting.id not in found:
            rank = _language_rank(meeting.languages, wanted)
            if rank is not None:
                rank = 2 * rank + (1 if women_first and not meeting.women_only else 0)
            distance = None
            if near is not None:
                assert meeting.latitude is not None and meeting.longitude is not None
                distance = distance_km(*near, meeting.latitude, meeting.longitude)
            if rank is None or meeting.id in skip:
                found[meeting.id] = None
            elif distance is None:
                found[meeting.id] = _Match(meeting, rank, None)
            else:
                within = distance <= radius_km
                found[meeting.id] = _Match(meeting, rank, round(distance, 1)) if within else None
        match = found[meeting.id]
        if match is not None:
            match.slots.append((slot.weekday, slot.starts, slot.ends, slot.timezone))
    return [match for match in found.values() if match is not None]


def _nearby(search: Search, timetable: Timetable) -> list[_Match]:
    """Meetings in person within the radius."""
    if search.near is None or not search.in_person:
        return []
    latitude, longitude = search.near
    south, north, west, east = bounding_box(latitude, longitude, search.radius_km)
    admits = _admits(search)
    slots = [
        slot
        for slot in timetable.within_latitudes(south, north, search.group_ids, search.group_slugs)
        if (west is None or west <= (slot.meeting.longitude or 0.0) <= (east or 0.0))
        and admits(slot)
    ]
    return _collect(slots, search, near=search.near)


# With more weekly times to join online than this, a search for the first few reads
# those starting in the next hours first, about this many (see _remote).
_READ_WHOLE = 200


def _horizons(timetable: Timetable) -> tuple[int, ...]:
    """How far ahead to read first, then next, before reading the whole week."""
    return 5 * 60, 26 * 60


def _remote(
    search: Search,
    clocks: Clocks,
    timetable: Timetable,
    *,
    limit: int | None = None,
    per_group: int | None = None,
    skip: Collection[int] = (),
) -> list[_Match]:
    """Meetings to join at a distance, enough to choose the first ``limit`` (or
    ``per_group`` of each group) from; every one when neither is given.

    Working out the next start of thousands of weekly times costs far more than the
    few wanted, so where there are many (more than _READ_WHOLE) only those within the
    first horizon are read, in the timetable's order of the UTC week on standard time.
    Daylight saving makes a weekly time start earlier than that, by up to a clock
    change, never later; so a group, or the whole listing, with enough of the first
    rank (in a wanted language; for women only, where they come first) found to
    start a clock change before the horizon is complete: nothing unread can come
    before them. The others are read again for the next horizon, then for the whole
    week.
    """
    admits = _admits(search)
    bound = per_group if per_group is not None else limit
    weeks = timetable.remote_of(
        search.group_ids, search.group_slugs, each_group=per_group is not None
    )
    if bound is None or sum(len(week) for week in weeks) <= _READ_WHOLE:
        everything = (slot for week in weeks for slot in week.slots)
        return _collect(filter(admits, everything), search, skip=skip)
    kept: list[_Match] = []
    for horizon in _horizons(timetable):
        found = _collect(
            (
                slot
                for week in weeks
                for slot in week.starting_within(clocks.utc_minute, horizon)
                if admits(slot)
            ),
            search,
            skip=skip,
        )
        # A weekly time not read starts at its minute on standard time or up to a
        # clock change earlier: what starts before that cannot be overtaken.
        before = clocks.now + dt.timedelta(minutes=horizon - CLOCK_CHANGE_MINUTES)
        # Only those in a wanted language that can be among the first, by the estimate,
        # need their exact next start.
        first = [match for match in found if match.rank == 0]
        for match in first:
            match.estimate(clocks)
        first.sort(key=lambda match: (match.soon, match.meeting.id))
        sure: dict[int | None, list[_Match]] = defaultdict(list)
        for match in _candidates(first, _soon, limit, per_group, slack=2 * CLOCK_CHANGE_MINUTES):
            match.settle(clocks)
            if match.starts is not None and match.starts < before:
                sure[match.group_id if per_group is not None else None].append(match)
        done = {key for key, matches in sure.items() if len(matches) >= bound}
        if per_group is None:
            if done:
                return sure[None]
            continue
        kept += [match for key in done for match in sure[key]]
        weeks = [week for week in weeks if week.slots[0].meeting.group_id not in done]
        if not weeks:
            return kept
    everything = (slot for week in weeks for slot in week.slots)
    return kept + _collect(filter(admits, everything), search, skip=skip)


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

    ordered = sorted(matches, key=lambda match: (*near(match), match.meeting.id))
    chosen = _candidates(ordered, near, limit, per_group, slack=0.0)
    for match in chosen:
        match.settle(clocks)
    chosen.sort(key=lambda match: (*near(match), _utc(match), match.meeting.id))
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

        ordered = sorted(matches, key=lambda match: (*_soon(match), match.meeting.id))
        chosen = _candidates(ordered, _soon, limit, per_group, slack=2 * CLOCK_CHANGE_MINUTES)
    for match in chosen:
        match.settle(clocks)
    chosen.sort(key=lambda match: (match.rank, _utc(match), match.meeting.id))
    return _take(chosen, limit, per_group)


def _soon(match: _Match) -> tuple[int, float]:
    return match.rank, match.soon


def _utc(match: _Match) -> float:
    # Compared as timestamps: much faster than aware times in different zones.
    assert match.starts is not None
    return match.starts.timestamp()


def in_person(search: Search, now: dt.datetime) -> list[Upcoming]:
    """Meetings within the radius, nearest first (then soonest). One query."""
    return [
        match.upcoming() for match in _nearest(_nearby(search, current_timetable()), Clocks(now))
    ]


def online(search: Search, now: dt.datetime) -> list[Upcoming]:
    """Meetings one can join by link or telephone, soonest first. One query."""
    if not search.online:
        return []
    clocks = Clocks(now)
    found = _remote(search, clocks, current_timetable())
    return [match.upcoming() for match in _soonest(found, clocks)]


def listing(search: Search, now: dt.datetime, *, limit: int) -> Listing:
    """How many meetings match in person and online, and the first ``limit`` of them:
    in person nearest first, then online soonest first (without the hybrid meetings
    already listed in person). Wheelchair access is asked of meetings in person only.
    One query, to tell whether the timetable is current."""
    clocks = Clocks(now)
    timetable = current_timetable()
    near = _nearby(search, timetable)
    chosen = _nearest(near, clocks, limit=limit)
    online_count = 0
    if search.online:
        search = replace(search, wheelchair_access=False)
        # Hybrid meetings nearby are listed once, in person.
        listed = {m.meeting.id for m in near if m.meeting.attendance == Attendance.HYBRID}
        online_count = _count_online(search, timetable, listed)
        rest = limit - len(chosen)
        if rest > 0 and online_count:
            found = _remote(search, clocks, timetable, limit=rest, skip=listed)
            chosen += _soonest(found, clocks, limit=rest)
    items = [match.upcoming() for match in chosen]
    return Listing(in_person=len(near), online=online_count, items=items)


def _count_online(search: Search, timetable: Timetable, listed: Collection[int]) -> int:
    """Meetings to join at a distance, in a wanted language or stating none, that are
    not ``listed`` already."""
    admits = _admits(search)
    wanted = frozenset(search.languages)
    counted = {
        slot.meeting.id
        for week in timetable.remote_of(search.group_ids, search.group_slugs)
        for slot in week.slots
        if admits(slot) and _language_rank(slot.meeting.languages, wanted) is not None
    }
    return len(counted - set(listed))


def per_group(
    search: Search, now: dt.datetime, limit: int = PER_GROUP
) -> dict[int, list[Upcoming]]:
    """Each group's next meetings: nearby ones nearest first, then online ones soonest first.

    One query whatever the number of groups and meetings, to tell whether the
    timetable is current.
    """
    clocks = Clocks(now)
    timetable = current_timetable()
    chosen = _nearest(_nearby(search, timetable), clocks, per_group=limit)
    if search.online:
        shown = {match.meeting.id for match in chosen}
        found = _remote(search, clocks, timetable, per_group=limit, skip=shown)
        chosen += _soonest(found, clocks, per_group=limit)
    grouped: dict[int, list[Upcoming]] = defaultdict(list)
    for match in chosen:
        grouped[match.group_id].append(match.upcoming())
    return dict(grouped)
