"""The meeting finder's form: what a counsellor searches meetings by.

A GET form, so that a search can be bookmarked, printed and linked to (the intake
links to it with ``place``, ``radius``, ``group`` and ``attendance``); it holds
nothing about a patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.boundfield import BoundWidget
from django.http import QueryDict
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from catalog.languages import language_name, split_languages
from catalog.models import Group, Place, Weekday
from catalog.nearby import DEFAULT_RADIUS_KM, RADII_KM, Search

IN_PERSON, ONLINE, EITHER = "in_person", "online", "either"
ATTENDANCE = [
    (EITHER, _("Both")),
    (IN_PERSON, _("In person")),
    (ONLINE, _("Online")),
]
# Parts of the day on the meeting's own clock: (from, until), either open.
TIMES_OF_DAY: dict[str, tuple[dt.time | None, dt.time | None]] = {
    "morning": (None, dt.time(12)),
    "afternoon": (dt.time(12), dt.time(17)),
    "evening": (dt.time(17), None),
}
TIME_CHOICES = [
    ("", _("Any time")),
    ("morning", _("Morning (before 12:00)")),
    ("afternoon", _("Afternoon (12:00 to 17:00)")),
    ("evening", _("Evening (from 17:00)")),
]


@dataclass(frozen=True)
class Choices:
    """What the form offers, read once per request: the groups and the languages."""

    groups: list[tuple[int, str, str]]  # id, slug, name
    languages: list[str]  # codes that current meetings state

    @classmethod
    def read(cls, organisation_id: int | None) -> Choices:
        """Two queries: the catalog's active groups but complementary ones, and the
        languages of the meetings the organisation sees that are not retired."""
        from catalog.models import Meeting

        groups = list(
            Group.objects.active()
            .exclude(kind=Group.Kind.COMPLEMENTARY)
            .order_by("name")
            .values_list("pk", "slug", "name")
        )
        used: set[str] = set()
        # Not narrowed to active groups: the join would cost more than the rare language
        # offered that then finds nothing.
        stated = (
            Meeting.objects.filter(retired_at__isnull=True)
            .visible_to(organisation_id)
            .exclude(languages="")
            .order_by()
            .values_list("languages", flat=True)
            .distinct()
        )
        for languages in stated:
            used.update(split_languages(languages))
        return cls(groups, sorted(used, key=language_name))


class MeetingFinderForm(forms.Form):
    attendance = forms.ChoiceField(
        label=_("Meets"),
        choices=ATTENDANCE,
        initial=EITHER,
        required=False,
        widget=forms.RadioSelect,
    )
    place = forms.CharField(
        label=_("Town, municipality or postcode"),
        required=False,
        max_length=100,
        help_text=_("Looked up on this server; nothing is sent elsewhere."),
    )
    radius = forms.TypedChoiceField(
        label=_("Within"),
        choices=[(km, f"{km} km") for km in RADII_KM],
        coerce=int,
        initial=DEFAULT_RADIUS_KM,
        empty_value=DEFAULT_RADIUS_KM,  # type: ignore[arg-type]  # coerced, an int
        required=False,
    )
    wheelchair = forms.BooleanField(label=_("Wheelchair access"), required=False)
    day = forms.TypedMultipleChoiceField(
        label=_("Days"),
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    time = forms.ChoiceField(label=_("Time of day"), choices=TIME_CHOICES, required=False)
    group = forms.ChoiceField(label=_("Group"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    women = forms.BooleanField(label=_("Women only"), required=False)

    def __init__(
        self, data: QueryDict | None = None, *, choices: Choices, country: str = ""
    ) -> None:
        if data is not None:
            # A search linked to without every field (the intake's link, a bookmark)
            # shows the defaults it was made with.
            data = data.copy()
            data.setdefault("radius", str(DEFAULT_RADIUS_KM))
            data.setdefault("attendance", EITHER)
        super().__init__(data)
        self.choices = choices
        self.country = country
        self.where: Place | None = None  # the place resolved
        self.candidates: list[Place] = []
        self.fields["group"].choices = [  # type: ignore[attr-defined]
            ("", _("Any group")),
            *((slug, name) for _pk, slug, name in choices.groups),
        ]
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            ("", _("Any language")),
            *((code, language_name(code)) for code in choices.languages),
        ]

    def days(self) -> list[tuple[BoundWidget, str]]:
        """The days' checkboxes, each with its short name (Mon, Tue ...) for a compact
        row; the full name stays their label for screen readers."""
        return [(box, str(WEEKDAYS_ABBR[box.data["value"]])) for box in self["day"]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["attendance"] = cleaned.get("attendance") or EITHER
        if cleaned["attendance"] == ONLINE:
            # Where and how to get in do not apply to meetings online.
            cleaned["place"], cleaned["wheelchair"] = "", False
        text = (cleaned.get("place") or "").strip()
        if text:
            from catalog.places import PlaceAmbiguous, PlaceError, resolve

            try:
                self.where = resolve(text, country=self.country)
            except PlaceAmbiguous as error:
                self.candidates = list(error.candidates)
                self.add_error("place", str(error))
            except PlaceError as error:
                self.add_error("place", str(error))
        return cleaned

    def search(self, organisation_id: int | None) -> Search:
        """The search the valid form asks for; wheelchair access concerns meetings in
        person only, and online meetings ignore it."""
        data = self.cleaned_data
        group_ids = [pk for pk, slug, _name in self.choices.groups if data["group"] in ("", slug)]
        after, before = TIMES_OF_DAY.get(data["time"], (None, None))
        return Search(
            group_ids=group_ids,
            near=(self.where.latitude, self.where.longitude) if self.where else None,
            radius_km=data["radius"],
            in_person=data["attendance"] != ONLINE and self.where is not None,
            online=data["attendance"] != IN_PERSON,
            languages=(data["language"],) if data["language"] else (),
            weekdays=tuple(data["day"]),
            starts_after=after,
            starts_before=before,
            women_only=data["women"],
            wheelchair_access=data["wheelchair"],
            organisation_id=organisation_id,
        )
