"""When a weekly meeting next starts, and how far away it is: checked against times
and distances worked out by hand. No database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.schedule import (
    CLOCK_CHANGE_MINUTES,
    WEEK_MINUTES,
    Clocks,
    bounding_box,
    distance_km,
    next_start,
    utc_week_minute,
    week_minute,
)

OSLO = "Europe/Oslo"
TORONTO = "America/Toronto"
MONDAY, TUESDAY, SUNDAY = 0, 1, 6


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def at(timestamp: str) -> dt.time:
    return dt.time.fromisoformat(timestamp)


def test_a_meeting_keeps_its_wall_clock_time_when_oslo_springs_forward():
    # Saturday 28 March 2026, 13:00 in Oslo (CET, UTC+1). Clocks go from 02:00 to 03:00
    # on Sunday 29 March, so Sunday's 18:00 is CEST (UTC+2): 16:00 UTC.
    starts = next_start(SUNDAY, at("18:00"), OSLO, utc(2026, 3, 28, 12, 0))
    assert starts.isoformat() == "2026-03-29T18:00:00+02:00"
    assert starts.astimezone(dt.UTC) == utc(2026, 3, 29, 16, 0)


def test_the_wait_across_the_spring_change_is_an_hour_shorter():
    # Friday 27 March 2026 19:00 CET to Monday 30 March 19:00 CEST: two days and 23
    # hours, not three days.
    now = utc(2026, 3, 27, 18, 0)
    starts = next_start(MONDAY, at("19:00"), OSLO, now)
    assert starts.isoformat() == "2026-03-30T19:00:00+02:00"
    assert starts - now == dt.timedelta(days=2, hours=23)


def test_a_start_in_the_skipped_hour_moves_on_by_the_gap():
    # 02:30 on Sunday 29 March 2026 does not exist in Oslo: the clocks read 03:30 CEST
    # then, 01:30 UTC.
    starts = next_start(SUNDAY, at("02:30"), OSLO, utc(2026, 3, 28, 12, 0))
    assert starts.isoformat() == "2026-03-29T03:30:00+02:00"
    assert starts.astimezone(dt.UTC) == utc(2026, 3, 29, 1, 30)


def test_a_meeting_keeps_its_wall_clock_time_when_oslo_falls_back():
    # Clocks go from 03:00 back to 02:00 on Sunday 25 October 2026: Sunday's 18:00 is
    # CET again (UTC+1), 17:00 UTC, and the wait from Saturday 14:00 CEST is 29 hours.
    now = utc(2026, 10, 24, 12, 0)
    starts = next_start(SUNDAY, at("18:00"), OSLO, now)
    assert starts.isoformat() == "2026-10-25T18:00:00+01:00"
    assert starts - now == dt.timedelta(hours=29)


def test_in_the_repeated_hour_the_first_of_the_two_is_meant():
    # 02:30 happens twice on 25 October 2026: first in CEST (00:30 UTC), then in CET.
    starts = next_start(SUNDAY, at("02:30"), OSLO, utc(2026, 10, 24, 12, 0))
    assert starts.astimezone(dt.UTC) == utc(2026, 10, 25, 0, 30)
    assert starts.utcoffset() == dt.timedelta(hours=2)


def test_a_meeting_just_after_midnight_is_the_next_day():
    # Monday 7 December 2026, 23:50 in Oslo (22:50 UTC); the meeting is Tuesday 00:30.
    now = utc(2026, 12, 7, 22, 50)
    starts = next_start(TUESDAY, at("00:30"), OSLO, now)
    assert starts.isoformat() == "2026-12-08T00:30:00+01:00"
    assert starts - now == dt.timedelta(minutes=40)


def test_a_meeting_later_today_is_today_and_one_already_started_is_next_week():
    # Tuesday 8 December 2026 in Oslo (CET): 18:00, then 19:31, then 19:30 sharp.
    assert next_start(TUESDAY, at("19:30"), OSLO, utc(2026, 12, 8, 17, 0)).isoformat() == (
        "2026-12-08T19:30:00+01:00"
    )
    assert next_start(TUESDAY, at("19:30"), OSLO, utc(2026, 12, 8, 18, 31)).isoformat() == (
        "2026-12-15T19:30:00+01:00"
    )
    # Starting this very minute still counts as upcoming.
    assert next_start(TUESDAY, at("19:30"), OSLO, utc(2026, 12, 8, 18, 30)).isoformat() == (
        "2026-12-08T19:30:00+01:00"
    )


def test_the_same_instant_is_a_different_day_and_hour_in_toronto_and_oslo():
    # Tuesday 8 December 2026, 18:00 UTC: 13:00 in Toronto (EST, UTC-5), 19:00 in Oslo.
    now = utc(2026, 12, 8, 18, 0)
    toronto = next_start(TUESDAY, at("19:30"), TORONTO, now)
    assert toronto.isoformat() == "2026-12-08T19:30:00-05:00"
    # 01:30 on Wednesday on an Oslo clock.
    assert toronto.astimezone(ZoneInfo(OSLO)).isoformat() == "2026-12-09T01:30:00+01:00"
    assert next_start(TUESDAY, at("19:30"), OSLO, now).isoformat() == ("2026-12-08T19:30:00+01:00")
    # 18:30 has passed in Oslo (17:30 UTC) but is still to come in Toronto.
    assert next_start(TUESDAY, at("18:30"), OSLO, now).date() == dt.date(2026, 12, 15)
    assert next_start(TUESDAY, at("18:30"), TORONTO, now).date() == dt.date(2026, 12, 8)


def test_toronto_is_five_hours_behind_oslo_between_the_two_spring_changes():
    # North America springs forward on 8 March 2026, Europe on 29 March: on Monday
    # 16 March, 19:00 in Toronto (EDT) is 23:00 UTC and 19:00 in Oslo (CET) 18:00 UTC.
    now = utc(2026, 3, 16, 12, 0)
    toronto = next_start(MONDAY, at("19:00"), TORONTO, now)
    oslo = next_start(MONDAY, at("19:00"), OSLO, now)
    assert toronto.astimezone(dt.UTC) == utc(2026, 3, 16, 23, 0)
    assert oslo.astimezone(dt.UTC) == utc(2026, 3, 16, 18, 0)
    assert toronto - oslo == dt.timedelta(hours=5)


def test_oslo_to_drammen_is_about_36_km():
    # By hand (a flat projection is exact enough at this range): 0.1700° of latitude is
    # 18.90 km; 0.5477° of longitude at 59.83° N is 0.5477 * cos 59.83° * 111.19 =
    # 30.60 km; √(18.90² + 30.60²) = 35.97 km.
    assert distance_km(59.9139, 10.7522, 59.7439, 10.2045) == pytest.approx(35.97, abs=0.5)


def test_belleville_to_trenton_is_about_17_km():
    # 0.0627° of latitude is 6.97 km; 0.1932° of longitude at 44.13° N is
    # 0.1932 * cos 44.13° * 111.19 = 15.42 km; √(6.97² + 15.42²) = 16.92 km.
    assert distance_km(44.1628, -77.3832, 44.1001, -77.5764) == pytest.approx(16.92, abs=0.5)


def test_distance_is_symmetric_and_zero_for_the_same_point():
    assert distance_km(59.7439, 10.2045, 59.7439, 10.2045) == 0
    assert distance_km(59.9, 10.7, 44.1, -77.4) == pytest.approx(
        distance_km(44.1, -77.4, 59.9, 10.7)
    )


@given(
    latitude=st.floats(-80, 80),
    longitude=st.floats(-170, 170),
    north=st.floats(-1, 1),
    east=st.floats(-1, 1),
)
def test_the_bounding_box_holds_every_point_within_the_radius(latitude, longitude, north, east):
    point = (latitude + north * 0.2, longitude + east * 0.2)
    distance = distance_km(latitude, longitude, *point)
    south, north_edge, west, east_edge = bounding_box(latitude, longitude, distance + 0.01)
    assert south <= point[0] <= north_edge
    if west is not None and east_edge is not None:
        assert west <= point[1] <= east_edge


ZONES = [OSLO, TORONTO, "Europe/London", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kolkata"]


@given(
    now=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
        lambda moment: moment.replace(tzinfo=dt.UTC)
    ),
    weekday=st.integers(0, 6),
    starts=st.times(),
    zone=st.sampled_from(ZONES),
)
def test_the_estimate_is_within_a_clock_change_of_the_exact_next_start(now, weekday, starts, zone):
    clocks = Clocks(now)
    exact = next_start(weekday, starts, zone, now)
    assert clocks.next_start(weekday, starts, zone) == exact
    minutes = (exact - now).total_seconds() / 60
    assert abs(clocks.minutes_until(weekday, starts, zone) - minutes) <= CLOCK_CHANGE_MINUTES


@pytest.mark.parametrize(
    "zone", ["Europe/Oslo", "America/St_Johns", "Australia/Lord_Howe", "Antarctica/Troll", "UTC"]
)
def test_daylight_saving_makes_a_start_earlier_than_its_standard_minute_never_later(zone):
    # What the search's index relies on: the true minute of the UTC week a weekly time
    # starts at is within CLOCK_CHANGE_MINUTES before the one kept, all year round.
    now = utc(2026, 1, 1, 0, 0)
    for _week in range(53):
        for weekday in range(7):
            for starts in (at("00:30"), at("02:30"), at("12:00"), at("23:45")):
                kept = utc_week_minute(weekday, starts, zone, 2026)
                begins = next_start(weekday, starts, zone, now).astimezone(dt.UTC)
                true = week_minute(begins.weekday(), begins.time())
                assert 0 <= (kept - true) % WEEK_MINUTES <= CLOCK_CHANGE_MINUTES
        now += dt.timedelta(days=7)
