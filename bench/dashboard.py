"""Time the supervisor dashboard at 1,000,000 referrals and print the figures.

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/...): it
creates a throw-away test database, generates realistic referrals with follow-ups
through `create_demo_referrals`, multiplies them with SQL to the requested count
spread over three years (the copies carry an empty profile and menu, which the
dashboard never reads), counts the tallies the dashboard reads afresh (the copies
were written around the services that keep them), vacuums, and then requests the
dashboard through Django's test client, in process.

    .venv/bin/python bench/dashboard.py [--referrals 1000000] [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recoverymenu")
os.environ["DEBUG"] = "1"  # the demo command refuses otherwise; templates are cached below

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from timing import measure  # noqa: E402

SEED_REFERRALS = 5000

MULTIPLY = """
INSERT INTO referrals_referral (
    organisation_id, counsellor_id, reference, language, profile, menu, chosen_group,
    created_at, updated_at, country, first_ranked, offered_non_twelve_step, attended,
    engaged_one_month, engaged_three_months, disengaged, follow_up_due_on, closed_on
)
SELECT (%(organisations)s::int[])[1 + g %% cardinality(%(organisations)s::int[])],
       t.counsellor_id, 'B-' || g, t.language, '{}', '{}', t.chosen_group,
       now() - random() * interval '1095 days', now(), t.country, t.first_ranked,
       t.offered_non_twelve_step, t.attended, t.engaged_one_month, t.engaged_three_months,
       t.disengaged, NULL, t.closed_on
FROM generate_series(1, %(copies)s) AS g
JOIN (
    SELECT row_number() OVER (ORDER BY id) AS n, * FROM referrals_referral
) AS t ON t.n = 1 + g %% %(seed)s
"""

FOLLOW_UPS = """
INSERT INTO referrals_followup (referral_id, checkpoint, outcome, first_meeting_on,
                                recorded_by_id, recorded_at)
SELECT r.id, 'one_month', 'disengaged', NULL, r.counsellor_id, r.created_at + interval '30 days'
FROM referrals_referral r WHERE r.disengaged AND r.reference LIKE 'B-%%'
"""

REASONS = """
INSERT INTO referrals_followupreason (follow_up_id, code)
SELECT f.id, (%(codes)s::text[])[1 + f.id %% %(count)s]
FROM referrals_followup f
JOIN referrals_referral r ON r.id = f.referral_id AND r.reference LIKE 'B-%%'
"""


def build(total: int, organisations: int = 1) -> None:
    from accounts.models import Organisation
    from referrals import tallies
    from referrals.followup import REASON_CHOICES

    call_command("load_reference_data", verbosity=0)
    call_command("create_demo_users", stdout=io.StringIO())
    call_command("create_demo_referrals", referrals=SEED_REFERRALS, stdout=io.StringIO())
    codes = [code for code, _label in REASON_CHOICES]
    demo = Organisation.objects.get(slug="demo-clinic")
    others = [
        Organisation.objects.create(name=f"Clinic {n}", slug=f"clinic-{n}").pk
        for n in range(1, organisations)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            MULTIPLY,
            {
                "copies": total - SEED_REFERRALS,
                "seed": SEED_REFERRALS,
                "organisations": [demo.pk, *others],
            },
        )
        cursor.execute(FOLLOW_UPS)
        cursor.execute(REASONS, {"codes": codes, "count": len(codes)})
    started = time.perf_counter()
    rows, reasons = tallies.rebuild()
    print(
        f"counted {rows:,} tally rows and {reasons:,} of reasons afresh "
        f"in {time.perf_counter() - started:.1f} s"
    )
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    from accounts.models import User
    from referrals.models import Referral

    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--organisations",
        type=int,
        default=1,
        help="Spread the referrals over this many organisations (default 1: all in one).",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/dashboard.py needs PostgreSQL: set DATABASE_URL.")

    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        started = time.perf_counter()
        build(args.referrals, args.organisations)
        count = Referral.objects.count()
        mine = Referral.objects.filter(organisation__slug="demo-clinic").count()
        print(
            f"built {count:,} referrals in {time.perf_counter() - started:.0f} s, "
            f"{mine:,} of them in the supervisor's organisation"
        )
        supervisor = User.objects.get(username="supervisor")
        counsellor = User.objects.get(username="counsellor")
        other = User.objects.get(username="demo-clinic-ingrid")
        # Not the test environment's instrumented templates: pages render as served.
        client = Client(HTTP_HOST="localhost")
        client.force_login(supervisor)
        today = timezone.localdate()
        # A period that starts inside a month: its days there come from the tallies of
        # days, its whole months from those of months.
        since = today.replace(day=15) - datetime.timedelta(days=180)
        cut = f"since={since}&until={today - datetime.timedelta(days=1)}"
        pages = [
            "/referrals/dashboard/",
            f"/referrals/dashboard/?{cut}",
            "/referrals/dashboard/?period=3m",
            "/referrals/dashboard/?period=",
            f"/referrals/dashboard/?counsellor={other.pk}",
            "/referrals/dashboard/?group=na&country=NO",
            "/referrals/dashboard/counsellors.csv",
            "/referrals/?outcome=disengaged&theme=model-does-not-fit&period=12m",
        ]
        print(f"supervisor dashboard, {connection.vendor}, {args.runs} runs each")
        print(f"{'page':<70} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for path in pages:
            p50, p95, queries = measure(client, path, args.runs)
            print(f"{path:<70} {p50:8.1f} {p95:8.1f} {queries:8d}")
        client.force_login(counsellor)
        p50, p95, queries = measure(client, "/referrals/dashboard/", args.runs)
        print(f"{'(counsellor) /referrals/dashboard/':<70} {p50:8.1f} {p95:8.1f} {queries:8d}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
