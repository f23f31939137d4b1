from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Organisation
from accounts.roles import Role
from audit import log
from audit.describe import describe
from audit.models import AuditEntry
from catalog.models import Group
from catalog.nearby import Upcoming
from referrals.dashboard import Catalog, Drill, Scope, listed
from referrals.dashboard import build as build_dashboard
from referrals.exports import TABLES, csv_table, write_csv
from referrals.filters import DEFAULT_PERIOD, ReferralFilter
from referrals.followup import REASON_LABELS, Checkpoint, due_on
from referrals.forms import (
    ChooseForm,
    FollowUpForm,
    IntakeForm,
    SubjectForm,
    VoidForm,
    as_form_data,
    profile_answers,
    refer_again_initial,
)
from referrals.handout import calendar_file, handout_context, handout_meetings
from referrals.matching import COMPLEMENTARY, Menu, match
from referrals.meetings import Whereabouts, clinic_country, locate, menu_meetings
from referrals.models import FollowUpReason, Referral
from referrals.profile import ProfileError, check_against_catalog, parse_profile
from referrals.record import menu_record
from referrals.services import (
    erase_reference,
    record_choice,
    record_follow_up,
    save_intake,
    version_of,
    void_referral,
)
from referrals.snapshot import current_snapshot
from referrals.subject import export_document, held_under

can_refer = permission_required("referrals.add_referral", raise_exception=True)
can_view = permission_required("referrals.view_referral", raise_exception=True)

# Stands in for the reference while the menu re-ranks: never saved, and the menu
# partial does not show it. It must pass the rules of referrals.pseudonym.
PREVIEW_REFERENCE = "P-0000"


@dataclass
class Matched:
    """A menu for the form's answers, and the meetings near where the patient lives."""

    menu: Menu
    profile: dict[str, Any]
    where: Whereabouts | None
    meetings: dict[str, list[Upcoming]]


def _menu_for(
    request: HttpRequest, form: IntakeForm, snapshot: Any, *, preview: bool
) -> Matched | None:
    """Match the form's answers; errors of the contract go back onto the form."""
    data = form.profile_data()
    if preview:
        # The reference does not change the ranking; a half-typed one must not stop it.
        data["reference"] = PREVIEW_REFERENCE
    user: Any = request.user
    try:
        profile = parse_profile(data)
        check_against_catalog(profile, snapshot)
        where = locate(profile, country=clinic_country(user) if profile.place else "")
    except ProfileError as error:
        for field, message in error.errors:
            name = field.split(".")[0].split("[")[0]
            form.add_error(name if name in form.fields else None, message)
        return None
    menu = match(profile, snapshot)
    meetings = menu_meetings(menu, profile, where, organisation_id=user.organisation_id)
    return Matched(menu, data, where, meetings)


def _shown_menu(matched: Matched | None) -> dict[str, Any] | None:
    """The menu as the page shows it: as it would be saved, with each option's meetings."""
    if matched is None:
        return None
    shown = menu_record(matched.menu)
    for option in shown["options"]:
        option["meetings"] = matched.meetings.get(option["group"], [])
    return shown


