"""The catalog's read-only API: ``GET /api/v1/groups`` and ``GET /api/v1/meetings``.

Registered on the API of ``referrals/api.py`` (same authentication: a bearer token
or a logged-in session), for any user who may read the catalog. ``/meetings`` takes
the meeting finder's filters as query parameters and answers the next start of each
meeting found, as the menu's meetings are given (``catalog.nearby``): in person within
the radius, nearest first, then online ones, soonest first. An organisation's own
meetings are seen by that organisation only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import BaseModel, Field

from catalog import nearby
from catalog.languages import LANGUAGE_CODES
from catalog.models import Group
from referrals.schemas import ErrorOut, MeetingOut
from referrals.serialise import meeting_json

router = Router(tags=["catalog"])

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
SLUG_PATTERN = r"^[a-z0-9-]{1,50}$"
LANGUAGE_PATTERN = r"^[a-z]{2}$"
MAX_LIMIT = 100

# What to say when a query parameter does not match its pattern (pydantic would
# quote the regular expression).
_PATTERN_HINTS = {
    "starts_after": gettext_lazy("Give a time as HH:MM, e.g. 18:30."),
    "starts_before": gettext_lazy("Give a time as HH:MM, e.g. 21:00."),
    "language": gettext_lazy("Give an ISO 639-1 language code, e.g. nb or en."),
    "group": gettext_lazy("Give a catalog slug, e.g. na or smart-recovery."),
}

REFUSALS: dict[int | frozenset[int], Any] = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


def _error(field: str, message: str) -> dict[str, list[dict[str, str]]]:
    return {"detail": [{"field": field, "message": message}]}


def refused_parameters(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """Bad query parameters, in the contract's error shape: each names its field."""
    detail = []
    for problem in error.errors:
        location = [str(part) for part in problem.get("loc", ()) if not isinstance(part, int)]
        field = location[-1] if location else "request"
        message = problem.get("msg", "")
        if problem.get("type") == "string_pattern_mismatch" and field in _PATTERN_HINTS:
            message = str(_PATTERN_HINTS[field])
        detail.append({"field": field, "message": message})
    return JsonResponse({"detail": detail}, status=422)


def _refusal(request: HttpRequest) -> Status[Any] | None:
    # A token's user is set on the request by the API's authentication.
    if not request.user.has_perm("catalog.view_group"):
        return Status(403, _error("user", _("Only users who may read the catalog use this API.")))
    return None


# --- Groups ------------------------------------------------------------------------


class GroupOut(BaseModel):
    slug: str = Field(examples=["smart-recovery"])
    name: str
    kind: Literal["twelve_step", "secular", "user_organisation", "recovery_ngo", "complementary"]
    website: str
    languages: list[str] = Field(description="ISO 639-1 codes.", examples=[["en", "nb"]])
    active: bool = Field(description="Inactive groups stay in the catalog for reference.")


class GroupPageOut(BaseModel):
    count: int = Field(description="Groups in the catalog, on every page together.")
    items: list[GroupOut]


class GroupPageIn(Schema):
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="Groups per page.")
    # Bounded: a database refuses an offset beyond its integers.
    offset: int = Field(default=0, ge=0, le=1_000_000, description="Groups to skip.")


