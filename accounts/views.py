from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout as end_session
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The start page: what each of the user's roles can do here."""
    context = {}
    if request.user.has_perm("referrals.add_followup"):
        from referrals.models import Referral

        context["follow_ups_due"] = Referral.objects.filter(
            counsellor_id=request.user.pk, follow_up_due_on__lte=timezone.localdate()
        ).count()
    return render(request, "home.html", context)


@login_not_required
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """Log out on POST; a GET (a stale tab, a bookmark) only shows the log-in page."""
    if request.method == "POST" and request.user.is_authenticated:
        end_session(request)
        messages.success(request, _("You have logged out."))
    return redirect("accounts:login")
