"""Time catalog imports of generated files and print the figures.

    .venv/bin/python bench/imports.py            # or: --groups 250 1000

Runs in process against a throw-away test database (SQLite by default, PostgreSQL
with DATABASE_URL). For each size it times, as the import pages do them:

- *plan*: reading the file, checking every row and comparing it with the catalog
  (what the upload and the preview pages do);
- *apply*: writing the plan in one transaction, with history and audit entries
  (what "Apply these changes" does after planning again);

first into an empty catalog, then with a file that changes every trait value and
availability row of the same groups, then with that file again (nothing to change).
The last size is the largest file the upload accepts (5 MB). Target: plan and apply
of a valid 5 MB file together well under 30 s (aim: under 10 s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

COUNTRIES = ["NO", "BE", "NL", "GB", "SE", "DK"]
VALUES = ["yes", "no", "optional", "varies"]


def catalog_file(groups: int, *, variant: int = 0) -> bytes:
    """A catalog in the export's format, as dense as the shipped one: 10 to 19 trait
    values a group (one of them for a country), one or two availability rows. A
    different ``variant`` changes every value and every weekly count."""
    from catalog.vocabulary import VOCABULARY

    sources = [
        {
            "key": f"source-{n}",
            "title": f"Source {n}",
            "publisher": "Bench",
            "url": f"https://example.org/{n}",
            "kind": "primary",
        }
        for n in range(20)
    ]
    items = []
    for number in range(groups):
        traits = [
            {
                "trait": definition.key,
                "country": "",
                "value": VALUES[(number + index + variant) % 4],
                "source": f"source-{(number + index) % 20}",
                "locator": f"Section {index}, page {number % 300}",
                "verified_on": "2025-06-01",
                "note": "Checked against the group's own literature." if index % 3 == 0 else "",
            }
            for index, definition in enumerate(VOCABULARY[: 10 + number % 10])
        ]
        traits.append(
            {
                "trait": VOCABULARY[0].key,
                "country": COUNTRIES[number % 6],
                "value": "yes",
                "source": "source-1",
                "locator": "p. 2",
                "verified_on": "2025-06-01",
                "note": "",
            }
        )
        availability = [
            {
                "country": country,
                "region": "",
                "in_person_per_week": (number + variant) % 40,
                "online": "yes",
                "languages": ["en", "nb"],
                "source": "source-2",
                "locator": "Meeting list",
                "verified_on": "2025-06-01",
            }
            for country in COUNTRIES[: 1 + number % 2]
        ]
        items.append(
            {
                "slug": f"group-{number:04d}",
                "name": f"Group {number}",
                "kind": "twelve_step",
                "description": f"Bench group {number}, described at a realistic length for a "
                "peer support group.",
                "website": f"https://group{number}.example.org",
                "founded": 1950 + number % 70,
                "languages": ["en", "nb"],
                "active": True,
                "traits": traits,
                "availability": availability,
            }
        )
    document = {
        "format": "recovery-menu-catalog",
        "version": 1,
        "sources": sources,
        "groups": items,
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def largest_upload() -> int:
    """The number of generated groups whose file is the largest the upload takes."""
    from catalog.interchange import MAX_UPLOAD_BYTES

    groups = int(1000 * MAX_UPLOAD_BYTES / len(catalog_file(1000)))
    while len(catalog_file(groups)) > MAX_UPLOAD_BYTES:
        groups -= 5
    return groups


def clear_catalog() -> None:
    from audit.models import AuditEntry
    from catalog.models import Availability, Group, Source, TraitValue

    for model in (TraitValue, Availability, Group, Source):
        model.history.all().delete()
        model.objects.all().delete()
    # The audit trail refuses deletes through the ORM; a throw-away database may drop it.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table}")


def run(name: str, data: bytes) -> str:
    from catalog import interchange

    start = time.perf_counter()
    plan = interchange.plan_upload(data, "catalog.json")
    planned = time.perf_counter()
    reset_queries()  # the log keeps 9,000 queries: count from an empty one
    with CaptureQueriesContext(connection) as queries:
        summary = plan.apply()
    applied = time.perf_counter()
    return (
        f"  {name:<10} plan {planned - start:5.1f} s   apply {applied - planned:5.1f} s   "
        f"together {applied - start:5.1f} s   ({summary.created} created, {summary.updated} "
        f"updated, {summary.unchanged} unchanged; {len(queries)} queries to apply)"
    )


def main() -> None:
    from catalog.reference import sync_vocabulary

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="*", default=[250, 1000])
    sizes = parser.parse_args().groups
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        sync_vocabulary()
        largest = largest_upload()
        print(f"Catalog imports on {connection.vendor}:")
        for groups in [*sizes, largest]:
            clear_catalog()
            first, second = catalog_file(groups), catalog_file(groups, variant=1)
            label = " (the largest upload accepted)" if groups == largest else ""
            print(f"{groups:,} groups, {len(first) / 1e6:.1f} MB{label}:")
            print(run("new", first))
            print(run("changed", second))
            print(run("unchanged", second))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
