from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.languages import join_languages, split_languages
from catalog.models import Availability, Group, Source, Trait, TraitValue


class IsoDateInput(forms.DateInput):
    """The browser's date picker. It reads and sends YYYY-MM-DD whatever the page's
    language, so the value is never written in the language's own format (Dutch
    "22-11-2026" shows as an empty field); the picker shows it the user's way."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


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
    # Where the group's history stood when the form was opened (catalog.history).
    version = forms.CharField(widget=forms.HiddenInput, required=False)

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


def _as_table_cells(form: forms.BaseForm, row_label: str) -> None:
    """Fields rendered as cells of a table row: the label is for screen readers, the
    row says what it is about."""
    for field in form.fields.values():
        if row_label:
            field.label = f"{row_label}: {field.label}"
        if isinstance(field.widget, forms.CheckboxInput):
            field.widget.attrs["class"] = "form-check-input"
        elif isinstance(field.widget, forms.Select):
            field.widget.attrs["class"] = "form-select form-select-sm"
        else:
            field.widget.attrs["class"] = "form-control form-control-sm"


class TraitValueForm(forms.ModelForm[TraitValue]):
    """One trait of one group, the value that holds everywhere; the trait is fixed by the
    form's instance."""

    class Meta:
        model = TraitValue
        formfield_callback = formfield
        fields = ["value", "source", "locator", "verified_on", "note"]
        widgets = {"verified_on": IsoDateInput()}

    def __init__(self, *args: Any, sources: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The same list of sources for every trait: built once by the caller.
        self.fields["source"].choices = sources  # type: ignore[attr-defined]
        # Unknown is a value of its own; an empty choice would only be an error.
        self.fields["value"].choices = TraitValue.Value.choices  # type: ignore[attr-defined]
        _as_table_cells(self, gettext(self.instance.trait.label))

    @property
    def is_empty_unknown(self) -> bool:
        """Unknown with nothing said about it: no row is kept (absence means unknown).

        An unknown value with a note or a source ("looked for, not found in …") is kept.
        """
        data = self.cleaned_data
        return data.get("value") == TraitValue.Value.UNKNOWN and not any(
            data.get(name) for name in ("source", "locator", "note")
        )


class CountryTraitValueForm(forms.ModelForm[TraitValue]):
    """A group's value for one trait in one country, beside the value that holds everywhere.

    The trait of a saved value is fixed (remove it and add another to move it); a new
    one chooses its trait.
    """

    class Meta:
        model = TraitValue
        formfield_callback = formfield
        fields = ["trait", "country", "value", "source", "locator", "verified_on", "note"]
        widgets = {"verified_on": IsoDateInput()}

    def __init__(
        self,
        *args: Any,
        sources: list[tuple[Any, str]],
        traits: list[tuple[Any, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = sources  # type: ignore[attr-defined]
        self.fields["trait"].choices = traits  # type: ignore[attr-defined]
        country: Any = self.fields["country"]
        # The value that holds everywhere is the trait's own row: this one names a country.
        country.required = True
        country.choices = [("", "---------"), *(c for c in country.choices if c[0])]
        row_label = ""
        if self.instance.pk:
            self.fields["trait"].disabled = True
            row_label = gettext("%(trait)s in %(country)s") % {
                "trait": gettext(self.instance.trait.label),
                "country": self.instance.country.name,
            }
        _as_table_cells(self, row_label)


class BaseCountryTraitValueFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    def add_fields(self, form: forms.BaseForm, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove")
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"


CountryTraitValueFormSet = forms.inlineformset_factory(
    Group,
    TraitValue,
    form=CountryTraitValueForm,
    formset=BaseCountryTraitValueFormSet,
    extra=1,
    can_delete=True,
)


def trait_choices(traits: Iterable[Trait]) -> list[tuple[Any, str]]:
    return [("", "---------")] + [(trait.pk, gettext(trait.label)) for trait in traits]


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
            "website",
            "source",
            "locator",
            "verified_on",
        ]
        widgets = {"verified_on": IsoDateInput()}


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
