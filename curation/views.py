"""The two steps of an import through the pages, shared by the catalog and the studies.

1. *Upload*: the file is read and checked; a file with problems is refused on the
   upload page with all of them, and nothing is kept. A file without is kept as a
   ``PendingImport`` and the curator is sent to its preview.
2. *Preview*: the changes the file would make, grouped by kind, with a button to
   apply them. Applying plans the file again against the database as it is then,
   and writes only if that plan is still the one previewed, in one transaction that
   also marks the upload used.

The apps' views are thin shells that check permissions and name their ``Importer``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import time_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from curation.history import HistoryEntry, UndoError, find_entry, undo
from curation.imports import ImportRefused, Plan, sections
from curation.models import PendingImport

IMPORT_AND_EXPORT = gettext_lazy("Import and export")
# Problems and changes a page lists before saying how many more there are.
SHOWN_PROBLEMS = 200
SHOWN_CHANGES = 100


@dataclass(frozen=True)
class Importer:
    """How one kind of document is imported through the pages."""

    kind: str  # a PendingImport.Kind
    form: type[forms.Form]  # with a "file" field
    plan: Callable[[bytes, str], Plan]  # (content, file name); raises ImportRefused
    report: Callable[[str, Any], list[tuple[int, str]]]  # messages once applied
    title: StrOrPromise  # of the preview page
    template: str  # the upload page
    upload_url: str  # URL names
    preview_url: str
    done_url: str
    # Arguments of the upload and preview URLs before the upload's id (a feed's key).
    url_args: tuple[str, ...] = ()
    # Beside the form on the upload page.
    context: Mapping[str, Any] = field(default_factory=dict)
    upload_title: StrOrPromise = IMPORT_AND_EXPORT  # in the breadcrumb
    target: str = ""  # what the file is imported into (PendingImport.target)

    @property
    def upload_link(self) -> str:
        return reverse(self.upload_url, args=self.url_args)

    def preview_link(self, pk: uuid.UUID) -> str:
        return reverse(self.preview_url, args=(*self.url_args, pk))

    @property
    def done_link(self) -> str:
        return reverse(self.done_url)


def upload(request: HttpRequest, importer: Importer) -> HttpResponse:
    form = importer.form(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        data = uploaded.read()
        try:
            importer.plan(data, uploaded.name)
        except ImportRefused as refused:
            errors = refused.errors
        else:
            pending = PendingImport.keep(
                kind=importer.kind,
                filename=uploaded.name,
                data=data,
                user=request.user,
                target=importer.target,
            )
            return redirect(importer.preview_link(pending.pk))
    context = {**importer.context, "form": form, "importer": importer, **_problems(errors)}
    return render(request, importer.template, context)


def preview(request: HttpRequest, importer: Importer, pk: uuid.UUID) -> HttpResponse:
    pending = _pending_for_user(request, importer, pk)
    if not _usable(request, pending):
        return redirect(importer.upload_link)
    plan: Plan | None = None
    errors: list[str] = []
    try:
        plan = importer.plan(pending.content, pending.filename)
    except ImportRefused as refused:
        # The data changed since the upload, so that the file no longer fits it.
        errors = refused.errors
    if plan is not None and request.method == "POST":
        return _apply(request, importer, pending, plan)
    shown = sections(plan.changes, limit=SHOWN_CHANGES) if plan else []
    context = {
        "importer": importer,
        "pending": pending,
        "plan": plan,
        "sections": shown,
        "retiring": any(section.retired for section in shown),
        **_problems(errors),
    }
    return render(request, "curation/import_preview.html", context)


def _pending_for_user(request: HttpRequest, importer: Importer, pk: uuid.UUID) -> PendingImport:
    """The upload, if it is the user's own, of this kind and for this target; 404
    otherwise."""
    return get_object_or_404(
        PendingImport,
        pk=pk,
        kind=importer.kind,
        target=importer.target,
        uploaded_by_id=request.user.pk,
    )


def _usable(request: HttpRequest, pending: PendingImport) -> bool:
    if pending.applied_at is not None:
        messages.error(request, _applied_already(pending))
        return False
    if pending.is_expired:
        messages.error(
            request,
            _("The upload of %(file)s has expired: uploads wait an hour. Upload it again.")
            % {"file": pending.filename},
        )
        return False
    return True


def _applied_already(pending: PendingImport) -> str:
    assert pending.applied_at is not None
    return _(
        "The changes of %(file)s were applied already, at %(time)s; they are applied only "
        "once. To import the file again, upload it again."
    ) % {"file": pending.filename, "time": time_format(localtime(pending.applied_at))}


def _apply(
    request: HttpRequest, importer: Importer, pending: PendingImport, plan: Plan
) -> HttpResponse:
    if request.POST.get("digest") != plan.digest:
        messages.warning(
            request,
            _(
                "Nothing was written: what the file would change is no longer what the "
                "preview showed, because the data changed meanwhile. Review the changes "
                "again."
            ),
        )
        return redirect(importer.preview_link(pending.pk))
    with transaction.atomic():
        if not pending.claim():
            pending.refresh_from_db()
            messages.error(request, _applied_already(pending))
            return redirect(importer.upload_link)
        summary = plan.apply()
    for level, message in importer.report(pending.filename, summary):
        messages.add_message(request, level, message)
    return redirect(importer.done_link)


def _problems(errors: list[str]) -> dict[str, Any]:
    return {"errors": errors[:SHOWN_PROBLEMS], "more_errors": max(0, len(errors) - SHOWN_PROBLEMS)}


# --- History pages, shared by the catalog, the studies and the meetings ----------------


def history_page(
    request: HttpRequest,
    owner: Any,
    entries: list[HistoryEntry],
    *,
    undo_url_name: str,
    owner_key: object,
) -> HttpResponse:
    """An owner's history, newest first, 50 entries a page, each with its undo link."""
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context = {
        "owner": owner,
        "page": page,
        "undo_url_name": undo_url_name,
        "owner_key": owner_key,
    }
    return render(request, "history/history_list.html", context)


def undo_page(
    request: HttpRequest,
    owner: Any,
    entries: list[HistoryEntry],
    kind: str,
    history_id: int,
    *,
    history_url: Callable[[], str],
) -> HttpResponse:
    """Confirm (GET), then undo (POST) one entry of an owner's history; back to the
    history afterwards (``history_url`` is asked after the undo, which may have
    changed the owner's key)."""
    entry = find_entry(entries, kind, history_id)
    if entry is None or not entry.can_undo:
        raise Http404
    if request.method == "POST":
        try:
            undo(entry)
        except UndoError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Done. The undo is recorded in the history too."))
        return redirect(history_url())
    context = {"owner": owner, "entry": entry, "history_url": history_url()}
    return render(request, "history/history_undo.html", context)
