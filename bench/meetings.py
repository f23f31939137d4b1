"""Time the search for upcoming meetings among 50,000 and print the figures.

Invents meetings in a throw-away database (SQLite by default; PostgreSQL with
``--postgres``, in a database of its own that is dropped afterwards): clustered
around towns of Europe and North America, about one in five online, each with one
to three weekly times on its own clock (Oslo, London, Toronto, Vancouver and more).
Then it times, in process and without the network:

- ``catalog.nearby.per_group`` for one profile: a point in Drammen, 25 km, online
  meetings too, the menu's eight groups, Norwegian or English (target under 20 ms);
- the meeting finder's search, near Drammen and online, every group, first page;
- the finder's page through Django's test client (session, form, rendering).

    .venv/bin/python bench/meetings.py [--meetings 50000] [--runs 200] [--postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

DRAMMEN = (59.7439, 10.2045)
RADIUS_KM = 25
MENU = ("na", "aa", "ca", "smart-recovery", "lifering", "wfs", "user-organization", "sos")
GROUPS = (
    ("na", "Narcotics Anonymous", "twelve_step"),
    ("aa", "Alcoholics Anonymous", "twelve_step"),
    ("ca", "Cocaine Anonymous", "twelve_step"),
    ("cma", "Crystal Meth Anonymous", "twelve_step"),
    ("ma", "Marijuana Anonymous", "twelve_step"),
    ("dra", "Dual Recovery Anonymous", "twelve_step"),
    ("sos", "Secular Organizations for Sobriety", "secular"),
    ("smart-recovery", "SMART Recovery", "secular"),
    ("lifering", "LifeRing Secular Recovery", "secular"),
    ("wfs", "Women for Sobriety", "secular"),
    ("user-organization", "User organisation peer groups", "user_organisation"),
    ("recovery-ngo", "Recovery NGO", "recovery_ngo"),
    ("trauma-support", "Trauma support group", "complementary"),
)
# Towns meetings cluster around: name, latitude, longitude, time zone, languages, weight.
TOWNS = (
    ("Oslo", 59.9139, 10.7522, "Europe/Oslo", "nb", 6),
    ("Drammen", 59.7439, 10.2045, "Europe/Oslo", "nb", 2),
    ("Bergen", 60.3913, 5.3221, "Europe/Oslo", "nb", 3),
    ("Trondheim", 63.4305, 10.3951, "Europe/Oslo", "nb", 2),
    ("Stavanger", 58.9700, 5.7331, "Europe/Oslo", "nb", 2),
    ("Stockholm", 59.3293, 18.0686, "Europe/Stockholm", "sv", 5),
    ("Copenhagen", 55.6761, 12.5683, "Europe/Copenhagen", "da", 4),
    ("Amsterdam", 52.3676, 4.9041, "Europe/Amsterdam", "nl", 5),
    ("Rotterdam", 51.9244, 4.4777, "Europe/Amsterdam", "nl", 3),
    ("Ghent", 51.0543, 3.7174, "Europe/Brussels", "nl", 3),
    ("Antwerp", 51.2194, 4.4025, "Europe/Brussels", "nl", 3),
    ("Brussels", 50.8503, 4.3517, "Europe/Brussels", "fr", 3),
    ("London", 51.5072, -0.1276, "Europe/London", "en", 10),
    ("Manchester", 53.4808, -2.2426, "Europe/London", "en", 4),
    ("Dublin", 53.3498, -6.2603, "Europe/Dublin", "en", 4),
    ("Paris", 48.8566, 2.3522, "Europe/Paris", "fr", 6),
    ("Berlin", 52.5200, 13.4050, "Europe/Berlin", "de", 6),
    ("Munich", 48.1351, 11.5820, "Europe/Berlin", "de", 3),
    ("Madrid", 40.4168, -3.7038, "Europe/Madrid", "es", 4),
    ("Rome", 41.9028, 12.4964, "Europe/Rome", "it", 3),
    ("Warsaw", 52.2297, 21.0122, "Europe/Warsaw", "pl", 3),
    ("Helsinki", 60.1699, 24.9384, "Europe/Helsinki", "fi", 2),
    ("Toronto", 43.6532, -79.3832, "America/Toronto", "en", 8),
    ("Belleville", 44.1628, -77.3832, "America/Toronto", "en", 1),
    ("Montreal", 45.5019, -73.5674, "America/Toronto", "fr", 5),
    ("New York", 40.7128, -74.0060, "America/New_York", "en", 12),
    ("Boston", 42.3601, -71.0589, "America/New_York", "en", 4),
    ("Chicago", 41.8781, -87.6298, "America/Chicago", "en", 7),
    ("Denver", 39.7392, -104.9903, "America/Denver", "en", 3),
    ("Phoenix", 33.4484, -112.0740, "America/Phoenix", "en", 3),
    ("Los Angeles", 34.0522, -118.2437, "America/Los_Angeles", "en", 9),
    ("Seattle", 47.6062, -122.3321, "America/Los_Angeles", "en", 4),
    ("Vancouver", 49.2827, -123.1207, "America/Vancouver", "en", 4),
    ("Halifax", 44.6488, -63.5752, "America/Halifax", "en", 1),
    ("St. John's", 47.5615, -52.7126, "America/St_Johns", "en", 1),
)
ONLINE_SHARE = 0.2
HYBRID_SHARE = 0.1


def invent(count: int, seed: int = 2026) -> tuple[int, int]:
    """Groups, an organisation with a counsellor, and ``count`` meetings with their
    weekly times; returns (meetings, weekly times)."""
    from django.contrib.auth.models import Group as RoleGroup

    from accounts.models import Organisation, User
    from accounts.roles import Role, sync_role_groups
    from catalog.models import Group, Meeting, MeetingSlot, Place, PlaceName

    sync_role_groups()
    drammen = Place.objects.create(
        reference="bench:drammen",
        name="Drammen",
        country="NO",
        region="Buskerud",
        latitude=DRAMMEN[0],
        longitude=DRAMMEN[1],
        population=100_000,
    )
    PlaceName.objects.create(key="drammen", place=drammen)
    groups = [
        Group.objects.create(slug=slug, name=name, kind=kind, languages="en")
        for slug, name, kind in GROUPS
    ]
    organisation = Organisation.objects.create(name="Bench Clinic", slug="bench", country="NO")
    user = User.objects.create_user(username="bench", organisation=organisation)
    user.groups.add(RoleGroup.objects.get(name=Role.COUNSELLOR))

    rng = random.Random(seed)
    weights = [town[5] for town in TOWNS]
    meetings, plans = [], []
    for number in range(count):
        town_name, latitude, longitude, zone, language, _weight = rng.choices(TOWNS, weights)[0]
        group = rng.choice(groups)
        languages = rng.choice([language, language, f"{language} en", ""])
        languages = " ".join(sorted(set(languages.split())))
        fields: dict[str, Any] = {
            "group": group,
            "name": f"{town_name} {group.slug} meeting {number}",
            "languages": languages,
            "openness": rng.choice(["open", "closed", ""]),
            "women_only": rng.random() < 0.05,
            "secular": group.kind != "twelve_step",
        }
        if rng.random() < ONLINE_SHARE:
            fields |= {
                "attendance": "online",
                "online_url": f"https://meet.example.org/{number}",
                "wheelchair_access": None,
            }
        else:
            # About 20 km around the town's centre.
            north_km, east_km = rng.gauss(0, 20), rng.gauss(0, 20)
            fields |= {
                "attendance": "hybrid" if rng.random() < HYBRID_SHARE else "in_person",
                "latitude": latitude + north_km / 111.2,
                "longitude": longitude + east_km / (111.2 * math.cos(math.radians(latitude))),
                "address": f"{number} Main Street",
                "municipality": town_name,
                "wheelchair_access": rng.choice([True, False, None]),
            }
            if fields["attendance"] == "hybrid":
                fields["online_url"] = f"https://meet.example.org/{number}"
        if number % 1000 == 0:
            fields |= {"organisation": organisation, "is_example": True}
        meetings.append(Meeting(**fields))
        days = rng.sample(range(7), rng.choice([1, 1, 2, 3]))
        plans.append((zone, days, rng.randrange(14, 44)))
    Meeting.objects.bulk_create(meetings, batch_size=2000)
    slots = [
        MeetingSlot(
            meeting=meeting,
            weekday=day,
            starts=dt.time(half_hours // 2, 30 * (half_hours % 2)),
            ends=None
            if half_hours % 5 == 0
            else dt.time((half_hours + 3) // 2 % 24, 30 * ((half_hours + 3) % 2)),
            timezone=zone,
        )
        for meeting, (zone, days, half_hours) in zip(meetings, plans, strict=True)
        for day in days
    ]
    MeetingSlot.objects.bulk_create(slots, batch_size=5000)
    return len(meetings), len(slots)


def timed(label: str, runs: int, call: Callable[[], Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        call()  # warm up
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        found = call()
    report(label, timings, len(queries), _size(found))


def report(label: str, timings: list[float], queries: int, found: str = "") -> None:
    timings = sorted(timings)
    print(
        f"{label:<48} mean {statistics.mean(timings):6.1f}  p50 {timings[len(timings) // 2]:6.1f}  "
        f"p95 {timings[int(len(timings) * 0.95)]:6.1f}  queries {queries:2d}  {found}"
    )


def _size(found: Any) -> str:
    if isinstance(found, dict):
        return f"{sum(len(items) for items in found.values())} listed"
    if hasattr(found, "total"):
        return f"{found.in_person} in person and {found.online} online, {len(found.items)} listed"
    return f"{len(found)} listed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)",
    )
    options = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # timing.py
    workdir = tempfile.mkdtemp(prefix="bench-meetings-")
    if options.postgres:
        os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/unused.sqlite3"

    import django

    django.setup()

    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # A database of the benchmark's own: never the one the test suite uses.
    connection.settings_dict["TEST"]["NAME"] = (
        f"bench_meetings_{os.getpid()}"
        if connection.vendor == "postgresql"
        else f"{workdir}/bench.sqlite3"
    )
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        start = time.perf_counter()
        made, slots = invent(options.meetings)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # statistics for the planner, as in production
        print(
            f"{made} meetings, {slots} weekly times, {connection.vendor}, "
            f"made in {time.perf_counter() - start:.0f} s; {options.runs} runs each, ms"
        )
        run(options.runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(runs: int) -> None:
    from django.http import QueryDict
    from django.test import Client
    from django.utils import timezone
    from timing import measure

    from accounts.models import User
    from catalog.finder_forms import Choices, MeetingFinderForm
    from catalog.models import Group
    from catalog.nearby import Search, listing, per_group

    now = timezone.now()
    menu = list(Group.objects.filter(slug__in=MENU).values_list("pk", flat=True))
    profile = Search(
        group_ids=menu,
        near=DRAMMEN,
        radius_km=RADIUS_KM,
        in_person=True,
        online=True,
        languages=("nb", "en"),
    )
    nearest = replace(profile, online=False)
    timed("per_group: Drammen, 25 km, in person only", runs, lambda: per_group(nearest, now))
    timed("per_group: Drammen, 25 km, online, 8 groups", runs, lambda: per_group(profile, now))

    user = User.objects.get(username="bench")
    query = "place=Drammen&attendance=either"
    form = MeetingFinderForm(
        QueryDict(query), choices=Choices.read(user.organisation_id), country="NO"
    )
    assert form.is_valid(), form.errors
    search = form.search(user.organisation_id)
    timed(
        "finder search: Drammen, 25 km and online",
        runs,
        lambda: listing(search, now, limit=20),
    )
    client = Client()
    client.force_login(user)
    p50, p95, queries = measure(client, f"/catalog/meetings/find/?{query}", runs)
    label = "finder page, whole, through the test client"
    print(f"{label:<48} p50 {p50:6.1f}  p95 {p95:6.1f}  queries {queries:2d}")


if __name__ == "__main__":
    main()
