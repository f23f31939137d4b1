"""Anonymise referrals whose retention period has run out. Idempotent: schedule it
daily (cron, a systemd timer); a second run the same day finds nothing to do."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from referrals.services import anonymise_expired, expired_referrals, retention_cutoff


class Command(BaseCommand):
    help = (
        "Anonymise referrals closed more than REFERRAL_RETENTION_DAYS ago (and those saved "
        "that long ago with no choice recorded): reference, profile and the menu's reasons "
        "are removed; groups, outcomes and dates stay for the dashboard."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be anonymised."
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        cutoff = retention_cutoff()
        days = settings.REFERRAL_RETENTION_DAYS
        if dry_run:
            count = expired_referrals(cutoff).count()
            self.stdout.write(
                f"{count} referral(s) past {days} days of retention (before {cutoff})."
            )
            return
        count = anonymise_expired()
        self.stdout.write(f"Anonymised {count} referral(s) past {days} days of retention.")
