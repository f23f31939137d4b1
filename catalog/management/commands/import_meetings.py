"""Import a fellowship's meeting feed from a file or an http(s) address.

    manage.py import_meetings feed.json --format meeting-guide --group aa \
        --timezone America/Toronto [--feed aa-quinte] [--dry-run]

Rows with problems are reported and left out; the others are applied in one
transaction. A document that cannot be read at all is refused (exit status 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog import meeting_import
from catalog.feeds import MAX_FEED_BYTES
from catalog.models import FeedFormat, Group
from curation import documents
from curation.imports import ImportRefused


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Import meetings from a Meeting Guide, BMLT or CSV feed (a path or an http(s) URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="A file path or an http(s) address.")
        parser.add_argument("--format", required=True, choices=FeedFormat.values)
        parser.add_argument("--group", help="Slug of the fellowship whose meetings these are.")
        parser.add_argument("--feed", help="The feed's key (default: from the file name).")
        parser.add_argument("--timezone", default="", help="For rows without one.")
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        is_url = source.startswith(("http://", "https://"))
        key = options["feed"] or slugify(Path(source.split("?")[0]).stem)[:60]
        if not key:
            raise CommandError("Give the feed's key with --feed.")
        group = None
        if options["group"]:
            group = Group.objects.filter(slug=options["group"]).first()
            if group is None:
                raise CommandError(f"No group with the slug “{options['group']}”.")
        try:
            if is_url:
                data = documents.fetch(source, max_bytes=MAX_FEED_BYTES)
            else:
                data = Path(source).read_bytes()
        except OSError as error:
            raise CommandError(f"{source}: {error}") from error
        except ImportRefused as error:
            raise CommandError("\n".join(error.errors)) from error
        try:
            with transaction.atomic():
                feed = meeting_import.ensure_feed(
                    key,
                    format=options["format"],
                    group=group,
                    url=source if is_url else "",
                    timezone=options["timezone"],
                )
                if feed.format != options["format"]:
                    raise CommandError(f"The feed “{key}” is in the format {feed.format}.")
                if feed.group is None:
                    raise CommandError("Name the fellowship with --group.")
                plan = meeting_import.plan_bytes(
                    feed, data, now=timezone.now(), name=Path(source).name
                )
                for problem in plan.skipped:
                    self.stdout.write(f"skipped {problem}")
                for note in plan.notes:
                    self.stdout.write(f"note: {note}")
                counts = plan.counts
                if options["dry_run"]:
                    self.stdout.write(
                        f"Would create {counts['create']}, update {counts['update']}, "
                        f"retire {counts['retire']}, leave {counts['unchanged']} unchanged; "
                        f"{len(plan.skipped)} rows skipped."
                    )
                    raise _DryRun
                report = plan.apply()
                feed.refreshed_at = timezone.now()
                feed.last_report = "\n".join([str(report), *(str(p) for p in plan.skipped)])
                feed.save(update_fields=["refreshed_at", "last_report"])
        except _DryRun:
            return
        except ImportRefused as error:
            raise CommandError("\n".join(error.errors)) from error
        self.stdout.write(f"{feed.key}: {report} {len(plan.skipped)} rows skipped.")
