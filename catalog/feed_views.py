"""Meeting feeds for catalog admins: the list with each feed's last refresh and report,
adding and editing a feed, uploading a file into it through the shared preview, and
the CSV template for groups without a feed.

Nothing is fetched while serving a request: feeds with an address are refreshed by
``manage.py refresh_meetings`` on a schedule; a file uploaded here is previewed and
applied like a catalog import.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from audit import log
from catalog import meeting_import
from catalog.meeting_forms import FeedFileForm, FeedForm
from catalog.models import MeetingFeed
from curation import views as curation_views
from curation.imports import ImportRefused, Plan
from curation.models import PendingImport

TEMPLATE = Path(__file__).resolve().parent / "data" / "meeting-template.csv"

can_change = permission_required("catalog.change_group", raise_exception=True)


@require_GET
@can_change
def feed_list(request: HttpRequest) -> HttpResponse:
    """Every feed, with its meetings on offer and its last refresh: two queries."""
    feeds = (
        MeetingFeed.objects.select_related("group")
        .annotate(
            offered=Count("meetings", filter=Q(meetings__retired_at__isnull=True)),
            retired=Count("meetings", filter=Q(meetings__retired_at__isnull=False)),
        )
        .order_by("name")
    )
    # Each report's first line sums it up; the others name rows left out and notes.
    rows = [(feed, *_report(feed.last_report)) for feed in feeds]
    return render(request, "catalog/feed_list.html", {"rows": rows, "section": "catalog-import"})


def _report(text: str) -> tuple[str, list[str]]:
    summary, *details = text.splitlines() or [""]
    return summary, details


@require_http_methods(["GET", "POST"])
@can_change
def feed_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, MeetingFeed())


@require_http_methods(["GET", "POST"])
@can_change
def feed_edit(request: HttpRequest, key: str) -> HttpResponse:
    return _edit(request, get_object_or_404(MeetingFeed.objects.select_related("source"), key=key))


def _edit(request: HttpRequest, feed: MeetingFeed) -> HttpResponse:
    form = FeedForm(request.POST or None, instance=feed)
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                saved = form.save(commit=False)
                # The feed's own source, which its derived availability cites.
                meeting_import.sync_feed_source(saved)
                saved.save()
            messages.success(request, _("Saved the feed %(feed)s.") % {"feed": saved})
            return redirect("catalog:feed-list")
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    return render(
        request,
        "catalog/feed_form.html",
        {"feed": feed, "form": form, "section": "catalog-import"},
    )


def _importer(feed: MeetingFeed) -> curation_views.Importer:
    """Uploading a file into ``feed``, through the shared preview."""

    def plan(data: bytes, name: str) -> Plan:
        if feed.group is None and feed.format != MeetingFeed.Format.CSV:
            raise ImportRefused([_("the feed names no group.")])
        now = timezone.now()
        found = meeting_import.plan_bytes(feed, data, now=now, name=name)

        def write() -> Any:
            # As a refresh does: one import of a feed at a time, its report kept in the
            # site's language, as the scheduled refresh keeps it.
            with log.batch(), translation.override(settings.LANGUAGE_CODE):
                meeting_import.lock(feed)
                # The rows left out, named again in the site's language.
                kept = meeting_import.plan_bytes(feed, data, now=now, name=name)
                report = found.write()
                lines = [str(report), *meeting_import.report_lines(kept, report)]
                meeting_import.record_refresh(feed, lines, refreshed_at=now)
            return report

        return replace(found, write=write)

    def report(filename: str, summary: Any) -> list[tuple[int, str]]:
        return [
            (
                messages.SUCCESS,
                _("Imported %(file)s into %(feed)s: %(report)s")
                % {"file": filename, "feed": feed.name, "report": summary},
            )
        ]

    return curation_views.Importer(
        kind=PendingImport.Kind.MEETINGS,
        form=FeedFileForm,
        plan=plan,
        report=report,
        title=gettext_lazy("Review the meetings import"),
        template="catalog/feed_import.html",
        upload_url="catalog:feed-import",
        preview_url="catalog:feed-import-preview",
        done_url="catalog:feed-list",
        url_args=(feed.key,),
        context={"feed": feed, "section": "catalog-import"},
        upload_title=feed.name,
        target=feed.key,
    )


def _feed(key: str) -> MeetingFeed:
    return get_object_or_404(MeetingFeed.objects.select_related("group", "source"), key=key)


@require_http_methods(["GET", "POST"])
@can_change
def feed_import(request: HttpRequest, key: str) -> HttpResponse:
    """Upload a file into a feed; a file that can be read goes on to its preview."""
    return curation_views.upload(request, _importer(_feed(key)))


@require_http_methods(["GET", "POST"])
@can_change
def feed_import_preview(request: HttpRequest, key: str, pk: uuid.UUID) -> HttpResponse:
    """What an uploaded file would change in the feed (GET), and applying it (POST)."""
    return curation_views.preview(request, _importer(_feed(key)), pk)


@require_GET
@can_change
def meeting_template(request: HttpRequest) -> HttpResponse:
    """The header and two example rows, commented out; README, "CSV template", says
    what each column holds and how to import the file."""
    response = HttpResponse(TEMPLATE.read_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="meeting-template.csv"'
    return response
