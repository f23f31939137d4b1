from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from catalog.forms import IsoDateInput
from catalog.languages import language_name
from catalog.models import Group
from catalog.nearby import DEFAULT_RADIUS_KM, RADII_KM
from referrals.followup import OUTCOMES, REASON_LABELS, REASON_THEMES, Checkpoint, Outcome
from referrals.matching import choices
from referrals.models import Referral, VoidReason

SPOKEN = (
    "en",
    "nb",
    "nn",
    "nl",
    "fr",
    "de",
    "sv",
    "da",
    "pl",
    "lt",
    "ru",
    "uk",
    "ar",
    "fa",
    "so",
    "es",
)


def _choices(name: str) -> list[tuple[str, Any]]:
    """An answer's choices from the matcher's vocabulary, labels translated when shown."""
    return [(value, _(label)) for value, label in choices(name)]


REASONS = [(str(theme.label), list(theme.codes)) for theme in REASON_THEMES]
PREVIOUS_ROWS = 3


class IntakeForm(forms.Form):
    """The intake, in the shape of the match contract; checked again by the contract."""

    # Identifies this intake, so that it is saved once however often it is sent.
    # The clinical questions first, then preferences, then the rest.
    field_order = [
        "intake_key",
        "reference",
        "substances",
        "goal",
        "recent_relapse",
        "on_medication_treatment",
        "psychiatric_comorbidity",
        "trauma_history",
        "spirituality",
        "averse_to_labels",
        "format",
        "wants_sponsor",
        "wants_social_activities",
        "gender",
        "prefers_women_only",
        "age",
        "attendance",
        "place",
        "radius_km",
        "country",
        "languages",
        "language",
    ]
    intake_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=40,
        help_text=_("A pseudonymous reference such as P-0042; never a name."),
    )
    language = forms.ChoiceField(
        label=_("Patient's language for the handout"), choices=Referral.Language.choices
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=_choices("gender"))
    age = forms.IntegerField(label=_("Age"), required=False, min_value=12, max_value=120)
    country = forms.ChoiceField(label=_("Country"), required=False)
    languages = forms.MultipleChoiceField(
        label=_("Languages the patient speaks"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )
    substances = forms.MultipleChoiceField(
        label=_("Substances"),
        required=False,
        choices=_choices("substances"),
        widget=forms.CheckboxSelectMultiple,
    )
    goal = forms.ChoiceField(label=_("Goal"), choices=_choices("goal"), widget=forms.RadioSelect)
    recent_relapse = forms.BooleanField(label=_("Relapsed in the last months"), required=False)
    on_medication_treatment = forms.BooleanField(
        label=_("In opioid maintenance or other medication treatment"), required=False
    )
    psychiatric_comorbidity = forms.BooleanField(label=_("Psychiatric comorbidity"), required=False)
    trauma_history = forms.BooleanField(label=_("Trauma history"), required=False)
    spirituality = forms.ChoiceField(
        label=_("Spirituality in a group"),
        choices=_choices("spirituality"),
        widget=forms.RadioSelect,
    )
    averse_to_labels = forms.BooleanField(
        label=_("Objects to calling themselves an addict or alcoholic"), required=False
    )
    format = forms.ChoiceField(
        label=_("Preferred meeting format"), choices=_choices("format"), widget=forms.RadioSelect
    )
    wants_sponsor = forms.ChoiceField(
        label=_("Wants a sponsor"), choices=_choices("wants_sponsor"), widget=forms.RadioSelect
    )
    wants_social_activities = forms.BooleanField(
        label=_("Wants social and leisure activities"), required=False
    )
    prefers_women_only = forms.BooleanField(label=_("Prefers a women-only group"), required=False)
    attendance = forms.ChoiceField(
        label=_("Attendance"), choices=_choices("attendance"), widget=forms.RadioSelect
    )
    place = forms.CharField(
        label=_("Travels from"),
        required=False,
        max_length=100,
        help_text=_(
            "A town, municipality or postcode, for meetings nearby. Looked up on this "
            "server; nothing is sent elsewhere."
        ),
    )
    radius_km = forms.TypedChoiceField(
        label=_("Meetings within"),
        choices=[(km, f"{km} km") for km in RADII_KM],
        coerce=int,
        initial=DEFAULT_RADIUS_KM,
        required=False,
    )

    def __init__(self, *args: Any, groups: list[Group], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Not stated")), *countries]  # type: ignore[attr-defined]
        self.fields["languages"].choices = [(c, language_name(c)) for c in SPOKEN]  # type: ignore[attr-defined]
        group_choices = [("", "---------"), *((g.slug, g.name) for g in groups)]
        for row in range(1, PREVIOUS_ROWS + 1):
            self.fields[f"previous_{row}_group"] = forms.ChoiceField(
                label=_("Group attended before (%(row)d)") % {"row": row},
                choices=group_choices,
                required=False,
            )
            self.fields[f"previous_{row}_experience"] = forms.ChoiceField(
                label=_("Experience with it (%(row)d)") % {"row": row},
                choices=[("", "---------"), *_choices("experience")],
                required=False,
            )
            self.fields[f"previous_{row}_reasons"] = forms.MultipleChoiceField(
                label=_("Why the patient left it (%(row)d)") % {"row": row},
                help_text=_(
                    "Choose one or more: hold Ctrl (⌘ on a Mac) and click; by keyboard, "
                    "move with Ctrl and the arrow keys and choose with Ctrl and Space."
                ),
                choices=REASONS,
                required=False,
                widget=forms.SelectMultiple(attrs={"size": 8}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in range(1, PREVIOUS_ROWS + 1):
            group = data.get(f"previous_{row}_group")
            experience = data.get(f"previous_{row}_experience")
            if group and not experience:
                self.add_error(f"previous_{row}_experience", _("Say how it went."))
            if (experience or data.get(f"previous_{row}_reasons")) and not group:
                self.add_error(f"previous_{row}_group", _("Choose the group."))
        return data

    def profile_data(self) -> dict[str, Any]:
        """The cleaned answers as a contract profile."""
        data = self.cleaned_data
        names = [
            "reference",
            "gender",
            "age",
            "languages",
            "substances",
            "goal",
            "on_medication_treatment",
            "psychiatric_comorbidity",
            "trauma_history",
            "spirituality",
            "format",
            "wants_sponsor",
            "wants_social_activities",
            "prefers_women_only",
            "attendance",
            "averse_to_labels",
            "recent_relapse",
        ]
        profile = {name: data[name] for name in names}
        profile["country"] = data["country"] or None
        profile["place"] = (data.get("place") or "").strip() or None
        profile["radius_km"] = data.get("radius_km") or DEFAULT_RADIUS_KM
        profile["previous_groups"] = [
            {
                "group": data[f"previous_{row}_group"],
                "experience": data[f"previous_{row}_experience"],
                "reasons": list(data.get(f"previous_{row}_reasons") or []),
            }
            for row in range(1, PREVIOUS_ROWS + 1)
            if data.get(f"previous_{row}_group")
        ]
        return profile


def profile_answers(profile: dict[str, Any], names: dict[str, str]) -> list[tuple[str, str]]:
    """A saved profile as the intake's questions and the answers given, for its page."""
    form = IntakeForm(groups=[])
    shown: list[tuple[str, str]] = []
    for name, field in form.fields.items():
        if name not in profile or name == "reference" or name.startswith("previous_"):
            continue
        value = profile[name]
        choices = dict(getattr(field, "choices", []) or [])
        if name == "country":
            text = str(dict(countries).get(value, value)) if value else str(_("Not stated"))
        elif isinstance(value, bool):
            text = str(_("Yes") if value else _("No"))
        elif isinstance(value, list):
            text = ", ".join(str(choices.get(v, language_name(v))) for v in value) or "—"
        else:
            text = str(choices.get(value, value if value is not None else "—"))
        shown.append((str(field.label), text))
    for item in profile.get("previous_groups", []):
        reasons = ", ".join(str(REASON_LABELS.get(code, code)) for code in item.get("reasons", []))
        experience = dict(_choices("experience")).get(item["experience"], item["experience"])
        shown.append(
            (
                str(_("Group attended before")),
                f"{names.get(item['group'], item['group'])}: {experience}"
                + (f" ({reasons})" if reasons else ""),
            )
        )
    return shown


def as_form_data(values: dict[str, Any]) -> QueryDict:
    """Answers as the intake form would post them (a checkbox is present when ticked)."""
    data = QueryDict(mutable=True)
    for name, value in values.items():
        if isinstance(value, list):
            data.setlist(name, [str(item) for item in value])
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    return data


def refer_again_initial(referral: Referral, defaults: dict[str, Any]) -> dict[str, Any]:
    """The intake's answers to refer a patient again: the saved profile, with the group
    the patient left first among the groups attended before, with the coded reasons
    recorded when they disengaged."""
    profile = referral.profile
    initial = {**defaults, "reference": referral.reference, "language": referral.language}
    for name in (*IntakeForm.base_fields, "country"):
        if profile.get(name) is not None and name in profile:
            initial[name] = profile[name]
    reasons = [
        reason.code
        for follow_up in referral.follow_ups.all()
        if follow_up.outcome == Outcome.DISENGAGED
        for reason in follow_up.reasons.all()
    ]
    negative = {
        code
        for theme in REASON_THEMES
        if theme.key == "negative-experiences-spurred-frustration"
        for code, _label in theme.codes
    }
    rows = []
    if referral.chosen_group:
        experience = "negative" if negative & set(reasons) else "mixed"
        rows.append({"group": referral.chosen_group, "experience": experience, "reasons": reasons})
    rows += [
        item
        for item in profile.get("previous_groups", [])
        if item.get("group") != referral.chosen_group
    ]
    for row, item in enumerate(rows[:PREVIOUS_ROWS], start=1):
        initial[f"previous_{row}_group"] = item["group"]
        initial[f"previous_{row}_experience"] = item["experience"]
        initial[f"previous_{row}_reasons"] = item.get("reasons", [])
    return initial


class VersionedForm(forms.Form):
    """A form that edits a referral carries the version of the referral it was read at
    (referrals.services.version_of), so that saving it over a change made since, in
    another tab or by a colleague, is refused instead of silently overwriting it."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)


class ChooseForm(VersionedForm):
    group = forms.ChoiceField(label=_("The patient chose"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(o["group"], o["name"]) for o in referral.options]  # type: ignore[attr-defined]


class FollowUpForm(VersionedForm):
    """One checkpoint's follow-up. Its rules (a date when attended, reasons when
    disengaged, a contact date when recorded early, the earlier checkpoints first, no
    contradictions) live in referrals.services.record_follow_up, whose errors the view
    puts on these fields."""

    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    first_meeting_on = forms.DateField(
        label=_("Date of the first meeting"),
        required=False,
        widget=IsoDateInput(),
        help_text=_("When the patient attended."),
    )
    reasons = forms.MultipleChoiceField(
        label=_("Reasons for disengaging"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Only when the patient disengaged. Coded with the themes of the Norwegian "
            "study of people who stopped going to NA; choose every reason that applies."
        ),
    )
    contacted_on = forms.DateField(
        label=_("Date of the contact"),
        required=False,
        widget=IsoDateInput(),
        help_text=_(
            "Needed only before the follow-up falls due: the day you (or the group) last "
            "heard from the patient about this."
        ),
    )

    def __init__(self, *args: Any, checkpoint: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checkpoint = checkpoint
        self.fields["outcome"].choices = [  # type: ignore[attr-defined]
            (value, Outcome(value).label) for value in OUTCOMES[checkpoint]
        ]
        if checkpoint == Checkpoint.FIRST_MEETING:
            del self.fields["reasons"]
        else:
            del self.fields["first_meeting_on"]
            self.fields["reasons"].choices = [  # type: ignore[attr-defined]
                (theme.label, list(theme.codes)) for theme in REASON_THEMES
            ]


class VoidForm(VersionedForm):
    """Void a referral saved by mistake (referrals.services.void_referral)."""

    reason = forms.ChoiceField(
        label=_("Why is this referral void?"),
        choices=VoidReason.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        help_text=_("Optional, up to 200 characters. No names or other details of the patient."),
    )


class SubjectForm(forms.Form):
    """A request about everything held under one reference: look it up, export it or
    erase it (erasing asks for the reference a second time)."""

    reference = forms.CharField(
        label=_("Reference"),
        max_length=40,
        help_text=_("Exactly as saved, e.g. P-0042."),
    )
    confirm = forms.CharField(
        label=_("Type the reference again to erase"),
        max_length=40,
        required=False,
    )

    def clean_reference(self) -> str:
        return str(self.cleaned_data["reference"]).strip()
