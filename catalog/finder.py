"""The meeting finder: which meetings a counsellor can point a patient to, near a place
or online, on which days, at what time of day, in which language.

Nearest first in person, soonest first online, each start on the meeting's own clock
and, where that reads differently, on the counsellor's. A GET page that works without
JavaScript; with it, htmx re-renders the results on every change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from catalog.finder_forms import Choices, MeetingFinderForm
from catalog.nearby import Listing, Upcoming, listing
from catalog.schedule import zone_info

PER_PAGE = 20


def now() -> dt.datetime:
    """The finder's clock (tests stop it)."""
    return timezone.now()


@dataclass(frozen=True)
class Found:
    """A meeting as the finder lists it."""

    meeting: Upcoming
    group: str  # the group's name
    when: str  # the next start on the meeting's own clock
    when_here: str  # and on the counsellor's, when it reads differently there


def city(zone: str) -> str:
    """How a time zone is named in a sentence: America/Toronto is "Toronto"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def clock_times(starts: dt.datetime, zone: str, here: str) -> tuple[str, str]:
    """A start as the meeting's own clock shows it, and as one in ``here`` does when
    that differs: ("Tue 8 Dec 19:30 Toronto time", "01:30 Wed in Oslo")."""
    when = dateformat.format(starts, "D j M H:i")
    local = starts.astimezone(zone_info(here))
    if local.replace(tzinfo=None) == starts.replace(tzinfo=None):
        return when, ""
    own = _("%(when)s %(city)s time") % {"when": when, "city": city(zone)}
    shown = dateformat.format(local, "H:i" if local.date() == starts.date() else "H:i D")
    return own, _("%(time)s in %(city)s") % {"time": shown, "city": city(here)}


def _found(result: Listing, offset: int, groups: dict[str, str]) -> list[Found]:
    here = timezone.get_current_timezone_name()
    rows = []
    for meeting in result.items[offset : offset + PER_PAGE]:
        when, when_here = clock_times(meeting.starts, meeting.timezone, here)
        rows.append(Found(meeting, groups.get(meeting.group, meeting.group), when, when_here))
    return rows


def _sections(rows: list[Found]) -> list[tuple[str, list[Found]]]:
    near = [row for row in rows if not row.meeting.online]
    remote = [row for row in rows if row.meeting.online]
    sections = [(_("In person, nearest first"), near), (_("Online, soonest first"), remote)]
    return [(title, items) for title, items in sections if items]


def status(form: MeetingFinderForm, result: Listing | None) -> str:
    """The sentence announced after every search: what was found, or what is wrong."""
    if not form.is_bound:
        return ""
    if result is None:
        problems = [str(error) for errors in form.errors.values() for error in errors]
        return _("Nothing was searched. %(problems)s") % {"problems": " ".join(problems)}
    parts = {}
    if form.where is not None and form.cleaned_data["attendance"] != "online":
        parts["in_person"] = ngettext(
            "%(count)d meeting within %(radius)d km of %(place)s",
            "%(count)d meetings within %(radius)d km of %(place)s",
            result.in_person,
        ) % {
            "count": result.in_person,
            "radius": form.cleaned_data["radius"],
            "place": form.where.name,
        }
    if form.cleaned_data["attendance"] != "in_person":
        parts["online"] = ngettext(
            "%(count)d online meeting", "%(count)d online meetings", result.online
        ) % {"count": result.online}
    if len(parts) == 2:
        found = _("Found %(in_person)s and %(online)s.") % parts
    elif parts:
        found = _("Found %(what)s.") % {"what": next(iter(parts.values()))}
    else:
        found = ""
    if form.where is None and form.cleaned_data["attendance"] != "online":
        found += " " + _("Enter a town, municipality or postcode to find meetings in person.")
    return found.strip()


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _candidates(request: HttpRequest, form: MeetingFinderForm) -> list[tuple[str, str]]:
    """Each place an ambiguous name could be, with the search again for it."""
    from catalog.places import describe

    links = []
    for place in form.candidates:
        query = request.GET.copy()
        query["place"] = describe(place)
        query.pop("page", None)
        links.append((describe(place), f"{request.path}?{query.urlencode()}"))
    return links


def _results(request: HttpRequest, form: MeetingFinderForm) -> dict[str, Any]:
    result: Listing | None = None
    page: Page[int] | None = None
    rows: list[Found] = []
    if form.is_bound and form.is_valid():
        number = _page_number(request.GET.get("page"))
        search = form.search(request.user.organisation_id)  # type: ignore[union-attr]
        result = listing(search, now(), limit=number * PER_PAGE)
        page = Paginator(range(result.total), PER_PAGE).get_page(number)
        groups = {slug: name for _pk, slug, name in form.choices.groups}
        rows = _found(result, (page.number - 1) * PER_PAGE, groups)
    return {
        "result": result,
        "page": page,
        "sections": _sections(rows),
        "status": status(form, result),
        "candidates": _candidates(request, form),
        "today": timezone.localdate(now()),
    }


@require_GET
@permission_required("catalog.view_group", raise_exception=True)
def meeting_finder(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = MeetingFinderForm(
        request.GET or None,
        choices=Choices.read(user.organisation_id),
        country=user.organisation.country,
    )
    context = {"form": form, **_results(request, form)}
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    template = "catalog/_finder_update.html" if partial else "catalog/meeting_finder.html"
    response = render(request, template, context)
    # The same address answers with a whole page or, for htmx, the results only.
    patch_vary_headers(response, ["HX-Request"])
    return response
