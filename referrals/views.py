from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Group
from referrals.forms import ChooseForm, IntakeForm, ReferralSearchForm
from referrals.handout import handout_context
from referrals.matching import COMPLEMENTARY, Menu, match
from referrals.models import Referral
from referrals.profile import ProfileError, check_against_catalog, parse_profile
from referrals.record import menu_record
from referrals.services import record_choice, save_referral
from referrals.snapshot import current_snapshot

can_refer = permission_required("referrals.add_referral", raise_exception=True)
can_view = permission_required("referrals.view_referral", raise_exception=True)

PREVIEW_REFERENCE = "preview"


def _menu_for(
    form: IntakeForm, snapshot: Any, *, preview: bool
) -> tuple[Menu | None, dict[str, Any]]:
    """Match the form's answers; errors of the contract go back onto the form."""
    data = form.profile_data()
    if preview:
        # The reference does not change the ranking; a half-typed one must not stop it.
        data["reference"] = PREVIEW_REFERENCE
    try:
        profile = parse_profile(data)
        check_against_catalog(profile, snapshot)
    except ProfileError as error:
        for field, message in error.errors:
            name = field.split(".")[0].split("[")[0]
            form.add_error(name if name in form.fields else None, message)
        return None, data
    return match(profile, snapshot), data


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
    if data is not None and not saving and not data.get("reference"):
        data["reference"] = PREVIEW_REFERENCE  # the menu re-ranks before a reference is typed
    form = IntakeForm(data, initial=initial, groups=groups)  # type: ignore[arg-type]
    menu = None
    if data is not None and form.is_valid():
        menu, profile = _menu_for(form, snapshot, preview=not saving)
        if menu is not None and saving:
            referral = save_referral(
                counsellor=request.user,  # type: ignore[arg-type]
                profile=profile,
                menu=menu,
                language=form.cleaned_data["language"],
            )
            messages.success(
                request, _("Saved the referral %(reference)s.") % {"reference": referral}
            )
            return redirect(referral)
    context = {"form": form, "menu": menu_record(menu) if menu else None}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "referrals/_menu.html", context)
    return render(request, "referrals/intake.html", context)


@require_GET
@can_view
def referral_list(request: HttpRequest) -> HttpResponse:
    form = ReferralSearchForm(request.GET or None)
    referrals = Referral.objects.visible_to(request.user).select_related("counsellor")
    if form.is_valid() and form.cleaned_data["q"]:
        referrals = referrals.filter(reference__icontains=form.cleaned_data["q"])
    page = Paginator(referrals, 25).get_page(request.GET.get("page"))
    return render(request, "referrals/referral_list.html", {"form": form, "page": page})


def _get_referral(request: HttpRequest, pk: int) -> Referral:
    """The referral if this user may see it; 404 otherwise (no hint that it exists)."""
    return get_object_or_404(Referral.objects.visible_to(request.user), pk=pk)


@require_GET
@can_view
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    context = {
        "referral": referral,
        "menu": referral.menu,
        "choose_form": ChooseForm(initial={"group": referral.chosen_group}, referral=referral),
    }
    return render(request, "referrals/referral_detail.html", context)


@require_POST
@can_refer
def referral_choose(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    form = ChooseForm(request.POST, referral=referral)
    if form.is_valid():
        record_choice(referral=referral, group=form.cleaned_data["group"])
        messages.success(request, _("Recorded the patient's choice."))
    else:
        messages.error(request, _("Choose one of the groups on the menu."))
    return redirect(referral)


@require_GET
@can_view
def referral_handout(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    language = request.GET.get("language", referral.language)
    if language not in Referral.Language.values:
        language = referral.language
    slugs = [option["group"] for option in referral.options]
    groups = {
        group.slug: group
        for group in Group.objects.filter(slug__in=slugs).prefetch_related("availability")
    }
    with translation.override(language):
        context = handout_context(referral, groups, language)
        return render(request, "referrals/handout.html", context)