@never_cache
@require_http_methods(["GET", "POST"])
@can_refer
def intake(request: HttpRequest) -> HttpResponse:
    snapshot = current_snapshot()
    groups = [g for g in snapshot.groups if g.kind != COMPLEMENTARY]
    initial = {
        "country": request.user.organisation.country,  # type: ignore[union-attr]
        "language": (translation.get_language() or "en")[:2],
        "goal": "undecided",
        "spirituality": "neutral",
        "format": "no_preference",
        "wants_sponsor": "no_preference",
        "attendance": "either",
        "gender": "unspecified",
    }
    saving = request.method == "POST" and "save" in request.POST
    data = request.POST.copy() if request.method == "POST" else None
    again = request.GET.get("again", "")
    if request.method == "GET" and again.isdigit():
        # Refer again: the saved answers, and the group left, with its menu shown at once.
        previous = _get_referral(request, int(again))
        log.referral_event(AuditEntry.Action.VIEW, previous, summary="refer again", request=request)
        data = as_form_data(refer_again_initial(previous, initial))
    if data is not None and not saving and not data.get("reference"):
        data["reference"] = PREVIEW_REFERENCE  # the menu re-ranks before a reference is typed
    if data is not None and not data.get("intake_key"):
        data["intake_key"] = str(uuid.uuid4())
    initial["intake_key"] = uuid.uuid4()  # a new intake, for the page as first opened
    form = IntakeForm(data, initial=initial, groups=groups)  # type: ignore[arg-type]
    matched = None
    repeat: Referral | None = None
    if data is not None and form.is_valid():
        matched = _menu_for(request, form, snapshot, preview=not saving)
        if matched is not None and saving and not request.POST.get("same_reference_confirmed"):
            repeat = _saved_just_now(request, form)
        if matched is not None and saving and repeat is None:
            referral, made = save_intake(
                counsellor=request.user,  # type: ignore[arg-type]
                profile=matched.profile,
                menu=matched.menu,
                language=form.cleaned_data["language"],
                intake_key=form.cleaned_data["intake_key"],
            )
            if made:
                messages.success(
                    request, _("Saved the referral %(reference)s.") % {"reference": referral}
                )
            else:
                messages.info(
                    request,
                    _(
                        "This intake was saved already, as the referral %(reference)s: "
                        "it was not saved twice."
                    )
                    % {"reference": referral},
                )
            return redirect(referral)
    left_out: list[str] = []
    if data is not None and matched is None and form.errors:
        # The menu stays on the page, for every answer but those to correct.
        matched, left_out = _menu_leaving_out(request, form, data, initial, groups, snapshot)
    context = {
        "form": form,
        "repeat": repeat,
        "menu": _shown_menu(matched),
        "where": matched.where if matched else None,
        "radius_km": matched.profile.get("radius_km") if matched else None,
        "left_out": left_out,
        "field_errors": {
            name: [str(m) for m in messages_]
            for name, messages_ in form.errors.items()
            if name in form.fields
        },
        "summary": _menu_summary(matched),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "referrals/_menu.html", context)
    return render(request, "referrals/intake.html", context)


def _menu_leaving_out(
    request: HttpRequest,
    form: IntakeForm,
    data: QueryDict,
    initial: dict[str, Any],
    groups: list[Any],
    snapshot: Any,
) -> tuple[Matched | None, list[str]]:
    """The menu for the answers without those the form refused (each as if not given),
    and the labels of the answers left out."""
    wrong = [name for name in form.errors if name in form.fields and name != "reference"]
    if not wrong:
        return None, []
    kept = data.copy()
    for name in wrong:
        kept.pop(name, None)
        if name in initial:
            kept[name] = str(initial[name])
    kept["reference"] = PREVIEW_REFERENCE
    without = IntakeForm(kept, initial=initial, groups=groups)
    if not without.is_valid():
        return None, []
    matched = _menu_for(request, without, snapshot, preview=True)
    return matched, [str(form.fields[name].label) for name in wrong]


def _menu_summary(matched: Matched | None) -> str:
    """One line for screen readers when the menu changes."""
    if matched is None or not matched.menu.options:
        return ""
    options = matched.menu.options
    return ngettext(
        "Menu updated: %(count)d option, first %(first)s.",
        "Menu updated: %(count)d options, first %(first)s.",
        len(options),
    ) % {"count": len(options), "first": options[0].name}


# A referral saved under the same reference within this is likely the same patient's.
REPEAT_WINDOW = datetime.timedelta(minutes=15)


