"""Fetch every active meeting feed with an address and apply it, each on its own.

    manage.py refresh_meetings [--feed KEY]

Safe to schedule (cron, a systemd timer), also when two runs overlap: each feed is
applied in its own transaction holding the feed's row, and a feed another run holds
is passed over. A feed that cannot be fetched or read is reported, keeps its meetings
and its last refresh date, and the others are still applied. The exit status is 1
when any feed failed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog import meeting_import
from catalog.feeds import MAX_FEED_BYTES
from catalog.models import FeedFormat, MeetingFeed
from curation import documents
from curation.imports import ImportRefused

FETCH_TIMEOUT = 60

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Fetch and apply every active meeting feed that has an address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--feed", help="Only the feed with this key.")

    def handle(self, *args: Any, **options: Any) -> None:
        feeds = (
            MeetingFeed.objects.filter(active=True)
            .exclude(url="")
            .select_related("group", "source")
            .order_by("key")
        )
        if options["feed"]:
            feeds = feeds.filter(key=options["feed"])
            if not feeds:
                raise CommandError(
                    _("No active feed with an address has the key “%(key)s”.")
                    % {"key": options["feed"]}
                )
        failed = []
        for feed in feeds:
            lines = self._refresh(feed)
            if lines is None:
                failed.append(feed.key)
                lines = feed.last_report.splitlines()
            self.stdout.write(f"{feed.key}: " + "\n  ".join(lines))
        if failed:
            raise CommandError(_("Failed: %(keys)s") % {"keys": ", ".join(failed)})

    def _refresh(self, feed: MeetingFeed) -> list[str] | None:
        """The feed's report, or None when it failed (its report then says why)."""
        try:
            data = documents.fetch(feed.url, max_bytes=MAX_FEED_BYTES, timeout=FETCH_TIMEOUT)
            with transaction.atomic():
                meeting_import.lock(feed)
                if feed.group is None and feed.format != FeedFormat.CSV:
                    raise ImportRefused([_("the feed names no group.")])
                now = timezone.now()
                plan = meeting_import.plan_bytes(feed, data, now=now, name=feed.url)
                report = plan.apply()
                lines = [str(report), *meeting_import.report_lines(plan, report)]
                meeting_import.record_refresh(feed, lines, refreshed_at=now)
            return lines
        except meeting_import.FeedBusy:
            return [_("passed over: another process is refreshing it.")]
        except ImportRefused as error:
            errors = error.errors
        except Exception as error:  # one feed's fault must not stop the others
            logger.exception("Refreshing the meeting feed %s failed", feed.key)
            errors = [_("could not be applied (%(error)s).") % {"error": repr(error)}]
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        lines = [_("FAILED at %(time)s; nothing changed:") % {"time": stamp}, *errors]
        meeting_import.record_refresh(feed, lines, refreshed_at=None)
        return None
