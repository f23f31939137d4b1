"""The matcher: from a patient's profile and a snapshot of the catalog to a ranked menu.

Pure and deterministic: frozen dataclasses in, frozen dataclasses out, no database.
Hard constraints exclude a group, with a reason. Soft preferences add or subtract
the weights of ``referrals.weights``; every such part of a score is a reason (fit),
a caution or a piece of advice, carrying the fact it rests on (value and source) and
the study findings that speak to *it*. A fact the catalog does not record, on a trait
that decides fit for this patient, is a caution worth the least a recorded value
could score (see ``referrals.weights``). The menu is diverse by rule: when the catalog
allows, at least three options, at least one twelve-step and one non-twelve-step.
Every group of the catalog lands exactly once: on the menu, considered, excluded or
suggested beside the menu.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django_countries import countries

from catalog.vocabulary import VOCABULARY
from referrals import weights as w

# --- The profile's vocabulary, defined once --------------------------------
# The contract's schema, the intake form and the match command all read these.

Gender = Literal["female", "male", "nonbinary", "unspecified"]
Substance = Literal[
    "opioids", "alcohol", "cocaine", "methamphetamine", "cannabis", "benzodiazepines", "other"
]
Goal = Literal["abstinence", "moderation", "undecided"]
Spirituality = Literal["welcome", "neutral", "averse"]
Format = Literal["sharing", "dialogue", "skills", "no_preference"]
Choice = Literal["yes", "no", "no_preference"]
Attendance = Literal["in_person", "online", "either"]
Experience = Literal["positive", "mixed", "negative"]

# Labels of each answer, for forms and pages (marked here, translated where shown).
LABELS: Mapping[str, Mapping[str, str]] = {
    "gender": {
        "unspecified": gettext_noop("Not stated"),
        "female": gettext_noop("Female"),
        "male": gettext_noop("Male"),
        "nonbinary": gettext_noop("Non-binary"),
    },
    "substances": {
        "opioids": gettext_noop("Opioids"),
        "alcohol": gettext_noop("Alcohol"),
        "cocaine": gettext_noop("Cocaine"),
        "methamphetamine": gettext_noop("Methamphetamine"),
        "cannabis": gettext_noop("Cannabis"),
        "benzodiazepines": gettext_noop("Benzodiazepines"),
        "other": gettext_noop("Other drugs"),
    },
    "goal": {
        "undecided": gettext_noop("Undecided"),
        "abstinence": gettext_noop("Abstinence"),
        "moderation": gettext_noop("Moderation"),
    },
    "spirituality": {
        "neutral": gettext_noop("Neutral"),
        "welcome": gettext_noop("Welcome"),
        "averse": gettext_noop("Averse"),
    },
    "format": {
        "no_preference": gettext_noop("No preference"),
        "sharing": gettext_noop("Sharing in turns"),
        "dialogue": gettext_noop("Dialogue and feedback"),
        "skills": gettext_noop("Structured skills"),
    },
    "wants_sponsor": {
        "no_preference": gettext_noop("No preference"),
        "yes": gettext_noop("Yes"),
        "no": gettext_noop("No"),
    },
    "attendance": {
        "either": gettext_noop("In person or online"),
        "in_person": gettext_noop("In person"),
        "online": gettext_noop("Online"),
    },
    "experience": {
        "positive": gettext_noop("Positive"),
        "mixed": gettext_noop("Mixed"),
        "negative": gettext_noop("Negative: left after a bad experience"),
    },
}


def choices(name: str) -> tuple[tuple[str, str], ...]:
    """(value, untranslated label) pairs of one answer, in the order of its labels."""
    return tuple(LABELS[name].items())


TWELVE_STEP = "twelve_step"
COMPLEMENTARY = "complementary"
PRESENT = ("yes", "optional", "varies")
KNOWN = ("yes", "no", "optional", "varies")
TRAIT_LABELS = {definition.key: definition.label for definition in VOCABULARY}

# The catalog trait that says whether a group's membership covers a substance.
SCOPE_TRAITS: Mapping[str, str] = {
    "opioids": "covers_opioids",
    "alcohol": "covers_alcohol",
    "cocaine": "covers_cocaine",
    "methamphetamine": "covers_methamphetamine",
    "cannabis": "covers_cannabis",
    "benzodiazepines": "covers_benzodiazepines",
    "other": "covers_other_drugs",
}


# --- Messages ----------------------------------------------------------------


def country_name(code: str) -> str:
    return str(countries.name(code)) or code if code else _("worldwide")


@dataclass(frozen=True)
class Text:
    """A message kept untranslated with its parameters, so a menu saved today reads
    in any language later (the counsellor's page, the patient's handout). A
    ``literal`` text is data (a source's title) and is shown as it is."""

    message: str
    params: tuple[tuple[str, str | int], ...] = ()
    literal: bool = False

    def __str__(self) -> str:
        return self.render_in(get_language())

    def render_in(self, language: str | None) -> str:
        """The text in ``language``, which must be the active one (as ``__str__``)."""
        if self.literal:
            return self.message
        return _rendered(self, language)

    def as_dict(self) -> dict[str, object]:
        shown: dict[str, object] = {"message": self.message, "params": dict(self.params)}
        if self.literal:
            shown["literal"] = True
        return shown


@functools.lru_cache(maxsize=8192)
def _rendered(text: Text, language: str | None) -> str:
    # A menu shows the same few hundred messages over and over: each is rendered once
    # per language (the active one, which ``render`` reads).
    return render(text.message, dict(text.params))


def render(message: str, params: Mapping[str, object], *, literal: bool = False) -> str:
    """A message in the active language; a ``country`` parameter is shown by name."""
    if literal:
        return message
    text = _(message)
    if not params:
        return text
    shown = {k: country_name(str(v)) if k == "country" else _number(v) for k, v in params.items()}
    try:
        return text % shown
    except TypeError:  # a message saved when it still formatted numbers with %d
        return text % {**params, **{k: v for k, v in shown.items() if k == "country"}}


def _number(value: object) -> object:
    """Whole numbers in the active language's format (70,000 / 70 000 / 70.000)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return number_format(value, force_grouping=True)
    return value


@functools.cache
def T(message: str, **params: str | int) -> Text:
    return Text(message, tuple(sorted(params.items())))


def literal(text: str) -> Text:
    return Text(text, literal=True)


# --- Input ------------------------------------------------------------------


@dataclass(frozen=True)
class PreviousGroup:
    group: str
    experience: Experience
    reasons: tuple[str, ...] = ()  # codes of referrals.followup's reasons for disengaging


@dataclass(frozen=True)
class Profile:
    reference: str
    gender: Gender = "unspecified"
    age: int | None = None
    country: str | None = None
    languages: tuple[str, ...] = ()
    substances: tuple[Substance, ...] = ()
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
    previous_groups: tuple[PreviousGroup, ...] = ()
    averse_to_labels: bool = False
    recent_relapse: bool = False
    # Where the patient would travel from, for meetings; the ranking does not use it.
    near: tuple[float, float] | None = None
    place: str | None = None
    radius_km: int = 25


@dataclass(frozen=True)
class Source:
    title: Text
    url: str
    locator: Text


def data_source(title: str, url: str, locator: str) -> Source:
    """A source as the catalog records it: data, shown as it is."""
    return Source(literal(title), url, literal(locator))


@dataclass(frozen=True)
class Fact:
    """A group's value for one trait, as the catalog records it."""

    value: str  # yes, no, optional, varies (unknown facts are absent)
    source: Source | None


@dataclass(frozen=True)
class Place:
    country: str  # "" for worldwide
    region: str
    in_person_per_week: int | None
    online: str  # yes, no, unknown
    languages: tuple[str, ...]
    source: Source | None = None


@dataclass(frozen=True)
class GroupSnapshot:
    slug: str
    name: str
    kind: str
    languages: tuple[str, ...]
    facts: Mapping[str, Fact]
    places: tuple[Place, ...] = ()
    active: bool = True
    # Facts that hold in one country, overriding ``facts`` there: (trait, country) -> fact.
    local_facts: Mapping[tuple[str, str], Fact] = field(default_factory=dict)

    def fact(self, trait: str, country: str | None = None) -> Fact | None:
        if country and self.local_facts and (trait, country) in self.local_facts:
            return self.local_facts[(trait, country)]
        return self.facts.get(trait)

    def value(self, trait: str, country: str | None = None) -> str:
        fact = self.fact(trait, country)
        return fact.value if fact is not None else "unknown"

    def has(self, trait: str, country: str | None = None) -> bool:
        return self.value(trait, country) in ("yes", "optional")


@dataclass(frozen=True)
class Evidence:
    """What a study says that speaks to one part of a score."""

    study: str  # the study's DOI
    finding: str  # the finding's key
    summary: str  # what it means for a referral, in a sentence
    theme: str
    quote: str  # a participant's own words, or "" when the paper gives none
    speakers: tuple[str, ...]
    locator: str


@dataclass(frozen=True)
class FindingSnapshot:
    """A study finding and the traits it speaks to (trait, "supports" | "caution")."""

    key: str
    evidence: Evidence
    traits: tuple[tuple[str, str], ...]
    fellowship: str = ""  # a group's slug when it is testimony about that group alone

    def applies_to(self, group: str) -> bool:
        return not self.fellowship or self.fellowship == group


@dataclass(frozen=True)
class CatalogSnapshot:
    groups: tuple[GroupSnapshot, ...]
    findings: Mapping[str, FindingSnapshot] = field(default_factory=dict)
    _by_trait: dict[tuple[str, str], tuple[FindingSnapshot, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Parts of scores built so far (see _Scorer): a snapshot never changes, so neither do they.
    parts_cache: dict[tuple[object, ...], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], list[FindingSnapshot]] = {}
        for finding in self.findings.values():
            for trait, direction in finding.traits:
                index.setdefault((trait, direction), []).append(finding)
        self._by_trait.update({key: tuple(items) for key, items in index.items()})

    def findings_for(self, trait: str, direction: str) -> tuple[FindingSnapshot, ...]:
        return self._by_trait.get((trait, direction), ())


# --- Output -----------------------------------------------------------------

PartKind = Literal["base", "fit", "caution", "advice"]


@dataclass(frozen=True)
class Part:
    """One visible part of a score."""

    kind: PartKind
    text: Text
    points: float
    trait: str | None = None
    value: str | None = None  # the group's recorded value for the trait; "unknown" if none
    source: Source | None = None
    evidence: tuple[Evidence, ...] = ()

    @property
    def is_caution(self) -> bool:
        return self.kind == "caution"

    @property
    def unverified(self) -> bool:
        return self.value == "unknown"


@dataclass(frozen=True)
class Option:
    group: str
    name: str
    kind: str
    rank: int  # 0 for a group considered but not on the menu
    score: float
    parts: tuple[Part, ...]
    note: Text | None = None  # e.g. why a group the patient left is at the end

    @property
    def fit(self) -> tuple[Part, ...]:
        return tuple(part for part in self.parts if part.kind == "fit")

    @property
    def cautions(self) -> tuple[Part, ...]:
        return tuple(part for part in self.parts if part.kind == "caution")

    @property
    def advice(self) -> tuple[Part, ...]:
        return tuple(part for part in self.parts if part.kind == "advice")

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        seen: dict[Evidence, None] = {}
        for part in self.parts:
            for item in part.evidence:
                seen.setdefault(item, None)
        return tuple(seen)

    @functools.cached_property
    def unverified(self) -> int:
        return sum(part.unverified for part in self.parts)


@dataclass(frozen=True)
class Suggestion:
    group: str
    name: str
    reason: Text
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Exclusion:
    group: str
    name: str
    reason: Text


@dataclass(frozen=True)
class Menu:
    reference: str
    options: tuple[Option, ...]
    complementary: tuple[Suggestion, ...]
    excluded: tuple[Exclusion, ...]
    considered: tuple[Option, ...] = ()


# --- Rules ------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a recorded value of a trait means for this patient: points, words, and the
    study findings (by key) the rule rests on."""

    points: float
    message: str
    findings: tuple[str, ...] = ()
    kind: PartKind | None = None  # by default fit when points > 0, else caution


@dataclass(frozen=True, eq=False)
class Rule:
    """A rule on one trait, for patients whose answers call for it: the outcome of each
    recorded value, and the caution when the value is not recorded."""

    trait: str
    outcomes: Mapping[str, Outcome]
    unverified: str


BASE_PART = Part("base", T(gettext_noop("Starting point, the same for every group.")), w.BASE)
# Parts of a score depend only on the group, the rule and the recorded value, so a
# snapshot keeps each one it has built (a catalog snapshot is immutable). Two markers
# in that cache: the rule waits for the value to be recorded; the rule gives no part.
_UNVERIFIED = Part("caution", T(""), 0.0)
_NOTHING = Part("fit", T(""), 0.0)


class _Scorer:
    """Collects the parts of one group's score."""

    def __init__(self, profile: Profile, group: GroupSnapshot, snapshot: CatalogSnapshot) -> None:
        self.profile = profile
        self.group = group
        self.snapshot = snapshot
        self.country = profile.country
        self.parts: list[Part] = [BASE_PART]
        # Rules on unrecorded traits: trait -> (position of its part, its rules).
        self.pending: dict[str, tuple[int, list[Rule]]] = {}
        self.cache = snapshot.parts_cache
        # This group's part for each rule (facts for the patient's country included).
        local = (
            profile.country
            if any(country == profile.country for _trait, country in group.local_facts)
            else ""
        )
        self.rules: dict[object, Part] = self.cache.setdefault((group.slug, local, "rules"), {})

    def value(self, trait: str) -> str:
        return self.group.value(trait, self.country)

    def has(self, trait: str) -> bool:
        return self.group.has(trait, self.country)

    def _local(self, trait: str | None) -> str:
        """The country a part's fact depends on, or "" when it holds everywhere."""
        country = self.country
        if trait and country and (trait, country) in self.group.local_facts:
            return country
        return ""

    def add(
        self,
        points: float,
        text: Text,
        trait: str | None = None,
        *,
        findings: Iterable[str] = (),
        source: Source | None = None,
        kind: PartKind | None = None,
    ) -> None:
        """Add a part. Its source is the trait's, unless the rule names another; its
        evidence is the findings the rule names that apply to this group, or else the
        findings on the trait in the part's direction."""
        named = tuple(findings)
        key = (self.group.slug, self._local(trait), points, text, trait, named, source, kind)
        part = self.cache.get(key)
        if part is None:
            part = self._part(points, text, trait, named, source, kind)
            self.cache[key] = part
        self.parts.append(part)

    def _part(
        self,
        points: float,
        text: Text,
        trait: str | None,
        named: tuple[str, ...],
        source: Source | None,
        kind: PartKind | None,
    ) -> Part:
        kind = kind or ("fit" if points > 0 else "caution")
        value = self.value(trait) if trait else None
        fact = self.group.fact(trait, self.country) if trait else None
        evidence = self._evidence(kind, trait, value, named)
        source = source or (fact.source if fact else None) or (self.catalog_entry(trait))
        return Part(kind, text, points, trait, value, source, evidence)

    def _evidence(
        self, kind: str, trait: str | None, value: str | None, named: tuple[str, ...]
    ) -> tuple[Evidence, ...]:
        slug = self.group.slug
        found = [
            self.snapshot.findings[key]
            for key in dict.fromkeys(named)
            if key in self.snapshot.findings and self.snapshot.findings[key].applies_to(slug)
        ]
        if not named and trait and value in KNOWN:
            # A rule that names no finding cites those on its trait, in its direction.
            direction = "supports" if (kind == "fit") == (value in PRESENT) else "caution"
            found = [
                finding
                for finding in self.snapshot.findings_for(trait, direction)
                if finding.applies_to(slug)
            ]
        return tuple(finding.evidence for finding in found)

    def catalog_entry(self, trait: str | None, locator: str | None = None) -> Source:
        """The catalog's own entry for a trait: where an unrecorded fact would be."""
        locator = locator or TRAIT_LABELS.get(trait or "", gettext_noop("the group's entry"))
        return Source(
            T(gettext_noop("Catalog entry: %(name)s"), name=self.group.name), "", T(locator)
        )

    def on(self, rule: Rule) -> None:
        """Apply a rule: the outcome of the group's recorded value. When the value is not
        recorded, the rule waits for ``unverified_parts``, which weighs every rule on
        the trait together."""
        part = self.rules.get(rule)
        if part is None:
            value = self.value(rule.trait)
            if value in rule.outcomes:
                outcome = rule.outcomes[value]
                part = self._part(
                    outcome.points,
                    T(outcome.message),
                    rule.trait,
                    outcome.findings,
                    None,
                    outcome.kind,
                )
            else:
                part = _UNVERIFIED if value == "unknown" else _NOTHING
            self.rules[rule] = part
        if part is _UNVERIFIED:
            if rule.trait not in self.pending:
                self.pending[rule.trait] = (len(self.parts), [])
                self.parts.append(BASE_PART)  # a placeholder, replaced below
            self.pending[rule.trait][1].append(rule)
        elif part is not _NOTHING:
            self.parts.append(part)

    def unverified_parts(self) -> None:
        """One caution per unrecorded trait that decides fit for this patient, worth the
        least favourable value the trait could have for all its rules together."""
        for trait, (index, rules) in self.pending.items():
            key = (self.group.slug, self._local(trait), *rules)
            part = self.cache.get(key)
            if part is None:
                part = self._unverified(trait, rules)
                self.cache[key] = part
            self.parts[index] = part
        self.pending.clear()

    def _unverified(self, trait: str, rules: list[Rule]) -> Part:
        def total(value: str) -> float:
            return sum(rule.outcomes[value].points for rule in rules if value in rule.outcomes)

        worst = min(KNOWN, key=total)
        findings = tuple(
            key
            for rule in rules
            if worst in rule.outcomes and rule.outcomes[worst].points < 0
            for key in rule.outcomes[worst].findings
        )
        points = min(total(worst), 0.0)
        return self._part(points, T(rules[0].unverified), trait, findings, None, "caution")


def _exclusion(profile: Profile, group: GroupSnapshot) -> Text | None:
    country = profile.country
    if not group.active:
        return T(gettext_noop("The catalog marks it as possibly no longer active."))
    if group.value("women_only", country) == "yes" and profile.gender != "female":
        return T(gettext_noop("It is for women only."))
    if (
        group.value("requires_psychiatric_condition", country) == "yes"
        and not profile.psychiatric_comorbidity
    ):
        return T(
            gettext_noop(
                "Membership asks for a psychiatric condition beside the addiction; "
                "none is recorded for the patient."
            )
        )
    if profile.substances:
        scopes = [group.value(SCOPE_TRAITS[s], country) for s in profile.substances]
        if all(scope == "no" for scope in scopes):
            return T(gettext_noop("Its membership covers none of the patient's substances."))
    if (
        profile.attendance == "online"
        and group.value("online_meetings", country) == "no"
        and not any(place.online == "yes" for place in group.places)
    ):
        return T(gettext_noop("It holds no online meetings."))
    if profile.attendance == "in_person" and country:
        here = [p for p in group.places if p.country == country]
        if here and all(p.in_person_per_week == 0 for p in here):
            return T(
                gettext_noop("It holds no in-person meetings in %(country)s."), country=country
            )
    return None


AVERSE_TO_SPIRITUALITY = Rule(
    "higher_power",
    {
        "yes": Outcome(
            w.SPIRITUALITY_AVERSE_HIGHER_POWER,
            gettext_noop("A higher power is part of the programme; the patient is averse to it."),
        ),
        "optional": Outcome(
            w.SPIRITUALITY_AVERSE_SOME_GROUPS,
            gettext_noop("Spirituality is part of it for some members or groups."),
        ),
        "varies": Outcome(
            w.SPIRITUALITY_AVERSE_SOME_GROUPS,
            gettext_noop("Spirituality is part of it for some members or groups."),
        ),
        "no": Outcome(
            w.SPIRITUALITY_AVERSE_SECULAR,
            gettext_noop("Secular: no higher power, as the patient prefers."),
        ),
    },
    gettext_noop("Not verified: whether a higher power is part of it."),
)


AVERSE_TO_POWERLESSNESS = Rule(
    "powerlessness",
    {
        "yes": Outcome(
            w.SPIRITUALITY_AVERSE_POWERLESSNESS,
            gettext_noop(
                "Members are asked to admit powerlessness, which some find a negative focus."
            ),
            ("powerlessness-negative-focus",),
        ),
    },
    gettext_noop("Not verified: whether members are asked to admit powerlessness."),
)


AVERSE_TO_LABELS = Rule(
    "addict_label",
    {
        "yes": Outcome(
            w.LABEL_AVERSE,
            gettext_noop(
                "Members introduce themselves as addicts; the patient objects to the label."
            ),
            ("addiction-explains-everything", "identity-beyond-addiction"),
        ),
        "varies": Outcome(
            w.LABEL_AVERSE,
            gettext_noop(
                "In some of its groups members introduce themselves as addicts; "
                "the patient objects to the label."
            ),
            ("addiction-explains-everything", "identity-beyond-addiction"),
        ),
        "no": Outcome(
            w.LABEL_AVOIDED,
            gettext_noop("Nobody is asked to call themselves an addict, as the patient prefers."),
        ),
    },
    gettext_noop("Not verified: whether members introduce themselves as addicts."),
)


WELCOMES_SPIRITUALITY = Rule(
    "higher_power",
    {
        "yes": Outcome(
            w.SPIRITUALITY_WELCOME_HIGHER_POWER,
            gettext_noop("Spiritual principles are part of it, which the patient welcomes."),
            ("twelve-steps-valued-by-leavers",),
        ),
    },
    gettext_noop("Not verified: whether spiritual principles are part of it."),
)


def _spirituality(profile: Profile, s: _Scorer) -> None:
    if profile.spirituality == "averse":
        s.on(AVERSE_TO_SPIRITUALITY)
        s.on(AVERSE_TO_POWERLESSNESS)
    elif profile.spirituality == "welcome":
        s.on(WELCOMES_SPIRITUALITY)
    if profile.averse_to_labels:
        s.on(AVERSE_TO_LABELS)


PREFERS_SHARING = Rule(
    "narrative_sharing",
    {
        "yes": Outcome(
            w.FORMAT_MATCH,
            gettext_noop("Members share their experience in turns, as the patient prefers."),
            ("mutual-understanding-sharing",),
        ),
        "no": Outcome(
            w.FORMAT_MISSING,
            gettext_noop(
                "Meetings are not for sharing one's story in turns, which the patient prefers."
            ),
        ),
    },
    gettext_noop("Not verified: whether members share their experience in turns."),
)


PREFERS_DIALOGUE = Rule(
    "dialogue_feedback",
    {
        "yes": Outcome(
            w.FORMAT_MATCH,
            gettext_noop("Members talk with each other and give feedback, as the patient prefers."),
            ("narrative-sharing-without-dialogue",),
        ),
        "no": Outcome(
            w.FORMAT_NO_DIALOGUE,
            gettext_noop(
                "Meetings are for sharing in turns without dialogue; the patient wants dialogue."
            ),
            ("narrative-sharing-without-dialogue",),
        ),
    },
    gettext_noop("Not verified: whether members talk with each other and give feedback."),
)


PREFERS_SKILLS = Rule(
    "skills_tools",
    {
        "yes": Outcome(
            w.FORMAT_MATCH,
            gettext_noop("Structured skills tools, as the patient prefers."),
        ),
        "no": Outcome(
            w.FORMAT_MISSING,
            gettext_noop("It does not work with structured skills tools."),
        ),
    },
    gettext_noop("Not verified: whether it works with structured skills tools."),
)


def _format(profile: Profile, s: _Scorer) -> None:
    if profile.format == "sharing":
        s.on(PREFERS_SHARING)
    elif profile.format == "dialogue":
        s.on(PREFERS_DIALOGUE)
    elif profile.format == "skills":
        s.on(PREFERS_SKILLS)


WANTS_SPONSOR = Rule(
    "sponsorship",
    {
        "yes": Outcome(
            w.SPONSOR_WANTED,
            gettext_noop("Offers a sponsor, as the patient wishes."),
            ("you-can-change-sponsor",),
        ),
        "optional": Outcome(
            w.SPONSOR_OPTIONAL,
            gettext_noop("A sponsor can be had, as the patient wishes."),
        ),
        "no": Outcome(
            w.SPONSOR_MISSING,
            gettext_noop("It has no sponsors; the patient wants one."),
        ),
    },
    gettext_noop("Not verified: whether it offers sponsors."),
)


WANTS_SOCIAL_ACTIVITIES = Rule(
    "social_activities",
    {
        "yes": Outcome(
            w.SOCIAL_ACTIVITIES,
            gettext_noop("Social and leisure activities beyond meetings, as the patient wishes."),
            ("social-and-leisure-activities", "heroin-network-pull"),
        ),
    },
    gettext_noop("Not verified: whether it offers activities beyond meetings."),
)


WANTS_PEER_NETWORK = Rule(
    "peer_led",
    {
        "yes": Outcome(
            w.PEER_NETWORK,
            gettext_noop(
                "Led by its members: a network of peers who support each other between meetings."
            ),
            (
                "na-builds-social-network",
                "na-safety-net-sounding-board",
                "non-judgemental-peers",
                "mutual-understanding-sharing",
            ),
        ),
    },
    gettext_noop("Not verified: whether it is led by its members."),
)


WANTS_LIFE_BEYOND_THE_GROUP = Rule(
    "step_work",
    {
        "yes": Outcome(
            w.LIFE_BEYOND_THE_GROUP,
            gettext_noop(
                "For some long-term members meetings, steps and sponsor became a cage; "
                "the patient wants a life beyond the group."
            ),
            ("safe-place-becomes-cage",),
        ),
    },
    gettext_noop("Not verified: whether members are expected to work steps."),
)


WANTS_NO_SPONSOR = Rule(
    "sponsorship",
    {
        "yes": Outcome(
            w.SPONSOR_NOT_WANTED,
            gettext_noop(
                "Sponsorship is part of the programme; the patient does not want "
                "a sponsor (one can be changed or done without)."
            ),
            ("you-can-change-sponsor",),
        ),
        "no": Outcome(
            w.SPONSOR_NONE_AS_WISHED,
            gettext_noop("No sponsor is expected, as the patient prefers."),
        ),
    },
    gettext_noop("Not verified: whether a sponsor is expected."),
)


def _support(profile: Profile, s: _Scorer) -> None:
    if profile.wants_sponsor == "yes":
        s.on(WANTS_SPONSOR)
    elif profile.wants_sponsor == "no":
        s.on(WANTS_NO_SPONSOR)
    if profile.wants_social_activities:
        s.on(WANTS_SOCIAL_ACTIVITIES)
        s.on(WANTS_PEER_NETWORK)
        s.on(WANTS_LIFE_BEYOND_THE_GROUP)


MODERATION_ABSTINENCE = Rule(
    "total_abstinence",
    {
        "yes": Outcome(
            w.MODERATION_TOTAL_ABSTINENCE,
            gettext_noop("Its goal is total abstinence; the patient's goal is moderation."),
            ("relapse-all-or-nothing",),
        ),
    },
    gettext_noop("Not verified: whether its goal is total abstinence."),
)


MODERATION_ROOM = Rule(
    "moderation_possible",
    {
        "yes": Outcome(
            w.MODERATION_POSSIBLE,
            gettext_noop("There is room for a goal other than abstinence."),
        ),
        "optional": Outcome(
            w.MODERATION_POSSIBLE,
            gettext_noop("There is room for a goal other than abstinence."),
        ),
    },
    gettext_noop("Not verified: whether there is room for a goal other than abstinence."),
)


RECENT_RELAPSE = Rule(
    "clean_time_counting",
    {
        "yes": Outcome(
            w.RELAPSE_CLEAN_TIME,
            gettext_noop(
                "Clean time is counted and starts again at zero after a relapse; "
                "the patient relapsed recently."
            ),
            ("relapse-all-or-nothing", "clean-days-counted", "hierarchy-of-success"),
        ),
    },
    gettext_noop("Not verified: whether clean time is counted and restarted."),
)


ABSTINENCE_GOAL = Rule(
    "total_abstinence",
    {
        "yes": Outcome(
            w.ABSTINENCE_MATCH,
            gettext_noop("Its goal is total abstinence, like the patient's."),
            ("advice-lean-on-the-group-early", "na-early-recovery-support"),
        ),
        "optional": Outcome(
            w.ABSTINENCE_MATCH,
            gettext_noop("Abstinence is a goal it supports, like the patient's."),
        ),
    },
    gettext_noop("Not verified: whether it supports a goal of abstinence."),
)


UNDECIDED_ROOM_TO_CHOOSE = Rule(
    "moderation_possible",
    {
        "yes": Outcome(
            w.UNDECIDED_ROOM_TO_CHOOSE,
            gettext_noop("Members choose their own goals: room for a patient still deciding."),
        ),
        "optional": Outcome(
            w.UNDECIDED_ROOM_TO_CHOOSE,
            gettext_noop("Members choose their own goals: room for a patient still deciding."),
        ),
    },
    gettext_noop("Not verified: whether members can choose their own goal."),
)


UNDECIDED_ABSTINENCE = Rule(
    "total_abstinence",
    {
        "yes": Outcome(
            w.UNDECIDED_TOTAL_ABSTINENCE,
            gettext_noop(
                "Its goal is total abstinence; the patient has not decided on a goal "
                "(people may come before they are abstinent)."
            ),
            ("advice-lean-on-the-group-early",),
        ),
    },
    gettext_noop("Not verified: whether its goal is total abstinence."),
)


def _goal(profile: Profile, s: _Scorer) -> None:
    if profile.goal == "moderation":
        s.on(MODERATION_ABSTINENCE)
        s.on(MODERATION_ROOM)
    elif profile.goal == "abstinence":
        s.on(ABSTINENCE_GOAL)
    else:
        s.on(UNDECIDED_ROOM_TO_CHOOSE)
        s.on(UNDECIDED_ABSTINENCE)
    if profile.recent_relapse:
        s.on(RECENT_RELAPSE)


COMORBIDITY_DUAL_FOCUS = Rule(
    "dual_diagnosis_focus",
    {
        "yes": Outcome(
            w.DUAL_DIAGNOSIS_FOCUS,
            gettext_noop("Made for people with both an addiction and a mental health condition."),
            ("psychiatric-comorbidity", "advice-comorbidity-alternatives"),
        ),
    },
    gettext_noop("Not verified: whether it is made for people with a dual diagnosis."),
)


COMORBIDITY_MEDICATION_ACCEPTED = Rule(
    "psychiatric_medication_accepted",
    {
        "yes": Outcome(
            w.PSYCHIATRIC_MEDICATION_ACCEPTED,
            gettext_noop("Prescribed psychiatric medication is accepted, not seen as a relapse."),
        ),
        "no": Outcome(
            w.PSYCHIATRIC_MEDICATION_NOT_ACCEPTED,
            gettext_noop("Psychiatric medication is not accepted."),
        ),
    },
    gettext_noop("Not verified: whether prescribed psychiatric medication is accepted."),
)


COMORBIDITY_MEDICATION_DISCUSSABLE = Rule(
    "psychiatric_medication_discussable",
    {
        "yes": Outcome(
            w.PSYCHIATRIC_MEDICATION_DISCUSSABLE,
            gettext_noop("Psychiatric medication can be talked about in meetings."),
        ),
        "varies": Outcome(
            w.PSYCHIATRIC_MEDICATION_HARD_TO_RAISE,
            gettext_noop("Some members feel unable to raise psychiatric medication in meetings."),
        ),
        "no": Outcome(
            w.PSYCHIATRIC_MEDICATION_NOT_DISCUSSABLE,
            gettext_noop("Psychiatric medication is not talked about in meetings."),
        ),
    },
    gettext_noop("Not verified: whether psychiatric medication can be raised in meetings."),
)


ON_MEDICATION_TREATMENT = Rule(
    "oat_welcome",
    {
        "yes": Outcome(
            w.MEDICATION_WELCOME,
            gettext_noop("People in medication treatment are fully welcome."),
            ("opioid-maintenance-treatment",),
        ),
        "varies": Outcome(
            w.MEDICATION_VARIES,
            gettext_noop(
                "How people in medication treatment are received varies between local groups."
            ),
            ("opioid-maintenance-treatment",),
        ),
        "no": Outcome(
            w.MEDICATION_NOT_WELCOME,
            gettext_noop("People in medication treatment are not fully welcome."),
            ("opioid-maintenance-treatment",),
        ),
    },
    gettext_noop(
        "Not verified: how people in medication treatment are received; ask before referring."
    ),
)


COMORBIDITY_SHARING = Rule(
    "narrative_sharing",
    {
        "yes": Outcome(
            w.COMORBIDITY_NARRATIVE_SHARING,
            gettext_noop(
                "Some people with psychiatric comorbidity find it hard to share in the round."
            ),
            ("psychiatric-comorbidity",),
        ),
    },
    gettext_noop("Not verified: whether members share in turns in the round."),
)


def _medication(profile: Profile, s: _Scorer) -> None:
    if profile.on_medication_treatment:
        s.on(ON_MEDICATION_TREATMENT)
    if not profile.psychiatric_comorbidity:
        return
    s.on(COMORBIDITY_DUAL_FOCUS)
    s.on(COMORBIDITY_MEDICATION_ACCEPTED)
    s.on(COMORBIDITY_MEDICATION_DISCUSSABLE)
    if s.value("dual_diagnosis_focus") != "yes":
        s.on(COMORBIDITY_SHARING)


_SOME_WOMEN_ONLY = Outcome(
    w.WOMEN_ONLY_SOME_MEETINGS,
    gettext_noop("Some of its meetings are for women only, as the patient prefers."),
)
PREFERS_WOMEN_ONLY = Rule(
    "women_only",
    {
        "yes": Outcome(w.WOMEN_ONLY_WANTED, gettext_noop("Women only, as the patient prefers.")),
        "optional": _SOME_WOMEN_ONLY,
        "varies": _SOME_WOMEN_ONLY,
        "no": Outcome(
            w.WOMEN_ONLY_MIXED,
            gettext_noop("Its meetings are for everyone; the patient prefers women only."),
        ),
    },
    gettext_noop("Not verified: whether it has meetings for women only."),
)


TRAUMA_STEP_WORK = Rule(
    "step_work",
    {
        "yes": Outcome(
            w.TRAUMA_STEP_WORK,
            gettext_noop("Step 5 means confiding in a sponsor; it hurt some trauma survivors."),
            ("step-five-trauma-survivors",),
        ),
        "optional": Outcome(
            w.TRAUMA_STEP_WORK_OPTIONAL,
            gettext_noop("Step work is optional; with a sponsor, it hurt some trauma survivors."),
            ("step-five-trauma-survivors",),
        ),
    },
    gettext_noop("Not verified: whether members work steps with a sponsor."),
)


def _population(profile: Profile, s: _Scorer) -> None:
    if profile.trauma_history:
        s.on(TRAUMA_STEP_WORK)
        if s.has("sponsorship"):
            s.add(
                0.0,
                T(
                    gettext_noop(
                        "Advice: a sponsor who does not help can be changed; painful memories "
                        "belong with a professional the patient trusts."
                    )
                ),
                "sponsorship",
                findings=("you-can-change-sponsor",),
                kind="advice",
            )
    if (profile.trauma_history or profile.psychiatric_comorbidity) and s.value(
        "narrative_sharing"
    ) in PRESENT:
        s.add(
            0.0,
            T(
                gettext_noop(
                    "Advice: take time before sharing very personal things; stories shared "
                    "in meetings have been passed on."
                )
            ),
            "narrative_sharing",
            findings=("advice-take-time-before-sharing", "shared-stories-may-spread"),
            kind="advice",
        )
    if profile.prefers_women_only and profile.gender == "female":
        s.on(PREFERS_WOMEN_ONLY)


def _scope(profile: Profile, s: _Scorer) -> None:
    """Whether the group's membership covers the patient's substances (exclusion aside)."""
    if not profile.substances:
        s.add(
            0.0,
            T(
                gettext_noop(
                    "The patient's substances are not recorded, so its scope is unchecked."
                )
            ),
        )
        return
    scopes = {substance: s.value(SCOPE_TRAITS[substance]) for substance in profile.substances}
    covered = [substance for substance, value in scopes.items() if value == "yes"]
    unknown = [substance for substance, value in scopes.items() if value == "unknown"]
    if len(covered) == len(scopes):
        message = gettext_noop("Its membership covers the patient's substances.")
        s.add(w.SCOPE_COVERED, T(message), SCOPE_TRAITS[covered[0]])
        if s.value("substance_specific") == "yes":
            # A fellowship founded around the patient's substances (GUIDE: groups "that
            # focus on specific substances").
            message = gettext_noop("Focused on the patient's substances: members share them.")
            s.add(w.SUBSTANCE_FOCUS, T(message), "substance_specific")
    elif unknown and covered:
        message = gettext_noop(
            "Not verified: whether its membership covers all of the patient's substances."
        )
        s.add(0.0, T(message), SCOPE_TRAITS[unknown[0]])
    elif unknown:
        message = gettext_noop(
            "Not verified: whether its membership covers the patient's substances."
        )
        s.add(w.SCOPE_UNVERIFIED, T(message), SCOPE_TRAITS[unknown[0]])
    else:
        # Some substances covered, others not or only by some of its groups.
        partly = next(k for k, v in scopes.items() if v != "yes")
        message = gettext_noop(
            "Its membership covers only some of the patient's substances, or only in "
            "some of its groups."
        )
        s.add(0.0, T(message), SCOPE_TRAITS[partly])


def _reachable(profile: Profile, group: GroupSnapshot) -> list[Place]:
    """The group's places a patient can reach: in their country, or online."""
    return [
        p
        for p in group.places
        if (
            profile.attendance != "online" and (not profile.country or p.country == profile.country)
        )
        or (profile.attendance != "in_person" and p.online == "yes")
    ]


def _access(profile: Profile, s: _Scorer) -> None:
    g = s.group
    wanted = set(profile.languages)
    if wanted:
        reachable = _reachable(profile, g)
        place = next((p for p in reachable if wanted & set(p.languages)), None)
        known = {lang for p in reachable for lang in p.languages} | set(g.languages)
        if place is not None:
            s.add(
                w.LANGUAGE_MATCH,
                T(gettext_noop("Meets in a language the patient speaks.")),
                source=place.source,
            )
        elif wanted & set(g.languages):
            s.add(
                w.LANGUAGE_MATCH,
                T(gettext_noop("Meets in a language the patient speaks.")),
                source=s.catalog_entry(None, gettext_noop("languages")),
            )
        elif known:
            s.add(
                w.LANGUAGE_MISMATCH,
                T(
                    gettext_noop(
                        "Its meetings are recorded only in languages the patient does not speak."
                    )
                ),
                source=s.catalog_entry(None, gettext_noop("languages")),
            )
        else:
            s.add(
                w.LANGUAGE_MISMATCH,
                T(gettext_noop("Not verified: the languages its meetings are held in.")),
                source=s.catalog_entry(None, gettext_noop("languages")),
            )
    if profile.country and profile.attendance != "online":
        here = [p for p in g.places if p.country == profile.country]
        worldwide = [p for p in g.places if not p.country and p.in_person_per_week]
        counted = [p for p in here if p.in_person_per_week]
        if counted:
            s.add(
                w.MEETS_IN_COUNTRY,
                T(
                    gettext_noop("About %(count)s in-person meetings a week in %(country)s."),
                    count=sum(p.in_person_per_week or 0 for p in counted),
                    country=profile.country,
                ),
                source=counted[0].source,
            )
        elif here:
            s.add(
                0.0,
                T(
                    gettext_noop(
                        "It meets in %(country)s, but how often is not recorded; "
                        "check before referring."
                    ),
                    country=profile.country,
                ),
                source=here[0].source,
            )
        elif worldwide:
            s.add(
                0.0,
                T(
                    gettext_noop(
                        "About %(count)s in-person meetings a week worldwide; find one in "
                        "%(country)s through its own meeting finder."
                    ),
                    count=worldwide[0].in_person_per_week or 0,
                    country=profile.country,
                ),
                source=worldwide[0].source,
                kind="fit",
            )
        else:
            s.add(
                w.AVAILABILITY_UNKNOWN,
                T(
                    gettext_noop(
                        "Whether it meets in %(country)s is not recorded; check before referring."
                    ),
                    country=profile.country,
                ),
                source=s.catalog_entry(None, gettext_noop("availability")),
            )
    if profile.attendance == "online":
        online = next((p for p in g.places if p.online == "yes"), None)
        if s.value("online_meetings") == "yes":
            s.add(
                w.ONLINE_MEETINGS, T(gettext_noop("It holds online meetings.")), "online_meetings"
            )
        elif online is not None:
            s.add(
                w.ONLINE_MEETINGS,
                T(gettext_noop("It holds online meetings.")),
                source=online.source,
            )
        else:
            s.add(
                w.AVAILABILITY_UNKNOWN,
                T(gettext_noop("Not verified: whether it meets online; check before referring.")),
                "online_meetings",
            )


# Why a patient left a group (referrals.followup's codes, the Norwegian study's Table 3)
# -> the traits behind that reason and the findings that describe it.
LEFT_OVER: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "perceived-negative-focus": (("powerlessness",), ("powerlessness-negative-focus",)),
    "everything-hinged-on-addiction": (
        ("addict_label",),
        ("addiction-explains-everything", "identity-beyond-addiction"),
    ),
    "difficulty-with-strategy": (
        ("narrative_sharing", "step_work"),
        ("narrative-sharing-without-dialogue", "strict-step-structure-burden"),
    ),
    "double-trouble": (("narrative_sharing",), ("psychiatric-comorbidity",)),
    "negative-experiences-with-sponsor": (
        ("sponsorship",),
        ("step-five-trauma-survivors", "you-can-change-sponsor"),
    ),
    "anonymity-breaches": (("narrative_sharing",), ("shared-stories-may-spread",)),
    "conformity-pressure": (("peer_led",), ("pressure-to-conform",)),
    "criticism-not-welcomed": (("peer_led",), ("pressure-to-conform",)),
    "seasoned-members-not-living-as-they-teach": (
        ("peer_led",),
        ("seasoned-members-not-living-as-they-teach", "pressure-to-conform"),
    ),
    "not-living-up-to-success-criteria": (
        ("clean_time_counting", "step_work"),
        ("hierarchy-of-success",),
    ),
    "relapse-and-negative-emotions": (
        ("clean_time_counting",),
        ("relapse-all-or-nothing", "clean-days-counted"),
    ),
    "natural-course-of-disengagement": (("step_work",), ("safe-place-becomes-cage",)),
    "no-additional-benefits": (("step_work",), ("safe-place-becomes-cage",)),
    "participation-limits-quality-of-life": (("step_work",), ("safe-place-becomes-cage",)),
    "ambivalence-about-breaking-out": (("step_work",), ("safe-place-becomes-cage",)),
}
SHARED_TRAIT_MESSAGES: Mapping[str, tuple[str, str]] = {
    "powerlessness": (
        gettext_noop(
            "It too asks members to admit powerlessness, a reason the patient left %(group)s."
        ),
        gettext_noop("Not verified: whether it too asks members to admit powerlessness."),
    ),
    "addict_label": (
        gettext_noop(
            "Members here too call themselves addicts, a reason the patient left %(group)s."
        ),
        gettext_noop("Not verified: whether members here too call themselves addicts."),
    ),
    "narrative_sharing": (
        gettext_noop("It too has sharing in turns, a reason the patient left %(group)s."),
        gettext_noop("Not verified: whether it too has sharing in turns."),
    ),
    "step_work": (
        gettext_noop("It too expects step work, a reason the patient left %(group)s."),
        gettext_noop("Not verified: whether it too expects step work."),
    ),
    "sponsorship": (
        gettext_noop("It too has sponsors, a reason the patient left %(group)s."),
        gettext_noop("Not verified: whether it too has sponsors."),
    ),
    "peer_led": (
        gettext_noop(
            "It too is led by its members; pressure to conform among members was a reason "
            "the patient left %(group)s."
        ),
        gettext_noop("Not verified: whether it too is led by its members."),
    ),
    "clean_time_counting": (
        gettext_noop("It too counts clean time, a reason the patient left %(group)s."),
        gettext_noop("Not verified: whether it too counts clean time."),
    ),
}


@functools.cache
def _shared_rule(trait: str, findings: tuple[str, ...]) -> Rule:
    message, unverified = SHARED_TRAIT_MESSAGES[trait]
    shares = Outcome(w.SHARES_WHAT_THE_PATIENT_LEFT, message, findings)
    return Rule(trait, {"yes": shares, "varies": shares}, unverified)


TOLD = Source(
    T(gettext_noop("The patient's own account at intake")), "", T(gettext_noop("previous groups"))
)


def left_over(
    profile: Profile, groups: Mapping[str, GroupSnapshot]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The traits behind the reasons the patient left groups: trait -> (the group's
    name, the findings that describe the reason). Only traits the group left is
    recorded to have: a reason is not laid on a practice the group may not have."""
    shared: dict[str, tuple[str, tuple[str, ...]]] = {}
    for previous in profile.previous_groups:
        left = groups.get(previous.group)
        if left is None:
            continue
        for code in previous.reasons:
            traits, findings = LEFT_OVER.get(code, ((), ()))
            for trait in traits:
                if left.value(trait, profile.country) in PRESENT:
                    shared.setdefault(trait, (left.name, findings))
    return shared


def _history(
    profile: Profile, s: _Scorer, shared: Mapping[str, tuple[str, tuple[str, ...]]]
) -> Text | None:
    told = TOLD
    note = None
    for previous in profile.previous_groups:
        if previous.group != s.group.slug:
            continue
        if previous.experience == "negative":
            s.add(
                w.PREVIOUS_NEGATIVE,
                T(gettext_noop("The patient left it after a negative experience.")),
                source=told,
                findings=("advice-try-another-resource",),
            )
            note = T(
                gettext_noop("Left after a negative experience: shown last, for the conversation.")
            )
        elif previous.experience == "mixed":
            s.add(
                w.PREVIOUS_MIXED,
                T(
                    gettext_noop(
                        "The patient's experience with it was mixed; talk through what helped "
                        "and what did not."
                    )
                ),
                source=told,
                findings=("advice-try-another-resource",),
            )
        else:
            s.add(
                w.PREVIOUS_POSITIVE,
                T(gettext_noop("The patient has had a good experience with it.")),
                source=told,
            )
    for trait, (group_name, findings) in shared.items():
        message = SHARED_TRAIT_MESSAGES[trait][0]
        if s.value(trait) in ("yes", "varies"):
            text = T(message, group=group_name)
            s.add(w.SHARES_WHAT_THE_PATIENT_LEFT, text, trait, findings=findings)
        else:
            s.on(_shared_rule(trait, findings))
    return note


def _score(parts: Iterable[Part]) -> float:
    """The sum of the parts, base included: exactly what the page shows."""
    return round(sum(part.points for part in parts), 2)


def _order(option: Option) -> tuple[float, int, str, str]:
    # Ties go to the better documented group, then by name.
    return (-option.score, option.unverified, option.name, option.group)


def _diverse(ranked: list[Option], size: int) -> list[Option]:
    """The top of the ranking, amended so that both kinds of group are on it.

    When the top holds only one kind, its lowest option gives way to the best of
    the other kind, if the catalog has one left.
    """
    chosen, rest = ranked[:size], ranked[size:]
    for twelve_step in (True, False):
        if any((option.kind == TWELVE_STEP) == twelve_step for option in chosen):
            continue
        candidate = next((o for o in rest if (o.kind == TWELVE_STEP) == twelve_step), None)
        if candidate is not None:
            rest.remove(candidate)
            chosen[-1] = candidate
    return chosen


def score_group(
    profile: Profile,
    group: GroupSnapshot,
    snapshot: CatalogSnapshot,
    shared: Mapping[str, tuple[str, tuple[str, ...]]] | None = None,
) -> Option:
    """Every part of one (non-excluded) group's score; rank 0 until ranked."""
    groups = {g.slug: g for g in snapshot.groups} if shared is None else {}
    scorer = _Scorer(profile, group, snapshot)
    _scope(profile, scorer)
    _spirituality(profile, scorer)
    _format(profile, scorer)
    _support(profile, scorer)
    _goal(profile, scorer)
    _medication(profile, scorer)
    _population(profile, scorer)
    _access(profile, scorer)
    note = _history(profile, scorer, left_over(profile, groups) if shared is None else shared)
    scorer.unverified_parts()
    parts = tuple(scorer.parts)
    return Option(group.slug, group.name, group.kind, 0, _score(parts), parts, note)


def match(profile: Profile, snapshot: CatalogSnapshot, *, size: int = w.MENU_SIZE) -> Menu:
    """Rank the catalog for one profile. Same input, same menu."""
    excluded: list[Exclusion] = []
    scored: list[Option] = []
    dropped: list[Option] = []
    complementary: list[Suggestion] = []
    considered: list[Option] = []
    shared = left_over(profile, {g.slug: g for g in snapshot.groups})
    for group in sorted(snapshot.groups, key=lambda g: g.slug):
        reason = _exclusion(profile, group)
        if reason:
            excluded.append(Exclusion(group.slug, group.name, reason))
        elif group.kind == COMPLEMENTARY:
            suggestion = _suggestion(profile, group, snapshot)
            if suggestion:
                complementary.append(suggestion)
            else:
                considered.append(_not_called_for(profile, group, snapshot))
        else:
            option = score_group(profile, group, snapshot, shared)
            (dropped if option.note else scored).append(option)

    scored.sort(key=_order)
    chosen = _diverse(list(scored), max(size, w.MINIMUM_OPTIONS))
    chosen.sort(key=_order)
    dropped.sort(key=_order)
    options = tuple(
        Option(o.group, o.name, o.kind, rank, o.score, o.parts, o.note)
        for rank, o in enumerate([*chosen, *dropped], start=1)
    )
    shown = {id(o) for o in chosen}
    considered = sorted([o for o in scored if id(o) not in shown], key=_order) + considered
    return Menu(
        profile.reference, options, tuple(complementary), tuple(excluded), tuple(considered)
    )


def _suggestion(
    profile: Profile, group: GroupSnapshot, snapshot: CatalogSnapshot
) -> Suggestion | None:
    if profile.trauma_history and group.has("trauma_focus", profile.country):
        named = [snapshot.findings.get("trauma-complementary-support")]
        found = [f for f in named if f is not None and f.applies_to(group.slug)] or [
            f for f in snapshot.findings_for("trauma_focus", "supports") if f.applies_to(group.slug)
        ]
        evidence = tuple(f.evidence for f in found)
        return Suggestion(
            group.slug,
            group.name,
            T(gettext_noop("Beside whichever group is chosen: support for survivors of trauma.")),
            evidence,
        )
    return None


def _not_called_for(profile: Profile, group: GroupSnapshot, snapshot: CatalogSnapshot) -> Option:
    """A complementary group the profile does not call for, with the reason why."""
    scorer = _Scorer(profile, group, snapshot)
    if group.has("trauma_focus", profile.country):
        scorer.add(
            0.0,
            T(
                gettext_noop(
                    "Suggested beside the menu for a trauma history; none is recorded, and "
                    "trauma should not be assumed."
                )
            ),
            "trauma_focus",
            findings=("trauma-not-assumed",),
        )
    else:
        scorer.add(
            0.0,
            T(
                gettext_noop(
                    "Suggested beside the menu only when the patient's answers call for it."
                )
            ),
        )
    parts = tuple(scorer.parts)
    return Option(group.slug, group.name, group.kind, 0, _score(parts), parts)