def _saved_just_now(request: HttpRequest, form: IntakeForm) -> Referral | None:
    """The counsellor's referral under the same reference saved in the last minutes
    from another intake (the same intake sent again is found by its key instead)."""
    user: Any = request.user
    # A referral voided as a mistake is no reason to hold the save back.
    found = Referral.objects.counted().filter(
        counsellor_id=user.pk,
        reference=form.cleaned_data["reference"],
        created_at__gte=timezone.now() - REPEAT_WINDOW,
    )
    key = form.cleaned_data["intake_key"]
    if key is not None:
        found = found.exclude(intake_key=key)
    return found.order_by("-created_at").first()


def _catalog() -> Catalog:
    rows = Group.objects.values_list("slug", "name", "kind")
    return Catalog(
        names={slug: name for slug, name, _kind in rows},
        twelve_step=frozenset(slug for slug, _name, kind in rows if kind == Group.Kind.TWELVE_STEP),
    )


@never_cache
@require_GET
@can_view
def referral_list(request: HttpRequest) -> HttpResponse:
    """The user's referrals, searchable by reference, and the list behind every number
    of the dashboard (the same filters)."""
    filterset = ReferralFilter(request.GET or None, user=request.user)  # type: ignore[arg-type]
    if filterset.is_bound and filterset.is_valid():
        referrals = filterset.qs
    else:
        referrals = filterset.queryset.counted()
    referrals = referrals.select_related("counsellor").defer("profile", "menu")
    valid = not filterset.is_bound or filterset.is_valid()
    paginator = CountedPaginator(referrals, 25, count=listed(filterset) if valid else None)
    page = paginator.get_page(request.GET.get("page"))
    # The reasons for disengaging of the page's referrals, in one query.
    reasons: dict[int, list[str]] = {}
    for referral_id, code in FollowUpReason.objects.filter(
        follow_up__referral__in=[r.pk for r in page if r.disengaged]
    ).values_list("follow_up__referral_id", "code"):
        reasons.setdefault(referral_id, []).append(str(REASON_LABELS.get(code, code)))
    for referral in page:
        referral.reason_labels = reasons.get(referral.pk, [])  # type: ignore[attr-defined]
    log.listing_event(request, "referral list")
    drill_downs = [
        (filterset.form[name].label, _shown_value(filterset, name))
        for name in ReferralFilter.DRILL_DOWNS + ReferralFilter.DASHBOARD
        if filterset.is_bound and request.GET.get(name) and name in filterset.form.fields
    ]
    context = {
        "filter": filterset,
        "page": page,
        "catalog": _catalog(),
        "active_filters": drill_downs,
        "today": timezone.localdate(),
        # Back to the dashboard the list was opened from, with its filters.
        "dashboard_query": urlencode(
            {n: request.GET[n] for n in ReferralFilter.DASHBOARD if request.GET.get(n)}
        ),
    }
    return render(request, "referrals/referral_list.html", context)


class CountedPaginator(Paginator[Referral]):
    """A paginator told how many objects there are, where that is known without
    counting them."""

    def __init__(self, object_list: Any, per_page: int, *, count: int | None) -> None:
        super().__init__(object_list, per_page)
        self.known = count

    @cached_property
    def count(self) -> int:
        return self.known if self.known is not None else super().count


def _shown_value(filterset: ReferralFilter, name: str) -> str:
    """A filter's value as the form shows it: the label of a choice, not its code."""
    field = filterset.form.fields[name]
    raw = filterset.form.data.get(name)
    if isinstance(field, forms.NullBooleanField):
        return str(_("yes") if field.to_python(raw) else _("no"))
    choices = getattr(field, "choices", None)
    if choices is not None:
        for value, label in _flat(choices):
            if str(value) == raw:
                return str(label)
    return str(raw)


def _flat(choices: Any) -> list[tuple[Any, Any]]:
    flat: list[tuple[Any, Any]] = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            flat.extend(label)
        else:
            flat.append((value, label))
    return flat


def _get_referral(request: HttpRequest, pk: int) -> Referral:
    """The referral if this user may see it; 404 otherwise (no hint that it exists)."""
    return get_object_or_404(Referral.objects.visible_to(request.user), pk=pk)


