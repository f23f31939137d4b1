"""Forms for curating a meeting and its weekly times."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from catalog.forms import formfield
from catalog.languages import join_languages, language_choices, split_languages
from catalog.models import Meeting, MeetingSlot

# The zone a new weekly time starts from, by the meeting's country.
ZONES = {
    "NO": "Europe/Oslo",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "GB": "Europe/London",
}


class MeetingForm(forms.ModelForm[Meeting]):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), required=False, choices=language_choices
    )

    class Meta:
        model = Meeting
        fields = [
            "group",
            "name",
            "attendance",
            "location",
            "address",
            "municipality",
            "postcode",
            "country",
            "latitude",
            "longitude",
            "location_notes",
            "online_url",
            "online_notes",
            "phone",
            "phone_notes",
            "languages",
            "openness",
            "women_only",
            "secular",
            "wheelchair_access",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        formfield_callback = formfield

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["languages"] = split_languages(self.instance.languages)

    def clean_languages(self) -> str:
        return join_languages(self.cleaned_data["languages"])


class SlotForm(forms.ModelForm[MeetingSlot]):
    class Meta:
        model = MeetingSlot
        fields = ["weekday", "starts", "ends", "timezone"]
        widgets = {
            "starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


class RequiredSlots(forms.BaseInlineFormSet[MeetingSlot, Meeting, SlotForm]):
    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not getattr(form, "cleaned_data", {}).get("DELETE")
        ]
        if not kept:
            raise forms.ValidationError(_("Give at least one weekly time."))


SlotFormSet = inlineformset_factory(
    Meeting, MeetingSlot, form=SlotForm, formset=RequiredSlots, extra=2, can_delete=True
)
