from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from catalog.models import Group
from studies.models import Finding, FindingTrait, Quote


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the quotes"),
        max_length=200,
        min_length=2,
        help_text=_("Words that appear in what participants said, e.g. sponsor, relapse, trauma."),
    )


class QuoteForm(forms.ModelForm[Quote]):
    class Meta:
        model = Quote
        fields = ["text", "speaker", "themes", "locator", "kind", "translated", "original_language"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4}),
            "themes": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        study = self.instance.study
        self.fields["speaker"].queryset = study.participants.all()  # type: ignore[attr-defined]
        self.fields["themes"].queryset = study.themes.order_by("position")  # type: ignore[attr-defined]
        # Verbatim, whole sentences, a speaker: Quote.clean() checks them against the source.


class FindingForm(forms.ModelForm[Finding]):
    class Meta:
        model = Finding
        fields = [
            "theme",
            "quote",
            "summary",
            "fellowship",
            "locator",
            "counsellor_text",
            "patient_text",
            "applies_when",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "counsellor_text": forms.Textarea(attrs={"rows": 3}),
            "patient_text": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        study = self.instance.study
        self.fields["theme"].queryset = study.themes.order_by("position")  # type: ignore[attr-defined]
        # A phrase the authors quote never illustrates a finding: only participants' words.
        self.fields["quote"].queryset = study.quotes.exclude(  # type: ignore[attr-defined]
            kind=Quote.Kind.PHRASE
        ).select_related("speaker")
        fellowship = self.fields["fellowship"]
        self.fields["fellowship"] = forms.ChoiceField(
            label=fellowship.label,
            help_text=fellowship.help_text,
            required=False,
            choices=[
                ("", _("None: a format or practice other groups share")),
                *Group.objects.order_by("name").values_list("slug", "name"),
            ],
        )


class BaseFindingTraitFormSet(forms.BaseInlineFormSet[FindingTrait, Finding, Any]):
    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data.get("trait") and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError(_("A finding speaks to at least one trait."))


FindingTraitFormSet: Any = forms.inlineformset_factory(
    Finding,
    FindingTrait,
    fields=["trait", "direction"],
    formset=BaseFindingTraitFormSet,
    extra=1,
    can_delete=True,
)


class StudyImportForm(forms.Form):
    file = forms.FileField(
        label=_("Studies file"),
        help_text=_("A .json file in the format the export gives."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise ValidationError(_("The file is larger than 5 MB."))
        return upload
