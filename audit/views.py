from __future__ import annotations

import csv
import datetime
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import User
from audit import log
from audit.describe import counsellor_ids, describe
from audit.filters import AuditFilter
from audit.models import AuditEntry

can_review = permission_required("audit.view_auditentry", raise_exception=True)

# Each export row is formatted in Python; the cap keeps one download bounded.
EXPORT_LIMIT = 100_000


def _filtered(request: HttpRequest) -> AuditFilter:
    return AuditFilter(request.GET or None, user=request.user)


def _entries(filterset: AuditFilter) -> Any:
    entries = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    return entries.select_related("organisation")


def _record_review(request: HttpRequest, action: str) -> None:
    """Reading the log is itself recorded, with the filters used."""
    log.record(
        area=AuditEntry.Area.ACCOUNTS,
        action=action,
        organisation_id=request.user.organisation_id,  # type: ignore[union-attr]
        object_type="audit log",
        summary=log.filters_used(request),
        request=request,
    )


@never_cache
@require_GET
@can_review
def entry_list(request: HttpRequest) -> HttpResponse:
    """Who saw or changed what, and when: the organisation's referrals and log-ins for
    supervisors, the catalog and the studies for catalog admins."""
    # Recorded first, so that the page counts and shows the same entries.
    _record_review(request, AuditEntry.Action.VIEW)
    filterset = _filtered(request)
    page = Paginator(_entries(filterset), 50).get_page(request.GET.get("page"))
    # The users a page's filters name, by name, in one query.
    ids = set().union(*(counsellor_ids(entry.summary) for entry in page))
    names = {
        str(pk): username
        for pk, username in User.objects.filter(pk__in=ids).values_list("pk", "username")
    }
    for entry in page:
        entry.described = describe(entry.summary, entry.object_type, names)
        # Reading the log is kept under accounts, but is shown as what it is.
        entry.area_label = (
            _("Access log") if entry.object_type == "audit log" else entry.get_area_display()
        )
    return render(request, "audit/entry_list.html", {"filter": filterset, "page": page})


@never_cache
@require_GET
@can_review
def entry_export(request: HttpRequest) -> HttpResponse:
    """The filtered log as CSV (UTF-8 with a byte-order mark, for spreadsheets)."""
    filterset = _filtered(request)
    entries = _entries(filterset)[:EXPORT_LIMIT]
    _record_review(request, AuditEntry.Action.EXPORT)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"audit-log-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("When (UTC)"),
            _("User"),
            _("Organisation"),
            _("Area"),
            _("Action"),
            _("Object type"),
            _("Object"),
            _("Reference"),
            _("What"),
            _("Address requested"),
            _("From address"),
        ]
    )
    for entry in entries.iterator(chunk_size=2000):
        row = [
            entry.at.astimezone(datetime.UTC).isoformat(timespec="seconds"),
            entry.username,
            entry.organisation.name if entry.organisation else "",
            entry.area,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.reference,
            entry.summary,
            entry.path,
            entry.ip_address or "",
        ]
        writer.writerow([_spreadsheet_safe(str(value)) for value in row])
    return response


def _spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet program will not run as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
