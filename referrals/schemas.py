"""The match contract as pydantic models: validation for all three interfaces, and the
OpenAPI schema of ``POST /api/v1/match``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$"


class _Strict(BaseModel):
    # Unknown fields are an error, and values are not coerced ("yes" is not a boolean).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PreviousGroupIn(_Strict):
    group: str = Field(pattern=r"^[a-z0-9-]{1,50}$", description="A catalog slug, e.g. na.")
    experience: Literal["positive", "mixed", "negative"]


class ProfileIn(_Strict):
    """A patient's profile. Pseudonymous: a reference, never a name."""

    reference: str = Field(pattern=REFERENCE_PATTERN, examples=["P-0042"])
    gender: Literal["female", "male", "nonbinary", "unspecified"] = "unspecified"
    age: int | None = Field(default=None, ge=12, le=120)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", examples=["NO"])
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = Field(
        default_factory=list, max_length=10, examples=[["nb", "en"]]
    )
    substances: list[
        Literal[
            "opioids",
            "alcohol",
            "cocaine",
            "methamphetamine",
            "cannabis",
            "benzodiazepines",
            "other",
        ]
    ] = Field(default_factory=list)
    goal: Literal["abstinence", "moderation", "undecided"] = "undecided"
    on_medication_treatment: bool = False
    psychiatric_comorbidity: bool = False
    trauma_history: bool = False
    spirituality: Literal["welcome", "neutral", "averse"] = "neutral"
    format: Literal["sharing", "dialogue", "skills", "no_preference"] = "no_preference"
    wants_sponsor: Literal["yes", "no", "no_preference"] = "no_preference"
    wants_social_activities: bool = False
    prefers_women_only: bool = False
    attendance: Literal["in_person", "online", "either"] = "either"
    previous_groups: list[PreviousGroupIn] = Field(default_factory=list, max_length=20)


class EvidenceOut(BaseModel):
    study: str
    theme: str
    quote: str
    speaker: str


class OptionOut(BaseModel):
    group: str
    name: str
    rank: int
    score: float
    fit: list[str]
    cautions: list[str]
    evidence: list[EvidenceOut]


class SuggestionOut(BaseModel):
    group: str
    reason: str


class ExclusionOut(BaseModel):
    group: str
    reason: str


class MenuOut(BaseModel):
    reference: str
    options: list[OptionOut]
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