@never_cache
@require_GET
@can_view
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    log.referral_event(AuditEntry.Action.VIEW, referral, request=request)
    recorded = {
        f.checkpoint: f
        for f in referral.follow_ups.select_related("recorded_by").prefetch_related("reasons")
    }
    referred_on = timezone.localdate(referral.created_at)
    checkpoints = [
        {
            "checkpoint": checkpoint,
            "follow_up": recorded.get(checkpoint.value),
            "due_on": due_on(referred_on, checkpoint.value),
            "next": checkpoint.value == referral.next_checkpoint,
        }
        for checkpoint in Checkpoint
    ]
    names = dict(Group.objects.values_list("slug", "name"))
    context = {
        "referral": referral,
        "menu": referral.menu,
        "answers": profile_answers(referral.profile, names),
        "choose_form": ChooseForm(
            initial={"group": referral.chosen_group, "version": version_of(referral)},
            referral=referral,
        ),
        "checkpoints": checkpoints,
        "followed_up": bool(recorded),
        "today": timezone.localdate(),
    }
    return render(request, "referrals/referral_detail.html", context)


@never_cache
@require_POST
@can_refer
def referral_choose(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    form = ChooseForm(request.POST, referral=referral)
    if form.is_valid():
        try:
            record_choice(
                referral=referral,
                group=form.cleaned_data["group"],
                version=form.cleaned_data["version"] or None,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Recorded the patient's choice."))
    else:
        messages.error(request, _("Choose one of the groups on the menu."))
    return redirect(referral)


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("referrals.void_referral", raise_exception=True)
def referral_void(request: HttpRequest, pk: int) -> HttpResponse:
    """Void a referral saved by mistake, after a confirmation naming what it does."""
    referral = _get_referral(request, pk)
    if referral.voided_at is not None:
        messages.info(request, _("This referral is voided already."))
        return redirect(referral)
    form = VoidForm(request.POST or None, initial={"version": version_of(referral)})
    if request.method == "POST" and form.is_valid():
        try:
            void_referral(
                referral=referral,
                user=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                version=form.cleaned_data["version"] or None,
            )
        except ValidationError as problem:
            _add_errors(form, problem)
        else:
            messages.success(
                request,
                _("Voided the referral. It stays in the list, marked, and counts nowhere."),
            )
            return redirect(referral)
    return render(request, "referrals/referral_void.html", {"referral": referral, "form": form})


def _handout(request: HttpRequest, pk: int, *, what: str) -> tuple[Referral, str, dict[str, Any]]:
    """The referral, the handout's language (?language=, else the referral's) and what
    the handout shows; the viewing is recorded."""
    referral = _get_referral(request, pk)
    language = request.GET.get("language", referral.language)
    if language not in Referral.Language.values:
        language = referral.language
    log.referral_event(
        AuditEntry.Action.VIEW, referral, summary=f"{what} ({language})", request=request
    )
    slugs = [option["group"] for option in referral.options]
    groups = {
        group.slug: group
        for group in Group.objects.filter(slug__in=slugs).prefetch_related("availability")
    }
    clinic = Organisation.objects.filter(pk=referral.organisation_id).first()
    with translation.override(language):
        context = handout_context(referral, groups, language, clinic=clinic)
    return referral, language, context


@never_cache
@require_GET
@can_view
def referral_handout(request: HttpRequest, pk: int) -> HttpResponse:
    _referral, language, context = _handout(request, pk, what="handout")
    with translation.override(language):
        return render(request, "referrals/handout.html", context)


@never_cache
@require_GET
@can_view
def referral_handout_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The handout as a PDF file: the same page, as it prints."""
    from referrals.pdf import render_pdf  # WeasyPrint is loaded only when asked for

    referral, language, context = _handout(request, pk, what="handout PDF")
    with translation.override(language):
        html = render_to_string("referrals/handout.html", {**context, "as_pdf": True}, request)
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    day = timezone.localdate(referral.created_at).isoformat()
    name = f"handout-{slugify(referral.shown_reference)}-{day}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _clinic(referral: Referral) -> str:
    return str(
        Organisation.objects.filter(pk=referral.organisation_id)
        .values_list("country", flat=True)
        .first()
        or ""
    )


@never_cache
@require_GET
@can_view
def meeting_calendar(request: HttpRequest, pk: int, meeting: int) -> HttpResponse:
    """The next start of one of the handout's meetings, as a calendar file."""
    referral = _get_referral(request, pk)
    slugs = [option["group"] for option in referral.options]
    _where, found = handout_meetings(referral, slugs, country=_clinic(referral))
    listed = next(
        (item for items in found.values() for item in items if item.meeting.id == meeting), None
    )
    if listed is None:
        raise Http404(_("That meeting is not among this referral's meetings."))
    group = Group.objects.filter(slug=listed.meeting.group).values_list("name", flat=True).first()
    log.referral_event(
        AuditEntry.Action.VIEW, referral, summary="meeting calendar", request=request
    )
    response = HttpResponse(
        calendar_file(listed.meeting, group or ""), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting}.ics"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("referrals.add_followup", raise_exception=True)
def follow_up(request: HttpRequest, pk: int, checkpoint: str) -> HttpResponse:
    """Record or correct the follow-up at one checkpoint of a referral."""
    if checkpoint not in Checkpoint.values:
        raise Http404
    referral = _get_referral(request, pk)
    if not referral.chosen_group:
        messages.error(request, _("Record the patient's choice before following it up."))
        return redirect(referral)
    if referral.voided_at is not None:
        messages.error(request, _("This referral was voided, so it can no longer change."))
        return redirect(referral)
    existing = referral.follow_ups.filter(checkpoint=checkpoint).first()
    initial: dict[str, Any] = {"version": version_of(referral)}
    if existing is not None:
        initial |= {
            "outcome": existing.outcome,
            "first_meeting_on": existing.first_meeting_on,
            "reasons": list(existing.reasons.values_list("code", flat=True)),
            "contacted_on": existing.contacted_on,
        }
    form = FollowUpForm(request.POST or None, initial=initial, checkpoint=checkpoint)
    if request.method == "GET":
        summary = f"follow-up form: {checkpoint}"
        log.referral_event(AuditEntry.Action.VIEW, referral, summary=summary, request=request)
    if request.method == "POST" and form.is_valid():
        try:
            record_follow_up(
                referral=referral,
                recorded_by=request.user,  # type: ignore[arg-type]
                checkpoint=checkpoint,
                outcome=form.cleaned_data["outcome"],
                first_meeting_on=form.cleaned_data.get("first_meeting_on"),
                reasons=form.cleaned_data.get("reasons", []),
                contacted_on=form.cleaned_data.get("contacted_on"),
                version=form.cleaned_data["version"] or None,
            )
        except ValidationError as problem:
            _add_errors(form, problem)
        else:
            messages.success(request, _("Recorded the follow-up."))
            return redirect(referral)
    context = {
        "referral": referral,
        "checkpoint": Checkpoint(checkpoint),
        "form": form,
        "existing": existing,
        "due_on": due_on(timezone.localdate(referral.created_at), checkpoint),
        "today": timezone.localdate(),
        "chosen_name": _catalog().name(referral.chosen_group),
    }
    return render(request, "referrals/follow_up_form.html", context)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for text in error.messages:
            form.add_error(None, text)


@never_cache
@require_GET
@permission_required("referrals.add_followup", raise_exception=True)
def follow_ups_due(request: HttpRequest) -> HttpResponse:
    """The counsellor's own referrals with a follow-up due now or within a week."""
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=7)
    referrals = (
        Referral.objects.filter(counsellor_id=request.user.pk, follow_up_due_on__lte=soon)
        .defer("profile", "menu")
        .order_by("follow_up_due_on", "id")
    )
    page = Paginator(referrals, 50).get_page(request.GET.get("page"))
    log.listing_event(request, "follow-ups due")
    context = {"page": page, "today": today, "catalog": _catalog()}
    return render(request, "referrals/follow_ups_due.html", context)


can_view_dashboard = permission_required("referrals.view_dashboard", raise_exception=True)


def _dashboard_filter(request: HttpRequest) -> ReferralFilter:
    """The dashboard's own filters only, over the last 12 months unless told otherwise."""
    data = QueryDict(mutable=True)
    for name in ReferralFilter.DASHBOARD:
        if name in request.GET:
            data[name] = request.GET[name]
    if "period" not in data and not data.get("since") and not data.get("until"):
        data["period"] = DEFAULT_PERIOD
    return ReferralFilter(data, user=request.user)  # type: ignore[arg-type]


def _drill(filterset: ReferralFilter) -> Drill:
    base = {name: value for name, value in filterset.data.items() if value}
    list_url = reverse("referrals:referral-list")

    def drill(**facet: object) -> str:
        return f"{list_url}?{urlencode({**base, **facet})}"

    return drill


@never_cache
@require_GET
@can_view_dashboard
def dashboard(request: HttpRequest) -> HttpResponse:
    """Referral patterns: of the organisation for supervisors, of one's own referrals
    for counsellors."""
    filterset = _dashboard_filter(request)
    supervisor = request.user.has_role(Role.SUPERVISOR)  # type: ignore[union-attr]
    data = None
    if filterset.is_valid():
        data = build_dashboard(
            Scope.of(filterset),
            catalog=_catalog(),
            drill=_drill(filterset),
            per_counsellor=supervisor,
        )
    log.listing_event(request, "dashboard")
    context = {
        "filter": filterset,
        "dashboard": data,
        "supervisor": supervisor,
        "csv_query": urlencode({k: v for k, v in filterset.data.items() if v}),
        "list_url": _drill(filterset)(),
        "tables": TABLES,
    }
    return render(request, "referrals/dashboard.html", context)


@never_cache
@require_GET
@can_view_dashboard
def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One of the dashboard's tables as CSV, under the same filters."""
    if table not in TABLES:
        raise Http404
    supervisor = request.user.has_role(Role.SUPERVISOR)  # type: ignore[union-attr]
    if table == "counsellors" and not supervisor:
        raise Http404
    filterset = _dashboard_filter(request)
    if not filterset.is_valid():
        return HttpResponseBadRequest(
            "\n".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()),
            content_type="text/plain; charset=utf-8",
        )
    scope = Scope.of(filterset)
    headers, rows = csv_table(table, scope, catalog=_catalog(), drill=_drill(filterset))
    log.listing_event(request, f"dashboard {table}.csv", action=AuditEntry.Action.EXPORT)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"referrals-{table}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    write_csv(response, headers, rows, about=_csv_about(request, filterset, scope))
    return response


