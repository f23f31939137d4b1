from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth import login as start_session
from django.contrib.auth import logout as end_session
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as verified

from accounts import twofactor
from accounts.forms import CodeForm
from accounts.middleware import SESSION_EXPIRED
from audit import log
from audit.models import AuditEntry

# A password checked, a code still to come: who, how, since when, where to go next.
PENDING = "two_factor_pending"
PENDING_SECONDS = 300
PENDING_ATTEMPTS = 5
# The secret of an authenticator being set up, until a code from it is confirmed.
SETUP_KEY = "two_factor_setup_key"


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


class LoginView(auth_views.LoginView):
    """Django's log-in, then a code from the authenticator app for users who set one up."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user: Any = form.get_user()
        if twofactor.has_two_factor(user):
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "since": int(time.time()),
                "next": self.get_success_url(),
                "attempts": 0,
            }
            return redirect("accounts:login-verify")
        return super().form_valid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["session_expired"] = self.request.session.pop(SESSION_EXPIRED, False)
        return context


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: the code from the user's authenticator app."""
    pending: dict[str, Any] = request.session.get(PENDING) or {}
    user = None
    if pending and time.time() - pending["since"] <= PENDING_SECONDS:
        user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        messages.error(request, _("Log in again: the code was not entered in time."))
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(user, form.cleaned_data["token"])
        if device is not None:
            del request.session[PENDING]
            start_session(request, user, backend=pending["backend"])
            verified(request, device)
            return redirect(pending["next"])
        log.account_event(AuditEntry.Action.TWO_FACTOR_FAILED, user=user, request=request)
        pending["attempts"] += 1
        request.session[PENDING] = pending
        if pending["attempts"] >= PENDING_ATTEMPTS:
            del request.session[PENDING]
            messages.error(request, _("Too many wrong codes. Log in again."))
            return redirect("accounts:login")
        form.add_error("token", _("That code is not right, or it has expired. Try the next one."))
    return render(request, "registration/login_verify.html", {"form": form})


@login_not_required
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """Log out on POST; a GET (a stale tab, a bookmark) only shows the log-in page."""
    if request.method == "POST" and request.user.is_authenticated:
        end_session(request)
        messages.success(request, _("You have logged out."))
    return redirect("accounts:login")


@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of this user, on every device, this one included."""
    user: Any = request.user
    with transaction.atomic():
        user.end_all_sessions()
        log.account_event(AuditEntry.Action.LOG_OUT_EVERYWHERE, user=user, request=request)
    end_session(request)
    messages.success(request, _("You have been logged out on every device."))
    return redirect("accounts:login")


@never_cache
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    """The user's two-factor authentication and sessions."""
    return render(request, "accounts/security.html", _security_context(request, CodeForm()))


def _security_context(request: HttpRequest, form: CodeForm) -> dict[str, Any]:
    from django.conf import settings

    user: Any = request.user
    context: dict[str, Any] = {
        "two_factor": twofactor.has_two_factor(user),
        "required": user.organisation.require_two_factor,
        "idle_minutes": settings.SESSION_IDLE_TIMEOUT // 60,
    }
    if not context["two_factor"]:
        # The secret of the authenticator being set up stays the same until confirmed,
        # so that a reload does not invalidate what was just scanned.
        key = request.session.setdefault(SETUP_KEY, twofactor.new_key())
        device = twofactor.pending_device(user, key)
        context.update(
            form=form, qr_svg=twofactor.qr_svg(device), manual_key=twofactor.manual_key(device)
        )
    return context


@require_POST
def two_factor_on(request: HttpRequest) -> HttpResponse:
    """Confirm the authenticator being set up with a code it shows."""
    user: Any = request.user
    if twofactor.has_two_factor(user) and not user.is_verified():
        # Replacing an authenticator takes a code from the present one.
        messages.error(request, _("Log in with a code from your authenticator first."))
        return redirect("accounts:two-factor")
    form = CodeForm(request.POST)
    key = request.session.get(SETUP_KEY)
    if key and form.is_valid():
        if twofactor.code_fits(twofactor.pending_device(user, key), form.cleaned_data["token"]):
            device = twofactor.confirm(user, key)
            del request.session[SETUP_KEY]
            # Every other session has ended; this one goes on, verified.
            update_session_auth_hash(request, user)
            verified(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("accounts:two-factor")
        form.add_error("token", _("That code does not fit. Scan the code again and retry."))
    context = _security_context(request, form)
    return render(request, "accounts/security.html", context, status=400)


@require_POST
def two_factor_off(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.organisation.require_two_factor:
        messages.error(request, _("Your organisation requires two-factor authentication."))
        return redirect("accounts:two-factor")
    if not user.is_verified():
        messages.error(request, _("Log in with a code from your authenticator first."))
        return redirect("accounts:two-factor")
    twofactor.turn_off(user)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:two-factor")


def locked_out(request: HttpRequest, response: Any, credentials: Any) -> HttpResponse:
    """django-axes' answer to a locked-out user name or address (429)."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)


@login_not_required
@require_GET
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin logs in through the same page, with the same second factor."""
    target = request.GET.get("next", reverse("admin:index"))
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")
