from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.languages import join_languages, split_languages
from catalog.models import Availability, Group, Source, TraitValue


def formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field:
    """Form fields for model fields; a URL typed without a scheme is taken as https."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    if isinstance(field, models.DateField):
        kwargs.setdefault("error_messages", {"invalid": _("Enter a date as YYYY-MM-DD.")})
    form_field = field.formfield(**kwargs)
    assert form_field is not None, field  # only called for editable fields
    return form_field


class LanguageListField(forms.CharField):
    """Language codes typed as "en nb nl", stored normalised."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", _("ISO 639-1 codes separated by spaces, for example: en nb nl.")
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return join_languages(split_languages(text.replace(",", " ")))


class GroupForm(forms.ModelForm[Group]):
    languages = LanguageListField(label=_("Languages"))

    class Meta:
        model = Group
        formfield_callback = formfield
        fields = [
            "name",
            "slug",
            "kind",
            "description",
            "website",
            "founded",
            "languages",
            "active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class TraitValueForm(forms.ModelForm[TraitValue]):
    """One trait of one group; the trait is fixed by the form's instance."""

    class Meta:
        model = TraitValue
        formfield_callback = formfield
        fields = ["value", "source", "locator", "verified_on", "note"]
        widgets = {"verified_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, sources: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The same list of sources for every trait: built once by the caller.
        self.fields["source"].choices = sources  # type: ignore[attr-defined]
        # Unknown is a value of its own; an empty choice would only be an error.
        self.fields["value"].choices = TraitValue.Value.choices  # type: ignore[attr-defined]
        trait_label = gettext(self.instance.trait.label)
        for field in self.fields.values():
            # Rendered as a table row: the label is for screen readers, the row says the trait.
            field.label = f"{trait_label}: {field.label}"
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if is_select else "form-control form-control-sm"
            )

    @property
    def is_empty_unknown(self) -> bool:
        """Unknown with nothing said about it: no row is kept (absence means unknown).

        An unknown value with a note or a source ("looked for, not found in …") is kept.
        """
        data = self.cleaned_data
        return data.get("value") == TraitValue.Value.UNKNOWN and not any(
            data.get(name) for name in ("source", "locator", "note")
        )


def source_choices() -> list[tuple[Any, str]]:
    """Sources as admins pick them: the title alone is not always telling."""
    choices: list[tuple[Any, str]] = [("", "---------")]
    for source in Source.objects.all():
        detail = f" — {source.publisher}" if source.publisher else ""
        choices.append((source.pk, f"{source.title}{detail} [{source.key}]"))
    return choices


class AvailabilityForm(forms.ModelForm[Availability]):
    languages = LanguageListField(label=_("Meeting languages"))

    def __init__(self, *args: Any, sources: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = sources  # type: ignore[attr-defined]

    class Meta:
        model = Availability
        formfield_callback = formfield
        fields = [
            "country",
            "region",
            "in_person_per_week",
            "online",
            "languages",
            "source",
            "locator",
            "verified_on",
        ]
        widgets = {"verified_on": forms.DateInput(attrs={"type": "date"})}


AvailabilityFormSet = forms.inlineformset_factory(
    Group, Availability, form=AvailabilityForm, extra=1, can_delete=True
)


class SourceForm(forms.ModelForm[Source]):
    class Meta:
        model = Source
        formfield_callback = formfield
        fields = ["key", "title", "publisher", "url", "kind"]


class CompareForm(forms.Form):
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.prefetch_related("availability"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        label=_("Groups to compare"),
    )

    def clean_groups(self) -> Any:
        groups = self.cleaned_data["groups"]
        if not 2 <= len(groups) <= 4:
            raise ValidationError(_("Choose two to four groups to compare."))
        return groups


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Catalog file"),
        help_text=_("A .json file or a .zip of CSV files, in the format the export gives."),
    )

    def clean_file(self) -> Any:
        from catalog.interchange import MAX_UPLOAD_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(limit)d MB; a whole catalog is far smaller."),
                params={"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        return upload
