"""Which meetings to name beside a menu: near where the patient would travel from,
and online, for the menu's options.

The ranking stays pure (``referrals.matching``); this module adds what depends on the
clock and on the meetings on offer: one query for a whole menu, whatever the number
of options and meetings (``catalog.nearby``, ``catalog.timetable``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.nearby import Search, Upcoming, per_group
from referrals.matching import Menu, Profile
from referrals.profile import ProfileError


@dataclass(frozen=True)
class Whereabouts:
    """The point meetings are measured from, and how to say it."""

    latitude: float
    longitude: float
    label: str


def locate(profile: Profile | dict[str, Any], *, country: str = "") -> Whereabouts | None:
    """Where the patient would travel from: ``near`` as given, ``place`` resolved offline.

    An unknown or ambiguous place is a ``ProfileError`` naming ``place`` (and the
    candidates); ``country`` (the clinic's) breaks ties between places of one name.
    """
    near, place = _get(profile, "near"), _get(profile, "place")
    if near:
        latitude, longitude = (
            (near["latitude"], near["longitude"]) if isinstance(near, dict) else near
        )
        return Whereabouts(latitude, longitude, f"{latitude:.4f}, {longitude:.4f}")
    if not place:
        return None
    from catalog.places import PlaceError, describe, resolve

    try:
        found = resolve(place, country=country or "")
    except PlaceError as error:
        raise ProfileError([("place", str(error))]) from error
    return Whereabouts(found.latitude, found.longitude, describe(found))


def _get(profile: Profile | dict[str, Any], name: str) -> Any:
    return profile.get(name) if isinstance(profile, dict) else getattr(profile, name)


def wanted(profile: Profile | dict[str, Any], where: Whereabouts | None) -> Search | None:
    """The search a profile asks for, or None when it asks for no meetings at all."""
    attendance = _get(profile, "attendance") or "either"
    in_person = attendance != "online" and where is not None
    online = attendance != "in_person"
    if not (in_person or online):
        return None
    return Search(
        near=(where.latitude, where.longitude) if where else None,
        radius_km=_get(profile, "radius_km") or 25,
        in_person=in_person,
        online=online,
        languages=tuple(_get(profile, "languages") or ()),
        # A man is never sent to a meeting for women only; a woman who prefers them
        # sees them first.
        not_women_only=_get(profile, "gender") == "male",
        women_only_first=bool(
            _get(profile, "gender") == "female" and _get(profile, "prefers_women_only")
        ),
    )


def meetings_for(
    groups: Iterable[str],
    profile: Profile | dict[str, Any],
    where: Whereabouts | None,
    *,
    organisation_id: int | None,
    now: dt.datetime | None = None,
    limit: int = 3,
) -> dict[str, list[Upcoming]]:
    """Each group's next meetings for this profile, by group slug (one query)."""
    slugs = list(groups)
    search = wanted(profile, where)
    if search is None or not slugs:
        return {}
    search = replace(search, group_slugs=slugs, organisation_id=organisation_id)
    found = per_group(search, now or timezone.now(), limit=limit)
    return {items[0].group: items for items in found.values() if items}


def menu_meetings(
    menu: Menu,
    profile: Profile | dict[str, Any],
    where: Whereabouts | None,
    *,
    organisation_id: int | None,
    now: dt.datetime | None = None,
) -> dict[str, list[Upcoming]]:
    """The next meetings of each option on the menu."""
    groups = [option.group for option in menu.options]
    return meetings_for(groups, profile, where, organisation_id=organisation_id, now=now)


def clinic_country(user: Any) -> str:
    """The country of the user's organisation (one query), to break ties between places."""
    organisation = getattr(user, "organisation", None)
    return str(organisation.country) if organisation is not None else ""


def describe_search(where: Whereabouts | None, radius_km: int) -> str:
    if where is None:
        return _("Online meetings")
    return _("Within %(radius)d km of %(place)s") % {"radius": radius_km, "place": where.label}