def _csv_about(request: HttpRequest, filterset: ReferralFilter, scope: Scope) -> list[str]:
    """What a CSV counts, in words, for whoever opens it later: whose referrals, which
    period, which filters, and when and by whom it was taken."""
    user: Any = request.user
    period = _("%(since)s to %(until)s") % {
        "since": scope.since.isoformat() if scope.since else _("the first referral"),
        "until": (scope.until or timezone.localdate()).isoformat(),
    }
    lines = [
        f"{_('Organisation')}: {user.organisation}",
        f"{_('Period')}: {period}",
    ]
    for name in ("counsellor", "group", "country"):
        if name in filterset.form.fields:
            value = _shown_value(filterset, name) if filterset.data.get(name) else _("all")
            lines.append(f"{filterset.form.fields[name].label}: {value}")
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    lines.append(_("Exported %(when)s by %(user)s") % {"when": when, "user": user})
    return lines


can_manage_subjects = permission_required("referrals.manage_subject_data", raise_exception=True)


@never_cache
@require_http_methods(["GET", "POST"])
@can_manage_subjects
def subject(request: HttpRequest) -> HttpResponse:
    """A data subject's request: everything held under one reference, exported as JSON
    or erased. The reference travels in the POST body, never in an address."""
    form = SubjectForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["reference"]
        organisation_id = request.user.organisation_id  # type: ignore[union-attr]
        action = request.POST.get("action")
        if action == "export":
            return _subject_export(request, organisation_id, reference)
        if action == "readable":
            return _subject_readable(request, organisation_id, reference)
        if action == "erase":
            if form.cleaned_data["confirm"] != reference:
                form.add_error("confirm", _("Type the same reference again to confirm."))
            else:
                count = erase_reference(user=request.user, reference=reference)  # type: ignore[arg-type]
                messages.success(
                    request,
                    _("Erased %(count)s referral(s) held under %(reference)s.")
                    % {"count": count, "reference": reference},
                )
                return redirect("referrals:subject")
        context["reference"] = reference
        # What an erasure would remove, one line per referral.
        context["held"] = list(
            held_under(organisation_id, reference)
            .select_related("counsellor")
            .annotate(recorded=Count("follow_ups"))
            .defer("profile", "menu")
            .order_by("created_at")
        )
        context["catalog"] = _catalog()
        context["today"] = timezone.localdate()
        _record_subject(request, AuditEntry.Action.VIEW, reference, "looked up what is held")
    return render(request, "referrals/subject.html", context)


