"""When a weekly meeting next starts, and how far away it is.

Pure functions: no database, no clock of their own (``now`` is passed in), so they
can be checked against hand-computed times across daylight-saving changes and
midnight.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from zoneinfo import ZoneInfo

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = math.pi * EARTH_RADIUS_KM / 180
WEEK_MINUTES = 7 * 24 * 60
# How far a wall clock can part from real time over a week: one daylight-saving change,
# an hour nearly everywhere and two at most (Antarctica/Troll).
CLOCK_CHANGE_MINUTES = 120
ZERO = dt.timedelta(0)


@functools.cache
def zone_info(timezone: str) -> ZoneInfo:
    # ZoneInfo keeps its own cache, but behind a lock and a weak reference: a plain dict
    # is faster for the few zones a search meets thousands of times.
    return ZoneInfo(timezone)


def next_start(weekday: int, starts: dt.time, timezone: str, now: dt.datetime) -> dt.datetime:
    """The next start at or after ``now``, as an aware time in the meeting's own zone.

    ``weekday`` counts from Monday (0) to Sunday (6). Local wall-clock time is what a
    meeting keeps across a change of daylight-saving time: 18:00 stays 18:00, and the
    offset is the one in force that day. A start in the hour skipped in spring is
    moved forward by the gap (02:30 becomes 03:30), as clocks are; in the repeated hour
    in autumn, the first of the two is meant.
    """
    zone = zone_info(timezone)
    return _next_start(weekday, starts, zone, now.astimezone(zone), now)


def _next_start(
    weekday: int, starts: dt.time, zone: ZoneInfo, local_now: dt.datetime, now: dt.datetime
) -> dt.datetime:
    days_ahead = (weekday - local_now.weekday()) % 7
    for extra in (0, 7, 14):
        day = local_now.date() + dt.timedelta(days=days_ahead + extra)
        candidate = _wall_clock(day, starts, zone)
        if candidate >= now:
            return candidate
    raise AssertionError("a weekly time always recurs within two weeks")  # pragma: no cover


def _wall_clock(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    naive = dt.datetime.combine(day, time)
    aware = naive.replace(tzinfo=zone, fold=0)
    # A wall-clock time that does not exist (spring forward) does not survive a round
    # trip through UTC; normalising it moves it on by the gap.
    return aware.astimezone(dt.UTC).astimezone(zone)


class Clocks:
    """``now`` on the wall clock of each time zone a search meets, worked out once.

    ``minutes_until`` is a cheap estimate, in whole minutes on the zone's wall clock,
    of how long until a weekly time next comes round: exact but for a daylight-saving
    change before it, so within ``CLOCK_CHANGE_MINUTES`` of the truth. A search orders
    thousands of weekly times by it and works out ``next_start`` only for those that
    can make the cut.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._local: dict[str, tuple[ZoneInfo, dt.datetime, int]] = {}

    def local(self, timezone: str) -> tuple[ZoneInfo, dt.datetime, int]:
        """The zone, ``now`` on its wall clock, and that as a minute of the week
        (rounded up, so that a start already a few seconds past counts as past)."""
        found = self._local.get(timezone)
        if found is None:
            zone = zone_info(timezone)
            local_now = self.now.astimezone(zone)
            minute = week_minute(local_now.weekday(), local_now.time())
            if local_now.second or local_now.microsecond:
                minute += 1
            found = self._local[timezone] = (zone, local_now, minute)
        return found

    @functools.cached_property
    def utc_minute(self) -> int:
        """``now`` as a minute of the UTC week, rounded up as ``local`` rounds."""
        return self.local("UTC")[2]

    def minutes_until(self, weekday: int, starts: dt.time, timezone: str) -> int:
        return (week_minute(weekday, starts) - self.local(timezone)[2]) % WEEK_MINUTES

    def next_start(self, weekday: int, starts: dt.time, timezone: str) -> dt.datetime:
        """As ``next_start`` with this ``now``."""
        zone, local_now, _minute = self.local(timezone)
        return _next_start(weekday, starts, zone, local_now, self.now)


def utc_week_minute(weekday: int, starts: dt.time, timezone: str, year: int) -> int:
    """The minute of the week, counted in UTC from Monday 00:00, at which a weekly time
    starts on its zone's standard time (the lesser of its offsets in January and July
    of ``year``). Daylight saving time makes the true minute earlier, by up to
    ``CLOCK_CHANGE_MINUTES``, never later."""
    return (week_minute(weekday, starts) - _standard_offset(timezone, year)) % WEEK_MINUTES


@functools.cache
def _standard_offset(timezone: str, year: int) -> int:
    """The zone's offset from UTC on standard time, in minutes."""
    zone = zone_info(timezone)
    offset = min(
        dt.datetime(year, month, 1, tzinfo=dt.UTC).astimezone(zone).utcoffset() or ZERO
        for month in (1, 7)
    )
    return int(offset.total_seconds()) // 60


def week_minute(weekday: int, time: dt.time) -> int:
    """Minutes from Monday 00:00 to ``time`` on ``weekday`` (0 = Monday)."""
    return weekday * 1440 + time.hour * 60 + time.minute


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the haversine formula (mean Earth radius)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(
    latitude: float, longitude: float, radius_km: float
) -> tuple[float, float, float | None, float | None]:
    """A latitude/longitude box holding every point within ``radius_km``.

    Returns (south, north, west, east); west and east are None when the box spans
    every longitude (near a pole, or across the antimeridian), and the caller then
    filters by latitude only.
    """
    d_lat = radius_km / KM_PER_DEGREE_LATITUDE
    south, north = max(-90.0, latitude - d_lat), min(90.0, latitude + d_lat)
    widest = max(abs(south), abs(north))
    if widest >= 89.0:
        return south, north, None, None
    d_lon = d_lat / math.cos(math.radians(widest))
    west, east = longitude - d_lon, longitude + d_lon
    if west < -180 or east > 180:
        return south, north, None, None
    return south, north, west, east
