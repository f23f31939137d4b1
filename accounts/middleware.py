from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

SESSION_STARTED = "session_started"
SESSION_SEEN = "session_seen"
SESSION_EXPIRED = "session_expired"
# The last-seen time is written at most this often, not on every request.
SEEN_RESOLUTION = 60


def start_session_clock(request: HttpRequest, **kwargs: Any) -> None:
    """On logging in (a receiver of user_logged_in): the session's absolute and idle
    limits count from now."""
    now = int(time.time())
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now


class SessionTimeoutMiddleware:
    """Ends a session after SESSION_IDLE_TIMEOUT seconds without a request, or
    SESSION_MAX_AGE seconds after logging in, and says so on the log-in page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get(SESSION_STARTED)
            seen = session.get(SESSION_SEEN)
            if started is None or seen is None:
                start_session_clock(request)
            elif (
                now - seen > settings.SESSION_IDLE_TIMEOUT
                or now - started > settings.SESSION_MAX_AGE
            ):
                logout(request)
                request.session[SESSION_EXPIRED] = True
            elif now - seen >= SEEN_RESOLUTION:
                session[SESSION_SEEN] = now
        return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a logged-in user, except the API, which authenticates each
    request itself (session or token) and answers 401 rather than redirecting."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


# Where a user who must still set up two-factor authentication may go.
TWO_FACTOR_SETUP_PATHS = ("/accounts/", "/i18n/", "/static/", "/healthz")


class TwoFactorRequiredMiddleware:
    """In an organisation that requires two-factor authentication, a user who has not
    verified a code since logging in can only set it up (or log out)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user: Any = request.user
        if (
            user.is_authenticated
            and user.organisation.require_two_factor
            and not user.is_verified()
            and not request.path_info.startswith(TWO_FACTOR_SETUP_PATHS)
        ):
            if request.path_info.startswith("/api/"):
                message = _("Your organisation requires two-factor authentication.")
                return JsonResponse({"detail": [{"field": "user", "message": message}]}, status=403)
            return redirect("accounts:two-factor")
        return self.get_response(request)