def _subject_export(request: HttpRequest, organisation_id: int, reference: str) -> HttpResponse:
    document = export_document(organisation_id, reference)
    summary = f"everything held: {len(document['referrals'])} referral(s)"
    _record_subject(request, AuditEntry.Action.EXPORT, reference, summary)
    response = JsonResponse(document, json_dumps_params={"indent": 2, "ensure_ascii": False})
    filename = f"recovery-menu-{slugify(reference)}-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _subject_readable(request: HttpRequest, organisation_id: int, reference: str) -> HttpResponse:
    """Everything held under the reference as a page the patient can read, in the
    language of their handout (or the one asked for)."""
    referrals = list(
        held_under(organisation_id, reference)
        .select_related("counsellor", "organisation")
        .prefetch_related("follow_ups__reasons")
        .order_by("created_at")
    )
    language = request.POST.get("language") or (
        referrals[-1].language if referrals else translation.get_language()
    )
    if language not in Referral.Language.values:
        language = "en"
    _record_subject(request, AuditEntry.Action.EXPORT, reference, f"readable export ({language})")
    log_entries = AuditEntry.objects.filter(
        organisation_id=organisation_id, reference__iexact=reference
    ).order_by("at", "id")
    names = dict(Group.objects.values_list("slug", "name"))
    with translation.override(language):
        held = [
            {
                "referral": referral,
                "answers": profile_answers(referral.profile, names),
                "offered": [option["name"] for option in referral.options],
                "chosen": names.get(referral.chosen_group, referral.chosen_group),
                "follow_ups": sorted(
                    referral.follow_ups.all(),
                    key=lambda f: list(Checkpoint.values).index(f.checkpoint),
                ),
            }
            for referral in referrals
        ]
        entries = [(entry, describe(entry.summary, entry.object_type)) for entry in log_entries]
        context = {
            "reference": reference,
            "held": held,
            "entries": entries,
            "language": language,
            "organisation": request.user.organisation,  # type: ignore[union-attr]
        }
        response = render(request, "referrals/subject_export.html", context)
    return response


def _record_subject(request: HttpRequest, action: str, reference: str, summary: str) -> None:
    log.record(
        area=AuditEntry.Area.REFERRALS,
        action=action,
        organisation_id=request.user.organisation_id,  # type: ignore[union-attr]
        object_type="reference",
        reference=reference,
        summary=summary,
        request=request,
    )
