"""From raw input (JSON text, a dict from a form) to the matcher's Profile, or errors
that name each bad field and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from django_countries import countries
from pydantic import ValidationError

from referrals.matching import COMPLEMENTARY, CatalogSnapshot, PreviousGroup, Profile
from referrals.pseudonym import reference_problem
from referrals.schemas import PreviousGroupIn, ProfileIn


class ProfileError(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors

    def as_json(self) -> dict[str, list[dict[str, str]]]:
        return {"detail": [{"field": f, "message": m} for f, m in self.errors]}


def _field(location: Iterable[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        model = PreviousGroupIn if error["loc"][0] == "previous_groups" else ProfileIn
        return _("unknown field; allowed fields: %(fields)s.") % {
            "fields": ", ".join(model.model_fields)
        }
    if kind == "missing":
        return _("this field is required.")
    if kind == "string_pattern_mismatch" and error["loc"][-1] == "reference":
        # Say what it looks like (an e-mail address, a phone number) when we can tell.
        return reference_problem(str(error["input"])) or _(
            "a pseudonymous reference of letters, digits, '-', '_', '.' or '/' (at most 40), "
            "e.g. P-0042; never a name."
        )
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "json_invalid":
        return _("the body is not valid JSON: %(message)s") % {"message": error["msg"]}
    return str(error["msg"])


def parse_profile(data: str | bytes | dict[str, Any]) -> Profile:
    """Validate input against the contract; raise ProfileError naming every bad field."""
    try:
        if isinstance(data, dict):
            checked = ProfileIn.model_validate(data)
        else:
            checked = ProfileIn.model_validate_json(data)
    except ValidationError as error:
        raise ProfileError(
            [(_field(item["loc"]), _message(item)) for item in error.errors()]
        ) from error
    problem = reference_problem(checked.reference)
    if problem:
        raise ProfileError([("reference", problem)])
    if checked.near is not None and checked.place is not None:
        raise ProfileError([("place", _("give either a place or a point (near), not both."))])
    return Profile(
        reference=checked.reference,
        gender=checked.gender,
        age=checked.age,
        country=checked.country,
        languages=tuple(checked.languages),
        substances=tuple(checked.substances),
        goal=checked.goal,
        on_medication_treatment=checked.on_medication_treatment,
        psychiatric_comorbidity=checked.psychiatric_comorbidity,
        trauma_history=checked.trauma_history,
        spirituality=checked.spirituality,
        format=checked.format,
        wants_sponsor=checked.wants_sponsor,
        wants_social_activities=checked.wants_social_activities,
        prefers_women_only=checked.prefers_women_only,
        attendance=checked.attendance,
        previous_groups=tuple(
            PreviousGroup(item.group, item.experience, tuple(item.reasons))
            for item in checked.previous_groups
        ),
        averse_to_labels=checked.averse_to_labels,
        recent_relapse=checked.recent_relapse,
        near=(checked.near.latitude, checked.near.longitude) if checked.near else None,
        place=checked.place.strip() if checked.place else None,
        radius_km=checked.radius_km,
    )


def check_against_catalog(profile: Profile, snapshot: CatalogSnapshot) -> None:
    """Previous groups must be groups of the menu's catalog; the country a real one."""
    known = sorted(group.slug for group in snapshot.groups if group.kind != COMPLEMENTARY)
    errors = (
        []
        if not profile.country or profile.country in countries
        else [
            (
                "country",
                _("“%(code)s” is not an ISO 3166-1 country code.") % {"code": profile.country},
            )
        ]
    )
    errors += [
        (
            f"previous_groups[{index}].group",
            _("unknown group “%(slug)s”; allowed: %(allowed)s.")
            % {"slug": item.group, "allowed": ", ".join(known)},
        )
        for index, item in enumerate(profile.previous_groups)
        if item.group not in known
    ]
    if errors:
        raise ProfileError(errors)
