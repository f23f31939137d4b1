"""When a weekly meeting next starts, and how far away it is.

Pure functions: no database, no clock of their own (``now`` is passed in), so they
can be checked against hand-computed times across daylight-saving changes and
midnight.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = math.pi * EARTH_RADIUS_KM / 180


def next_start(weekday: int, starts: dt.time, timezone: str, now: dt.datetime) -> dt.datetime:
    """The next start at or after ``now``, as an aware time in the meeting's own zone.

    ``weekday`` counts from Monday (0) to Sunday (6). Local wall-clock time is what a
    meeting keeps across a change of daylight-saving time: 18:00 stays 18:00, and the
    offset is the one in force that day. A start in the hour skipped in spring is
    moved forward by the gap (02:30 becomes 03:30), as clocks are; in the repeated hour
    in autumn, the first of the two is meant.
    """
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
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