@router.get(
    "/groups",
    response={200: GroupPageOut, **REFUSALS},
    summary="The catalog's groups",
)
def list_groups(request: HttpRequest, page: Query[GroupPageIn]) -> Status[Any]:
    """Every group of the catalog, active or not, by slug; `limit` and `offset` page it."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    groups = Group.objects.order_by("slug")
    items = [
        {
            "slug": group.slug,
            "name": group.name,
            "kind": group.kind,
            "website": group.website,
            "languages": group.language_list,
            "active": group.active,
        }
        for group in groups[page.offset : page.offset + page.limit]
    ]
    return Status(200, {"count": groups.count(), "items": items})


# --- Meetings ----------------------------------------------------------------------


class FinderMeetingOut(MeetingOut):
    group: str = Field(description="The group's catalog slug.", examples=["aa"])


class PointOut(BaseModel):
    latitude: float
    longitude: float
    label: str = Field(description="The place as resolved, or the coordinates given.")


class MeetingPageOut(BaseModel):
    count: int = Field(description="Meetings found, before `limit`.")
    near: PointOut | None = Field(description="Where distances are measured from, if anywhere.")
    items: list[FinderMeetingOut]


class MeetingSearchIn(Schema):
    group: list[Annotated[str, Field(pattern=SLUG_PATTERN)]] = Field(
        default_factory=list,
        max_length=50,
        description="Only these groups' meetings (catalog slugs; repeat the parameter).",
    )
    place: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description=(
            "A town, municipality or postcode to measure from, resolved offline (not with "
            "`latitude` and `longitude`). Unknown or ambiguous places are a 422 naming "
            "`place` and, when ambiguous, the candidates."
        ),
        examples=["Drammen"],
    )
    latitude: float | None = Field(default=None, ge=-90, le=90, examples=[59.91])
    longitude: float | None = Field(default=None, ge=-180, le=180, examples=[10.75])
    radius_km: int = Field(
        default=nearby.DEFAULT_RADIUS_KM,
        ge=1,
        le=nearby.MAX_RADIUS_KM,
        description="How far to look for meetings in person.",
    )
    day: list[Weekday] = Field(
        default_factory=list,
        max_length=7,
        description="Only on these days, in the meeting's own time zone (repeat the parameter).",
    )
    starts_after: str | None = Field(
        default=None,
        pattern=TIME_PATTERN,
        description="Starting at or after this local time (HH:MM).",
        examples=["17:00"],
    )
    starts_before: str | None = Field(
        default=None,
        pattern=TIME_PATTERN,
        description="Starting before this local time (HH:MM), later than `starts_after`.",
        examples=["21:00"],
    )
    attendance: Literal["in_person", "online", "any"] = Field(
        default="any",
        description=(
            "in_person needs `place` or `latitude` and `longitude`; online finds meetings "
            "joined by link or telephone (hybrid ones too); any gives both, in person first."
        ),
    )
    language: list[Annotated[str, Field(pattern=LANGUAGE_PATTERN)]] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "In any of these languages (ISO 639-1; repeat the parameter). Meetings that "
            "state no language come after those that match."
        ),
    )
    women_only: bool = Field(default=False, description="Only meetings for women.")
    wheelchair: bool = Field(
        default=False,
        description="Only meetings in person with wheelchair access (online ones stay).",
    )
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT, description="Meetings to return at most.")


class _Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _where(search: MeetingSearchIn, user: Any) -> PointOut | None:
    if search.place is not None:
        if search.latitude is not None or search.longitude is not None:
            raise _Invalid("place", _("Give a place or latitude and longitude, not both."))
        from catalog.places import PlaceError, describe, resolve

        organisation = getattr(user, "organisation", None)
        country = str(organisation.country) if organisation is not None else ""
        try:
            found = resolve(search.place, country=country)
        except PlaceError as error:
            raise _Invalid("place", str(error)) from error
        return PointOut(latitude=found.latitude, longitude=found.longitude, label=describe(found))
    if (search.latitude is None) != (search.longitude is None):
        missing = "longitude" if search.longitude is None else "latitude"
        raise _Invalid(missing, _("Give both latitude and longitude, or neither."))
    if search.latitude is not None and search.longitude is not None:
        label = f"{search.latitude:.4f}, {search.longitude:.4f}"
        return PointOut(latitude=search.latitude, longitude=search.longitude, label=label)
    return None


def _check(search: MeetingSearchIn) -> None:
    unknown = [code for code in search.language if code not in LANGUAGE_CODES]
    if unknown:
        raise _Invalid("language", _("Unknown language code: %(code)s.") % {"code": unknown[0]})
    if search.starts_after and search.starts_before and search.starts_before <= search.starts_after:
        raise _Invalid("starts_before", _("Give a time later than starts_after."))
    if search.group:
        known = set(Group.objects.filter(slug__in=search.group).values_list("slug", flat=True))
        unknown = sorted(set(search.group) - known)
        if unknown:
            raise _Invalid(
                "group", _("No group in the catalog has the slug %(slug)s.") % {"slug": unknown[0]}
            )


def _time(value: str | None) -> dt.time | None:
    return dt.time.fromisoformat(value) if value else None


@router.get(
    "/meetings",
    response={200: MeetingPageOut, **REFUSALS},
    summary="Upcoming meetings, filtered as in the meeting finder",
)
def list_meetings(request: HttpRequest, search: Query[MeetingSearchIn]) -> Status[Any]:
    """The next start of each meeting that passes every filter given: in person within
    `radius_km` of `place` (or `latitude` and `longitude`), nearest first, then online
    ones, soonest first. Reference meetings and the caller's organisation's own.

    A bad parameter is a 422 whose `detail` names it.
    """
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    user: Any = request.user
    try:
        _check(search)
        near = _where(search, user)
        if search.attendance == "in_person" and near is None:
            raise _Invalid(
                "place", _("Give a place, or latitude and longitude, to find meetings in person.")
            )
    except _Invalid as error:
        return Status(422, _error(error.field, error.message))
    query = nearby.Search(
        group_slugs=search.group or None,
        near=(near.latitude, near.longitude) if near else None,
        radius_km=search.radius_km,
        in_person=search.attendance != "online",
        online=search.attendance != "in_person",
        languages=tuple(search.language),
        weekdays=tuple(sorted(WEEKDAYS.index(day) for day in set(search.day))),
        starts_after=_time(search.starts_after),
        starts_before=_time(search.starts_before),
        women_only=search.women_only,
        wheelchair_access=search.wheelchair,
        organisation_id=user.organisation_id,
    )
    found = nearby.listing(query, timezone.now(), limit=search.limit)
    items = [{**meeting_json(item), "group": item.group} for item in found.items]
    return Status(200, {"count": found.total, "near": near, "items": items})
