"""Count the dashboard's tallies afresh from the referrals.

The services keep the tallies current; run this after writing referrals around them
(a bulk load, SQL, a restore of the referrals table) or after changing TIME_ZONE,
which decides the month a referral counts in.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organisation
from referrals import tallies


class Command(BaseCommand):
    help = (
        "Count the tallies the dashboard reads afresh from the referrals, of every "
        "organisation or of those named; --check only reports whether they are current."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organisation",
            action="append",
            metavar="SLUG",
            help="Only this organisation (repeat for several).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit with status 1 if the tallies are not current.",
        )

    def handle(
        self, *args: Any, organisation: list[str] | None, check: bool, **options: Any
    ) -> None:
        ids = None
        if organisation:
            found = dict(
                Organisation.objects.filter(slug__in=organisation).values_list("slug", "pk")
            )
            unknown = sorted(set(organisation) - set(found))
            if unknown:
                raise CommandError(f"--organisation: no organisation {', '.join(unknown)}.")
            ids = list(found.values())
        if check:
            wrong = tallies.mismatches(ids)
            if wrong:
                raise CommandError(
                    f"{wrong} tally row(s) differ from the referrals: run rebuild_tallies.",
                    returncode=1,
                )
            self.stdout.write("The tallies are current.")
            return
        made, reasons = tallies.rebuild(ids)
        self.stdout.write(f"Counted {made} tally row(s) and {reasons} of reasons.")
