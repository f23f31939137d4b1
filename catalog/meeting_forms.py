"""Forms for curating a meeting and its weekly times."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.forms import formfield
from catalog.languages import join_languages, language_choices, split_languages
from catalog.models import FeedFormat, Group, Meeting, MeetingFeed, MeetingSlot

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


class FeedForm(forms.ModelForm[MeetingFeed]):
    """A feed's settings; its key names it in addresses and commands and stays fixed."""

    class Meta:
        model = MeetingFeed
        fields = ["key", "name", "format", "url", "group", "timezone", "active"]
        formfield_callback = formfield
        help_texts = {
            "key": _("Lower-case letters, digits and hyphens, e.g. aa-quinte."),
            "active": _("A feed with an address is fetched again on the server's schedule."),
        }
        error_messages = {
            "key": {"invalid": _("Use only lower-case letters, digits and hyphens.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            key = self.fields["key"]
            key.disabled = True
            key.required = False
            key.help_text = _("Fixed once the feed is made: commands and addresses name it.")
        self.fields["group"].queryset = Group.objects.filter(active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("format") != FeedFormat.CSV and not data.get("group"):
            self.add_error(
                "group",
                _(
                    "Choose the group whose meetings the feed lists: only a CSV feed can "
                    "leave it empty and name the group on each row."
                ),
            )
        return data


# An upload waits in the database for its preview: larger feeds are imported on the
# server with ``manage.py import_meetings`` (up to catalog.feeds.MAX_FEED_BYTES).
MAX_FEED_UPLOAD_BYTES = 16 * 1024 * 1024


class FeedFileForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext("In the feed's format, at most %(limit)d MB.") % {
            "limit": MAX_FEED_UPLOAD_BYTES // 2**20
        }

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FEED_UPLOAD_BYTES:
            raise forms.ValidationError(
                _(
                    "The file is larger than %(limit)d MB. Import a feed this large on the "
                    "server: manage.py import_meetings."
                ),
                params={"limit": MAX_FEED_UPLOAD_BYTES // 2**20},
            )
        return upload
