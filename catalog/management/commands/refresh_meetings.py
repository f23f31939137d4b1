"""Fetch every active meeting feed with an address and apply it, each on its own.

    manage.py refresh_meetings [--feed KEY]

A feed that cannot be fetched or read is reported and left as it was; the others
are still applied. The exit status is 1 when any feed failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from catalog import meeting_import
from catalog.feeds import MAX_FEED_BYTES
from catalog.models import MeetingFeed
from curation import documents
from curation.imports import ImportRefused

FETCH_TIMEOUT = 60


class Command(BaseCommand):
    help = "Fetch and apply every active meeting feed that has an address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--feed", help="Only the feed with this key.")

    def handle(self, *args: Any, **options: Any) -> None:
        feeds = (
            MeetingFeed.objects.filter(active=True)
            .exclude(url="")
            .select_related("group", "source")
        )
        if options["feed"]:
            feeds = feeds.filter(key=options["feed"])
        failed = []
        for feed in feeds:
            try:
                if feed.group is None:
                    raise ImportRefused([f"{feed.key}: the feed names no group."])
                data = documents.fetch(feed.url, max_bytes=MAX_FEED_BYTES, timeout=FETCH_TIMEOUT)
                plan = meeting_import.plan_bytes(feed, data, now=timezone.now())
                report = str(plan.apply())
                lines = [report, *plan.notes, *(str(problem) for problem in plan.skipped)]
            except ImportRefused as error:
                failed.append(feed.key)
                lines = ["FAILED", *error.errors]
            feed.refreshed_at = timezone.now()
            feed.last_report = "\n".join(lines)
            feed.save(update_fields=["refreshed_at", "last_report"])
            self.stdout.write(f"{feed.key}: " + "\n  ".join(lines))
        if failed:
            raise CommandError(f"Failed: {', '.join(failed)}")
