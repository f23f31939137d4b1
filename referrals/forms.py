from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from catalog.languages import language_name
from catalog.models import Group
from referrals.followup import OUTCOMES, REASON_THEMES, Checkpoint, Outcome
from referrals.models import Referral

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
SUBSTANCES = [
    ("opioids", _("Opioids")),
    ("alcohol", _("Alcohol")),
    ("cocaine", _("Cocaine")),
    ("methamphetamine", _("Methamphetamine")),
    ("cannabis", _("Cannabis")),
    ("benzodiazepines", _("Benzodiazepines")),
    ("other", _("Other drugs")),
]
EXPERIENCES = [
    ("", "---------"),
    ("positive", _("Positive")),
    ("mixed", _("Mixed")),
    ("negative", _("Negative: left after a bad experience")),
]
PREVIOUS_ROWS = 3


class IntakeForm(forms.Form):
    """The intake, in the shape of the match contract; checked again by the contract."""

    reference = forms.CharField(
        label=_("Reference"),
        max_length=40,
        help_text=_("A pseudonymous reference such as P-0042; never a name."),
    )
    language = forms.ChoiceField(
        label=_("Patient's language for the handout"), choices=Referral.Language.choices
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=[
            ("unspecified", _("Not stated")),
            ("female", _("Female")),
            ("male", _("Male")),
            ("nonbinary", _("Non-binary")),
        ],
    )
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
        choices=SUBSTANCES,
        widget=forms.CheckboxSelectMultiple,
    )
    goal = forms.ChoiceField(
        label=_("Goal"),
        choices=[
            ("undecided", _("Undecided")),
            ("abstinence", _("Abstinence")),
            ("moderation", _("Moderation")),
        ],
        widget=forms.RadioSelect,
    )
    on_medication_treatment = forms.BooleanField(
        label=_("In opioid maintenance or other medication treatment"), required=False
    )
    psychiatric_comorbidity = forms.BooleanField(label=_("Psychiatric comorbidity"), required=False)
    trauma_history = forms.BooleanField(label=_("Trauma history"), required=False)
    spirituality = forms.ChoiceField(
        label=_("Spirituality in a group"),
        choices=[
            ("neutral", _("Neutral")),
            ("welcome", _("Welcome")),
            ("averse", _("Averse")),
        ],
        widget=forms.RadioSelect,
    )
    format = forms.ChoiceField(
        label=_("Preferred meeting format"),
        choices=[
            ("no_preference", _("No preference")),
            ("sharing", _("Sharing in turns")),
            ("dialogue", _("Dialogue and feedback")),
            ("skills", _("Structured skills")),
        ],
        widget=forms.RadioSelect,
    )
    wants_sponsor = forms.ChoiceField(
        label=_("Wants a sponsor"),
        choices=[("no_preference", _("No preference")), ("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )
    wants_social_activities = forms.BooleanField(
        label=_("Wants social and leisure activities"), required=False
    )
    prefers_women_only = forms.BooleanField(label=_("Prefers a women-only group"), required=False)
    attendance = forms.ChoiceField(
        label=_("Attendance"),
        choices=[
            ("either", _("In person or online")),
            ("in_person", _("In person")),
            ("online", _("Online")),
        ],
        widget=forms.RadioSelect,
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
                choices=EXPERIENCES,
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in range(1, PREVIOUS_ROWS + 1):
            group = data.get(f"previous_{row}_group")
            experience = data.get(f"previous_{row}_experience")
            if group and not experience:
                self.add_error(f"previous_{row}_experience", _("Say how it went."))
            if experience and not group:
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
        ]
        profile = {name: data[name] for name in names}
        profile["country"] = data["country"] or None
        profile["previous_groups"] = [
            {
                "group": data[f"previous_{row}_group"],
                "experience": data[f"previous_{row}_experience"],
            }
            for row in range(1, PREVIOUS_ROWS + 1)
            if data.get(f"previous_{row}_group")
        ]
        return profile


class ChooseForm(forms.Form):
    group = forms.ChoiceField(label=_("The patient chose"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(o["group"], o["name"]) for o in referral.options]  # type: ignore[attr-defined]


class FollowUpForm(forms.Form):
    """One checkpoint's follow-up. Its rules (a date when attended, reasons when
    disengaged, no contradictions) live in referrals.services.record_follow_up, whose
    errors the view puts on these fields."""

    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    first_meeting_on = forms.DateField(
        label=_("Date of the first meeting"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
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
