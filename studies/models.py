from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from catalog.models import Group
from studies.sources import is_source_text, is_whole_sentences, normalise, source_text

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager

# A participant's quote (block or inline) says at least this much: a full clause.
MIN_QUOTE_WORDS = 5
SUMMARY_MAX_LENGTH = 300
# A sentence ends where . ? ! or … is followed by a space and a capital, digit or
# opening quotation mark; "e.g. a group" stays one sentence.
_SENTENCE_BREAK = re.compile(
    r"[.?!\u2026][\"'\u201d\u2019)]*\s+[\"'\u201c\u2018(]*[A-Z0-9\u00c0-\u00de]"
)


def validate_one_sentence(value: str) -> None:
    """A finding's summary is one sentence, ending with a full stop (or ? or !)."""
    text = value.strip()
    if _SENTENCE_BREAK.search(text):
        raise ValidationError(
            _("Write the summary as one sentence; this has more than one."), code="sentences"
        )
    if not text.endswith((".", "?", "!")):
        raise ValidationError(
            _("End the summary with a full stop: it is one whole sentence."), code="unfinished"
        )


def word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:[\u2019'-]\w+)*", text))


def quote_errors(
    *, text: str, kind: str, has_speaker: bool, source: str
) -> dict[str, list[ValidationError]]:
    """What is wrong with a quote, by field; ``source`` is its study's source text file name.

    A block or inline quote is a participant's own words: it names its speaker, says at
    least a full clause and is whole sentences of the source. Every quote is verbatim.
    """
    errors: dict[str, list[ValidationError]] = {}
    own_words = kind in (Quote.Kind.BLOCK, Quote.Kind.INLINE)
    if own_words and not has_speaker:
        errors.setdefault("speaker", []).append(
            ValidationError(
                _(
                    "Speaker: a block or inline quote is a participant's own words, so it "
                    "names the participant. Words the authors quote in their own account "
                    "are a phrase."
                ),
                code="speaker_required",
            )
        )
    if own_words and word_count(text) < MIN_QUOTE_WORDS:
        errors.setdefault("text", []).append(
            ValidationError(
                _(
                    "Text: a block or inline quote has at least %(count)d words, a full "
                    "clause of what the participant said. A few words the authors quote "
                    "are a phrase."
                ),
                code="too_short",
                params={"count": MIN_QUOTE_WORDS},
            )
        )
    if not source:
        return errors
    if not is_source_text(source):
        errors.setdefault("text", []).append(
            ValidationError(
                _("The study's source text %(file)s is not shipped; quotes cannot be checked."),
                code="no_source",
                params={"file": source},
            )
        )
        return errors
    full_text = source_text(source)
    if normalise(text) not in normalise(full_text):
        errors.setdefault("text", []).append(
            ValidationError(
                _(
                    "Text: this is not in the study's source text (%(file)s). A quote must be "
                    "verbatim; only spacing and quotation marks may differ."
                ),
                code="not_verbatim",
                params={"file": source},
            )
        )
    elif own_words and not is_whole_sentences(text, full_text):
        errors.setdefault("text", []).append(
            ValidationError(
                _(
                    "Text: this cuts a sentence of the source text (%(file)s). A block or "
                    "inline quote is whole sentences: it starts where a sentence starts and "
                    "ends where one ends."
                ),
                code="cuts_sentence",
                params={"file": source},
            )
        )
    return errors


# Columns of a study's participant table, as the papers report them.
PARTICIPANT_DETAILS = {
    "years_use_before_na": _("Years of problematic substance use before NA"),
    "years_na_attendance": _("Years of regular NA attendance"),
    "years_recovery_after_na": _("Years in recovery after NA"),
    "support_after_na": _("Participation in support groups after NA"),
}


class Study(models.Model):
    key = models.SlugField(_("key"), max_length=50, unique=True)
    title = models.CharField(_("title"), max_length=400)
    authors = models.CharField(_("authors"), max_length=300)
    year = models.PositiveSmallIntegerField(_("year"))
    journal = models.CharField(_("journal"), max_length=200)
    citation_detail = models.CharField(
        _("volume and article"), max_length=50, blank=True, help_text=_("For example 15:18.")
    )
    doi = models.CharField(_("DOI"), max_length=100, unique=True)
    country = CountryField(_("country"))
    method = models.TextField(_("method"))
    framework = models.CharField(_("analytic framework"), max_length=200)
    sample = models.TextField(_("sample"))
    source_text = models.CharField(
        _("source text"),
        max_length=100,
        blank=True,
        help_text=_("The file under studies/data/sources/ its quotes are checked against."),
    )

    history = HistoricalRecords()

    if TYPE_CHECKING:
        themes: RelatedManager[Theme]
        participants: RelatedManager[Participant]
        quotes: RelatedManager[Quote]
        findings: RelatedManager[Finding]
        reference_texts: RelatedManager[ReferenceText]

    class Meta:
        ordering = ["-year", "authors"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")

    def __str__(self) -> str:
        first_author = self.authors.split(",")[0]
        return f"{first_author} et al. ({self.year})"

    def get_absolute_url(self) -> str:
        return reverse("studies:study-detail", args=[self.key])

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}"


class ThemeLevel(models.TextChoices):
    FINAL_THEME = "final_theme", _("Final theme")
    PRELIMINARY_THEME = "preliminary_theme", _("Preliminary theme")
    CODE = "code", _("Code")
    CATEGORY = "category", _("Category")
    ELEMENT = "element", _("Element")
    SYMPTOM = "symptom", _("Symptom")
    FINDING = "finding", _("Finding")


class Theme(models.Model):
    """A node of a study's theme tree: final themes, preliminary themes, codes…"""

    Level = ThemeLevel

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="themes", verbose_name=_("study")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    key = models.SlugField(_("key"), max_length=80)
    name = models.CharField(_("name"), max_length=300)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study", "position"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="studies_theme_unique_key"),
            models.CheckConstraint(
                condition=Q(level__in=ThemeLevel.values), name="studies_theme_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("studies:theme-detail", args=[self.study.key, self.key])


class Participant(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNREPORTED = "unreported", _("Not reported")

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="participants", verbose_name=_("study")
    )
    pseudonym = models.CharField(_("pseudonym"), max_length=50)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices)
    details = models.JSONField(_("details"), default=dict, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study", "position"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["study", "pseudonym"], name="studies_participant_unique_pseudonym"
            ),
            models.CheckConstraint(
                condition=Q(gender__in=["female", "male", "other", "unreported"]),
                name="studies_participant_gender_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def detail_rows(self) -> list[tuple[str, str]]:
        return [
            (str(PARTICIPANT_DETAILS.get(key, key)), str(value))
            for key, value in self.details.items()
        ]


class Quote(models.Model):
    class Kind(models.TextChoices):
        # A participant's words set apart from the text.
        BLOCK = "block", _("Block quote")
        # A participant's own clause quoted in the running text.
        INLINE = "inline", _("Participant's words in the text")
        # A few words the authors quote inside their own narration: never shown as a
        # participant's words.
        PHRASE = "phrase", _("Phrase in the authors' account")

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="quotes", verbose_name=_("study")
    )
    key = models.SlugField(_("key"), max_length=80)
    text = models.TextField(_("text"), help_text=_("Verbatim, as printed in the source."))
    speaker = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quotes",
        verbose_name=_("speaker"),
    )
    themes = models.ManyToManyField(Theme, related_name="quotes", verbose_name=_("themes"))
    language = models.CharField(_("language"), max_length=8, default="en")
    translated = models.BooleanField(_("translation"), default=False)
    original_language = models.CharField(_("original language"), max_length=8, blank=True)
    locator = models.CharField(_("locator"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.BLOCK)
    position = models.PositiveIntegerField(_("position"), default=0)

    history = HistoricalRecords(m2m_fields=[themes])

    class Meta:
        ordering = ["study", "position"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="studies_quote_unique_key"),
            models.CheckConstraint(
                condition=Q(kind__in=["block", "inline", "phrase"]),
                name="studies_quote_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.text[:60]}…" if self.speaker else self.text[:60]

    def clean(self) -> None:
        errors = quote_errors(
            text=self.text,
            kind=self.kind,
            has_speaker=self.speaker_id is not None,
            source=self.study.source_text if self.study_id else "",
        )
        if self.kind == self.Kind.PHRASE and self.pk is not None:
            illustrated = list(self.findings.values_list("key", flat=True))
            if illustrated:
                errors.setdefault("kind", []).append(
                    ValidationError(
                        _(
                            "Kind: this quote illustrates the finding(s) %(keys)s, and a "
                            "phrase the authors quote cannot illustrate a finding. Choose "
                            "another quote for them first."
                        ),
                        code="illustrates",
                        params={"keys": ", ".join(illustrated)},
                    )
                )
        if errors:
            raise ValidationError(errors)

    @property
    def is_participants_words(self) -> bool:
        return self.kind != self.Kind.PHRASE


class ReferenceText(models.Model):
    """Reference material a study prints, e.g. NA's twelve traditions."""

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="reference_texts", verbose_name=_("study")
    )
    key = models.SlugField(_("key"), max_length=80)
    title = models.CharField(_("title"), max_length=300)
    items = models.JSONField(_("items"), default=list)

    class Meta:
        ordering = ["study", "key"]
        verbose_name = _("reference text")
        verbose_name_plural = _("reference texts")
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="studies_referencetext_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class Finding(models.Model):
    """What a theme means for referrals: the catalog traits it speaks to, and how."""

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="findings", verbose_name=_("study")
    )
    key = models.SlugField(_("key"), max_length=80)
    theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="findings", verbose_name=_("theme")
    )
    quote = models.ForeignKey(
        Quote,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("illustrating quote"),
    )
    summary = models.CharField(
        _("summary"),
        max_length=SUMMARY_MAX_LENGTH,
        validators=[validate_one_sentence],
        help_text=_("One sentence for counsellors: what the finding means for a referral."),
    )
    fellowship = models.SlugField(
        _("fellowship"),
        max_length=50,
        blank=True,
        help_text=_(
            "The catalog group this finding is testimony about as a whole, e.g. na; it is "
            "then cited on that group only. Blank when it is about a format or practice "
            "other groups share."
        ),
    )
    locator = models.CharField(
        _("locator"),
        max_length=300,
        help_text=_("Where the paper reports it, e.g. Results, 'The model did not fit'."),
    )
    counsellor_text = models.TextField(_("for counsellors"))
    patient_text = models.TextField(_("for the patient handout"))
    applies_when = models.CharField(_("applies when"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    history = HistoricalRecords()

    if TYPE_CHECKING:
        trait_links: RelatedManager[FindingTrait]

    class Meta:
        ordering = ["study", "position"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="studies_finding_unique_key"),
        ]

    def __str__(self) -> str:
        return self.summary or self.counsellor_text[:80]

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        quote = self.quote if self.quote_id else None
        if quote is not None and quote.kind == Quote.Kind.PHRASE:
            errors["quote"] = [
                ValidationError(
                    _(
                        "Illustrating quote: “%(key)s” is a phrase the authors quote in their "
                        "own account; choose a participant's block or inline quote, or none."
                    ),
                    code="phrase",
                    params={"key": quote.key},
                )
            ]
        if quote is not None and self.study_id and quote.study_id != self.study_id:
            errors["quote"] = [
                ValidationError(
                    _("Illustrating quote: it must come from the same study."), code="study"
                )
            ]
        if self.fellowship and not Group.objects.filter(slug=self.fellowship).exists():
            errors["fellowship"] = [
                ValidationError(
                    _("Fellowship: “%(slug)s” is not a group of the catalog."),
                    code="unknown_group",
                    params={"slug": self.fellowship},
                )
            ]
        if errors:
            raise ValidationError(errors)


class FindingTrait(models.Model):
    class Direction(models.TextChoices):
        SUPPORTS = "supports", _("Supports fit")
        CAUTION = "caution", _("Caution")

    finding = models.ForeignKey(
        Finding, on_delete=models.CASCADE, related_name="trait_links", verbose_name=_("finding")
    )
    trait = models.ForeignKey(
        "catalog.Trait",
        on_delete=models.PROTECT,
        related_name="finding_links",
        verbose_name=_("trait"),
    )
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["finding", "trait__position"]
        verbose_name = _("finding's trait")
        verbose_name_plural = _("findings' traits")
        constraints = [
            models.UniqueConstraint(
                fields=["finding", "trait"], name="studies_findingtrait_unique"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=["supports", "caution"]),
                name="studies_findingtrait_direction_valid",
            ),
        ]
        indexes = [
            # "What the studies say" on a group page: findings by trait.
            models.Index(fields=["trait", "direction"], name="studies_findingtrait_trait"),
        ]

    def __str__(self) -> str:
        return f"{self.finding.key} → {self.trait.key} ({self.direction})"
