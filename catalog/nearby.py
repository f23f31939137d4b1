"""Upcoming meetings near a point or online, for the menu, the handout and the finder.

A search costs one query for meetings in person and one for meetings online,
whatever the number of meetings and groups: in-person meetings are narrowed by a
latitude/longitude box in the database (an index on the position serves it), then
measured exactly and ordered here. The next start of each weekly time is worked out
in the meeting's own time zone (``catalog.schedule``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from catalog.languages import language_name, split_languages
from catalog.models import Attendance, MeetingSlot, Openness
from catalog.schedule import bounding_box, distance_km, next_start

DEFAULT_RADIUS_KM = 25
MAX_RADIUS_KM = 300
# The distances a counsellor can choose between.
RADII_KM = (5, 10, 25, 50, 100, 300)
PER_GROUP = 3

_IN_PERSON = (Attendance.IN_PERSON, Attendance.HYBRID)
_REMOTE = (Attendance.ONLINE, Attendance.HYBRID)
_COLUMNS = (
    "weekday",
    "starts",
    "ends",
    "timezone",
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
)


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
    wheelchair_access: bool = False
    organisation_id: int | None = None
    exclude_ids: Collection[int] = field(default_factory=tuple)


def _types(row: dict[str, Any]) -> tuple[str, ...]:
    types = []
    if row["meeting__openness"] == Openness.OPEN:
        types.append("open")
    elif row["meeting__openness"] == Openness.CLOSED:
        types.append("closed")
    if row["meeting__women_only"]:
        types.append("women")
    if row["meeting__secular"]:
        types.append("secular")
    if row["meeting__wheelchair_access"]:
        types.append("wheelchair")
    return tuple(types)


def _rows(search: Search, attendance: Iterable[str]) -> Any:
    rows = MeetingSlot.objects.filter(
        meeting__retired_at__isnull=True,
        meeting__group__active=True,
        meeting__attendance__in=list(attendance),
    )
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
    if search.wheelchair_access:
        rows = rows.filter(meeting__wheelchair_access=True)
    if search.exclude_ids:
        rows = rows.exclude(meeting_id__in=list(search.exclude_ids))
    return rows


def _upcoming(row: dict[str, Any], now: dt.datetime, distance: float | None) -> Upcoming:
    starts = next_start(row["weekday"], row["starts"], row["timezone"], now)
    ends = None
    if row["ends"] is not None:
        ends = starts.replace(hour=row["ends"].hour, minute=row["ends"].minute)
        if ends <= starts:
            ends += dt.timedelta(days=1)
    return Upcoming(
        id=row["meeting_id"],
        group_id=row["meeting__group_id"],
        group=row["meeting__group__slug"],
        name=row["meeting__name"],
        starts=starts,
        ends=ends,
        timezone=row["timezone"],
        attendance=row["meeting__attendance"],
        location=row["meeting__location"],
        address=row["meeting__address"],
        municipality=row["meeting__municipality"],
        postcode=row["meeting__postcode"],
        country=str(row["meeting__country"] or ""),
        latitude=row["meeting__latitude"],
        longitude=row["meeting__longitude"],
        online_url=row["meeting__online_url"],
        online_notes=row["meeting__online_notes"],
        phone=row["meeting__phone"],
        distance_km=distance,
        languages=tuple(split_languages(row["meeting__languages"])),
        types=_types(row),
        is_example=row["meeting__is_example"],
    )


def _soonest_per_meeting(found: Iterable[Upcoming]) -> list[Upcoming]:
    """A meeting with several weekly times is listed once, at its next start."""
    best: dict[int, Upcoming] = {}
    for item in found:
        if item.id not in best or item.starts < best[item.id].starts:
            best[item.id] = item
    return list(best.values())


def _language_rank(item: Upcoming, wanted: Collection[str]) -> int | None:
    """0 for a meeting in a wanted language, 1 when it states none, None to leave out."""
    if not wanted:
        return 0
    if not item.languages:
        return 1
    return 0 if set(item.languages) & set(wanted) else None


def in_person(search: Search, now: dt.datetime) -> list[Upcoming]:
    """Meetings within the radius, nearest first (then soonest)."""
    if search.near is None or not search.in_person:
        return []
    latitude, longitude = search.near
    south, north, west, east = bounding_box(latitude, longitude, search.radius_km)
    rows = _rows(search, _IN_PERSON).filter(
        meeting__latitude__gte=south, meeting__latitude__lte=north
    )
    if west is not None and east is not None:
        rows = rows.filter(meeting__longitude__gte=west, meeting__longitude__lte=east)
    found = []
    for row in rows.values(*_COLUMNS):
        distance = distance_km(
            latitude, longitude, row["meeting__latitude"], row["meeting__longitude"]
        )
        if distance <= search.radius_km:
            found.append(_upcoming(row, now, round(distance, 1)))
    ranked = [
        (rank, item)
        for item in _soonest_per_meeting(found)
        if (rank := _language_rank(item, search.languages)) is not None
    ]
    ranked.sort(key=lambda pair: (pair[0], pair[1].distance_km or 0.0, pair[1].starts))
    return [item for _, item in ranked]


def online(search: Search, now: dt.datetime) -> list[Upcoming]:
    """Meetings one can join by link or telephone, soonest first."""
    if not search.online:
        return []
    rows = _rows(search, _REMOTE).exclude(meeting__online_url="", meeting__phone="")
    found = [_upcoming(row, now, None) for row in rows.values(*_COLUMNS)]
    ranked = [
        (rank, item)
        for item in _soonest_per_meeting(found)
        if (rank := _language_rank(item, search.languages)) is not None
    ]
    ranked.sort(key=lambda pair: (pair[0], pair[1].starts))
    return [item for _, item in ranked]


def per_group(
    search: Search, now: dt.datetime, limit: int = PER_GROUP
) -> dict[int, list[Upcoming]]:
    """Each group's next meetings: nearby ones nearest first, then online ones soonest first.

    Two queries whatever the number of groups and meetings.
    """
    chosen: dict[int, list[Upcoming]] = defaultdict(list)
    for item in in_person(search, now):
        if len(chosen[item.group_id]) < limit:
            chosen[item.group_id].append(item)
    remote: dict[int, list[Upcoming]] = defaultdict(list)
    shown = {item.id for items in chosen.values() for item in items}
    for item in online(search, now):
        if item.id not in shown and len(remote[item.group_id]) < limit:
            remote[item.group_id].append(item)
    for group_id, items in remote.items():
        chosen[group_id].extend(items)
    return dict(chosen)

