"""Pages to curate meetings: read one, add or edit it with its weekly times, retire or
reinstate it, and its history with undo. Imported meetings are curated the same way;
the next refresh of their feed may overwrite what the feed provides."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.history import meeting_history
from catalog.meeting_forms import ZONES, MeetingForm, SlotFormSet
from catalog.models import Group, Meeting
from catalog.schedule import next_start
from curation import views as curation_views

can_view = permission_required("catalog.view_group", raise_exception=True)
can_change = permission_required("catalog.change_group", raise_exception=True)


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    """A reference meeting, or one of the user's organisation's own; 404 otherwise."""
    organisation = getattr(request.user, "organisation_id", None)
    visible = Q(organisation__isnull=True) | Q(organisation_id=organisation)
    found = (
        Meeting.objects.filter(visible, pk=pk)
        .select_related("group", "feed", "organisation")
        .prefetch_related("slots")
        .first()
    )
    if found is None:
        raise Http404(_("No such meeting."))
    return found


@require_GET
@can_view
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    now = timezone.now()
    slots = [
        (slot, next_start(slot.weekday, slot.starts, slot.timezone, now))
        for slot in meeting.slots.all()
    ]
    return render(
        request,
        "catalog/meeting_detail.html",
        {"meeting": meeting, "slots": slots, "section": "meeting-finder"},
    )


@require_http_methods(["GET", "POST"])
@can_change
def meeting_create(request: HttpRequest) -> HttpResponse:
    group = Group.objects.filter(slug=request.GET.get("group", "")).first()
    return _edit(request, Meeting(group=group) if group else Meeting())


@require_http_methods(["GET", "POST"])
@can_change
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, _meeting(request, pk))


def _edit(request: HttpRequest, meeting: Meeting) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = MeetingForm(data, instance=meeting)
    zone = ZONES.get(str(meeting.country or getattr(request.user.organisation, "country", "")), "")  # type: ignore[union-attr]
    slots = SlotFormSet(data, instance=meeting, prefix="slot", initial=[{"timezone": zone}] * 2)
    if request.method == "POST":
        if form.is_valid() and slots.is_valid():
            with transaction.atomic():
                saved = form.save()
                slots.instance = saved
                slots.save()
            messages.success(request, _("Saved %(meeting)s.") % {"meeting": saved})
            return redirect(saved)
        messages.error(request, _("Nothing was saved. Correct the fields marked below."))
    return render(
        request,
        "catalog/meeting_form.html",
        {"meeting": meeting, "form": form, "slots": slots, "section": "meeting-finder"},
    )


@require_POST
@can_change
def meeting_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Retire a meeting (kept, no longer offered), or reinstate a retired one."""
    meeting = _meeting(request, pk)
    if meeting.retired_at is None:
        meeting.retired_at = timezone.now()
        messages.success(
            request, _("Retired %(meeting)s: it is no longer offered.") % {"meeting": meeting}
        )
    else:
        meeting.retired_at = None
        messages.success(request, _("Reinstated %(meeting)s.") % {"meeting": meeting})
    meeting.save(update_fields=["retired_at", "updated_at"])
    return redirect(meeting)


@require_GET
@can_change
def meeting_history_page(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    return curation_views.history_page(
        request,
        meeting,
        meeting_history(meeting),
        undo_url_name="catalog:meeting-history-undo",
        owner_key=meeting.pk,
    )


@require_http_methods(["GET", "POST"])
@can_change
def meeting_history_undo(request: HttpRequest, pk: int, kind: str, history_id: int) -> HttpResponse:
    """Confirm (GET), then undo (POST) one entry of a meeting's history."""
    meeting = _meeting(request, pk)
    return curation_views.undo_page(
        request,
        meeting,
        meeting_history(meeting),
        kind,
        history_id,
        history_url=lambda: reverse("catalog:meeting-history", args=[meeting.pk]),
    )
