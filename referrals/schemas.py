"""The match contract as pydantic models: validation for all three interfaces, and the
OpenAPI schema of ``POST /api/v1/match``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from referrals.followup import REASON_LABELS
from referrals.matching import (
    SCOPE_TRAITS,
    Attendance,
    Choice,
    Experience,
    Format,
    Gender,
    Goal,
    Spirituality,
    Substance,
)

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$"


class _Strict(BaseModel):
    # Unknown fields are an error, and values are not coerced ("yes" is not a boolean).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PreviousGroupIn(_Strict):
    group: str = Field(pattern=r"^[a-z0-9-]{1,50}$", description="A catalog slug, e.g. na.")
    experience: Experience
    reasons: list[str] = Field(
        default_factory=list,
        max_length=len(REASON_LABELS),
        description="Why the patient left: the codes of a follow-up's reasons for disengaging.",
        examples=[["perceived-negative-focus", "conformity-pressure"]],
    )

    @field_validator("reasons")
    @classmethod
    def _known_reasons(cls, reasons: list[str]) -> list[str]:
        unknown = [code for code in reasons if code not in REASON_LABELS]
        if unknown:
            raise ValueError(
                _("unknown reason “%(code)s”; allowed: %(allowed)s.")
                % {"code": unknown[0], "allowed": ", ".join(REASON_LABELS)}
            )
        return reasons


class PointIn(_Strict):
    latitude: float = Field(ge=-90, le=90, examples=[59.91])
    longitude: float = Field(ge=-180, le=180, examples=[10.75])


class ProfileIn(_Strict):
    """A patient's profile. Pseudonymous: a reference, never a name."""

    reference: str = Field(pattern=REFERENCE_PATTERN, examples=["P-0042"])
    gender: Gender = "unspecified"
    age: int | None = Field(default=None, ge=12, le=120)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", examples=["NO"])
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = Field(
        default_factory=list, max_length=10, examples=[["nb", "en"]]
    )
    substances: list[Substance] = Field(default_factory=list, max_length=len(SCOPE_TRAITS))
    goal: Goal = "undecided"
    on_medication_treatment: bool = False
    psychiatric_comorbidity: bool = False
    trauma_history: bool = False
    spirituality: Spirituality = "neutral"
    format: Format = "no_preference"
    wants_sponsor: Choice = "no_preference"
    wants_social_activities: bool = False
    prefers_women_only: bool = False
    attendance: Attendance = "either"
    previous_groups: list[PreviousGroupIn] = Field(default_factory=list, max_length=20)
    averse_to_labels: bool = Field(
        default=False, description="The patient objects to calling themselves an addict."
    )
    recent_relapse: bool = Field(default=False, description="A relapse in the last months.")
    near: PointIn | None = Field(
        default=None, description="Where the patient would travel from (not with `place`)."
    )
    place: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description=(
            "A town, municipality or postcode the patient would travel from, resolved "
            "offline (not with `near`). Unknown or ambiguous places are a 422 naming "
            "`place` and, when ambiguous, the candidates."
        ),
        examples=["Drammen"],
    )
    radius_km: int = Field(
        default=25, ge=1, le=300, description="How far to look for meetings in person."
    )


class SourceOut(BaseModel):
    title: str
    url: str
    locator: str


class EvidenceOut(BaseModel):
    study: str = Field(description="The study's DOI.")
    finding: str
    summary: str = Field(description="What the finding means for a referral, in a sentence.")
    theme: str
    quote: str = Field(description="A participant's own words, or empty.")
    speakers: list[str]
    locator: str


class ReasonOut(BaseModel):
    kind: Literal["base", "fit", "caution", "advice"]
    text: str
    points: float
    trait: str | None
    value: str | None = Field(description="The group's recorded value; unknown if not recorded.")
    source: SourceOut | None
    evidence: list[EvidenceOut]


class OptionEvidenceOut(BaseModel):
    study: str
    theme: str
    quote: str
    speaker: str
    finding: str
    summary: str


class ConsideredOut(BaseModel):
    group: str
    name: str
    score: float = Field(description="The sum of the reasons' points, base included.")
    fit: list[str]
    cautions: list[str]
    reasons: list[ReasonOut]


class MeetingOut(BaseModel):
    id: str
    name: str
    starts: str = Field(
        description="The next start, ISO 8601 with the offset of the meeting's own time zone.",
        examples=["2026-12-07T18:00:00+01:00"],
    )
    timezone: str = Field(examples=["Europe/Oslo"])
    attendance: Literal["in_person", "online", "hybrid"]
    address: str
    online_url: str
    phone: str
    distance_km: float | None = Field(description="From `near` or `place`; null when online.")
    languages: list[str]
    types: list[Literal["open", "closed", "women", "secular", "wheelchair"]]
    example: bool = Field(description="An organisation's invented demonstration meeting.")


class OptionOut(ConsideredOut):
    rank: int
    evidence: list[OptionEvidenceOut]
    meetings: list[MeetingOut] = Field(
        description=(
            "The group's next meetings: in person within `radius_km` of `near` or `place`, "
            "nearest first, then online ones (for `online` or `either` attendance)."
        )
    )


class SuggestionOut(BaseModel):
    group: str
    name: str
    reason: str
    evidence: list[EvidenceOut]


class ExclusionOut(BaseModel):
    group: str
    name: str
    reason: str


class MenuOut(BaseModel):
    reference: str
    options: list[OptionOut]
    considered: list[ConsideredOut]
    complementary: list[SuggestionOut]
    excluded: list[ExclusionOut]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    detail: list[FieldError]


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with its nested definitions inlined, for the OpenAPI body."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].split("/")[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
