"""Time the catalog pages on a 100-group catalog and print the figures.

Runs in process against a throw-away test database (SQLite by default, PostgreSQL
with DATABASE_URL), through Django's test client, so it measures the view,
queries and template rendering without network overhead.

    make bench            # or: .venv/bin/python bench/catalog_pages.py
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth.models import Group as RoleGroup  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from timing import measure  # noqa: E402

GROUPS = 100
RUNS = 50


def build_catalog() -> None:
    from accounts.models import Organisation, User
    from accounts.roles import Role, sync_role_groups
    from catalog.models import Availability, Group, Source, Trait, TraitValue
    from catalog.reference import sync_vocabulary

    sync_role_groups()
    sync_vocabulary()
    source = Source.objects.create(key="bench", title="Bench source", kind="primary")
    traits = list(Trait.objects.all())
    values = ["yes", "no", "optional", "varies"]
    for number in range(GROUPS):
        group = Group.objects.create(
            slug=f"group-{number}", name=f"Group {number}", kind="twelve_step", languages="en nb"
        )
        TraitValue.objects.bulk_create(
            TraitValue(
                group=group,
                trait=trait,
                value=values[(number + index) % 4],
                source=source,
                locator="p. 1",
                verified_on=dt.date(2026, 1, 1),
            )
            for index, trait in enumerate(traits)
        )
        Availability.objects.create(
            group=group, country="NO", source=source, verified_on=dt.date(2026, 1, 1)
        )
    organisation = Organisation.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user(username="bench", organisation=organisation)
    user.groups.add(RoleGroup.objects.get(name=Role.COUNSELLOR))


def main() -> None:
    from accounts.models import User

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        build_catalog()
        client = Client()
        client.force_login(User.objects.get(username="bench"))
        pages = [
            "/catalog/",
            "/catalog/?has=sponsorship&lacks=higher_power&country=NO&language=nb",
            "/catalog/groups/group-42/",
            "/catalog/compare/?groups=group-1&groups=group-2&groups=group-3&groups=group-4",
        ]
        print(f"catalog pages, {GROUPS} groups, {connection.vendor}, {RUNS} runs each")
        print(f"{'page':<72} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for path in pages:
            p50, p95, queries = measure(client, path, RUNS)
            print(f"{path:<72} {p50:8.1f} {p95:8.1f} {queries:8d}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
