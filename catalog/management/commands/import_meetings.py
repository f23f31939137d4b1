"""Import a fellowship's meetings from a file or an http(s) address.

    manage.py import_meetings feed.json --format meeting-guide --group aa \\
        --timezone America/Toronto [--feed aa-quinte] [--country CA] [--dry-run]

The feed is the one keyed ``--feed`` (by default the file's name), created with its
own source when new. Rows with problems are reported and left out; the others are
applied in one transaction. Exit status 0 when applied (rows left out or not), 1 when
the document is refused.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_countries import countries

from audit import log
from catalog import meeting_import
from catalog.feeds import MAX_FEED_BYTES
from catalog.models import FeedFormat, Group, MeetingFeed
from curation import documents
from curation.imports import ImportRefused, Plan

FETCH_TIMEOUT = 60


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Import meetings from a Meeting Guide, BMLT or CSV feed (a path or an http(s) URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="A file path or an http(s) address.")
        parser.add_argument("--format", required=True, choices=FeedFormat.values)
        parser.add_argument(
            "--group", help="Slug of the fellowship whose meetings these are (CSV: or per row)."
        )
        parser.add_argument("--feed", help="The feed's key (default: from the file name).")
        parser.add_argument("--timezone", default="", help="For rows without one: Europe/Oslo.")
        parser.add_argument("--country", default="", help="For rows without one, e.g. NO.")
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        is_url = source.startswith(("http://", "https://"))
        key = options["feed"] or slugify(Path(source.split("?")[0]).stem)[:60]
        if not key:
            raise CommandError(_("Give the feed's key with --feed."))
        group = self._group(options["group"])
        zone, country = options["timezone"], self._country(options["country"])
        if zone and zone not in zoneinfo.available_timezones():
            raise CommandError(_("--timezone “%(zone)s” is not a time zone.") % {"zone": zone})
        data = self._read(source, is_url=is_url)
        try:
            # Audit entries (the feed's, its source's, every row's) inserted together.
            with transaction.atomic(), log.batch():
                feed = meeting_import.ensure_feed(
                    key,
                    format=options["format"],
                    group=group,
                    url=source if is_url else "",
                    timezone=zone,
                )
                self._check(feed, options["format"])
                meeting_import.lock(feed)
                now = timezone.now()
                plan = meeting_import.plan_bytes(
                    feed, data, now=now, name=Path(source).name, country=country
                )
                if options["dry_run"]:
                    self._print(feed, plan, None)
                    raise _DryRun
                report = plan.apply()
                lines = [str(report), *meeting_import.report_lines(plan, report)]
                meeting_import.record_refresh(feed, lines, refreshed_at=now)
        except _DryRun:
            return
        except meeting_import.FeedBusy as busy:
            raise CommandError(
                _("The feed “%(key)s” is being imported by another process.") % {"key": busy}
            ) from busy
        except ImportRefused as error:
            raise CommandError("\n".join(error.errors)) from error
        self._print(feed, plan, report)

    def _group(self, slug: str | None) -> Group | None:
        if not slug:
            return None
        group = Group.objects.filter(slug=slug).first()
        if group is None:
            raise CommandError(_("No group with the slug “%(slug)s”.") % {"slug": slug})
        return group

    def _country(self, code: str) -> str:
        if code and not countries.alpha2(code):
            raise CommandError(_("--country “%(code)s” is not a country code.") % {"code": code})
        return str(countries.alpha2(code)) if code else ""

    def _read(self, source: str, *, is_url: bool) -> bytes:
        try:
            if is_url:
                return documents.fetch(source, max_bytes=MAX_FEED_BYTES, timeout=FETCH_TIMEOUT)
            path = Path(source)
            if path.stat().st_size > MAX_FEED_BYTES:
                raise CommandError(
                    _("%(path)s: larger than %(limit)d MB.")
                    % {"path": source, "limit": MAX_FEED_BYTES // 2**20}
                )
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"{source}: {error.strerror or error}") from error
        except ImportRefused as error:
            raise CommandError("\n".join(error.errors)) from error

    def _check(self, feed: MeetingFeed, format: str) -> None:
        if feed.format != format:
            raise CommandError(
                _("The feed “%(key)s” is in the format %(format)s.")
                % {"key": feed.key, "format": feed.format}
            )
        if feed.group is None and feed.format != FeedFormat.CSV:
            raise CommandError(_("Name the fellowship with --group."))

    def _print(self, feed: MeetingFeed, plan: Plan, report: Any) -> None:
        for line in meeting_import.report_lines(plan, report):
            self.stdout.write(line)
        if report is None:
            counts = plan.counts
            self.stdout.write(
                _(
                    "%(key)s (dry run, nothing written): would create %(create)d, update "
                    "%(update)d, retire %(retire)d, leave %(unchanged)d unchanged; "
                    "%(skipped)d left out."
                )
                % {
                    "key": feed.key,
                    "create": counts["create"],
                    "update": counts["update"],
                    "retire": counts["retire"],
                    "unchanged": counts["unchanged"],
                    "skipped": len(plan.skipped),
                }
            )
        else:
            self.stdout.write(f"{feed.key}: {report}")
