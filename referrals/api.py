"""The JSON API: POST /api/v1/match, documented at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from accounts.models import ApiToken
from accounts.roles import Role
from catalog.api import refused_parameters
from catalog.api import router as catalog_router
from referrals.matching import match
from referrals.meetings import clinic_country, locate, menu_meetings
from referrals.profile import ProfileError, check_against_catalog, parse_profile
from referrals.schemas import ErrorOut, MenuOut, ProfileIn, inline_schema
from referrals.serialise import menu_json
from referrals.snapshot import current_snapshot


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.objects.for_key(token)
        if found is None or not found.user.is_active:
            return None
        request.user = found.user
        return found


class SessionAuth(NinjaSessionAuth):
    """A logged-in browser session, CSRF-checked. A request without the session cookie
    is not this kind at all: it is answered 401 (no credentials), not a CSRF failure."""

    def __call__(self, request: HttpRequest) -> Any:
        if self.param_name not in request.COOKIES:
            return None
        return super().__call__(request)


api = NinjaAPI(
    title="Recovery Menu API",
    version="1",
    description="A ranked, explained menu of peer support groups for a pseudonymous profile.",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
)


def _error(field: str, message: str) -> dict[str, list[dict[str, str]]]:
    return {"detail": [{"field": field, "message": message}]}


@api.exception_handler(AuthenticationError)
def unauthorised(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    message = _("Log in, or send an API token: Authorization: Bearer KEY.")
    return api.create_response(request, _error("authorization", message), status=401)


@api.exception_handler(HttpError)
def refused(request: HttpRequest, error: HttpError) -> HttpResponse:
    """Every refusal in the contract's error shape (a CSRF failure, for one)."""
    return api.create_response(request, _error("request", str(error)), status=error.status_code)


PROFILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": inline_schema(ProfileIn)}},
    }
}


@api.post(
    "/match",
    response={200: MenuOut, 401: ErrorOut, 403: ErrorOut, 415: ErrorOut, 422: ErrorOut},
    openapi_extra=PROFILE_BODY,
    summary="Rank the catalog for a profile",
)
def match_profile(request: HttpRequest) -> Status[Any]:
    """The same menu as the intake page and `manage.py match` give for the profile.

    Bad input (unknown field, wrong type, value not allowed, malformed JSON) is a
    422 whose `detail` names each bad field and what is allowed.
    """
    # A token was looked up with its user's role in one query; a session user's role
    # costs one more, rather than loading every permission of the user.
    token = request.auth  # type: ignore[attr-defined]
    counsellor = (
        token.user_is_counsellor  # type: ignore[attr-defined]
        if isinstance(token, ApiToken)
        else request.user.has_role(Role.COUNSELLOR)  # type: ignore[union-attr]
    )
    if not counsellor:
        return Status(
            403, {"detail": [{"field": "user", "message": _("Only counsellors match profiles.")}]}
        )
    if request.content_type != "application/json":
        message = _("Send the profile as JSON, with Content-Type: application/json.")
        return Status(415, _error("body", message))
    user: Any = request.user
    try:
        profile = parse_profile(request.body)
        snapshot = current_snapshot()
        check_against_catalog(profile, snapshot)
        where = locate(profile, country=clinic_country(user) if profile.place else "")
    except ProfileError as error:
        return Status(422, error.as_json())
    menu = match(profile, snapshot)
    meetings = menu_meetings(menu, profile, where, organisation_id=user.organisation_id)
    # Returned as JSON directly: the menu is built to the contract, and validating it
    # again against MenuOut would cost every request more than the match itself.
    return JsonResponse(menu_json(menu, meetings))  # type: ignore[return-value]


# The catalog's read-only endpoints (catalog/api.py); a bad query parameter is refused
# in the contract's error shape, naming it.
api.add_router("/", catalog_router)
api.exception_handler(ValidationError)(refused_parameters)
