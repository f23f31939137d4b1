"""The matcher: from a patient's profile and a snapshot of the catalog to a ranked menu.

Pure and deterministic: frozen dataclasses in, frozen dataclasses out, no database.
Hard constraints exclude a group, with a reason. Soft preferences add or subtract
the weights of ``referrals.weights``; every such part of a score is a reason
(fit) or a caution, carrying the trait's source and the study findings that speak
to it. The menu is diverse by rule: when the catalog allows, at least three
options, at least one twelve-step and one non-twelve-step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from referrals import weights as w

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

# The study findings (studies.Finding keys) that some rules rest on, by the rule's message.
RULE_FINDINGS: Mapping[str, frozenset[str]] = {
    "Members are asked to admit powerlessness, which some find a negative focus.": frozenset(
        {"powerlessness-negative-focus"}
    ),
    "Step 5 means confiding in a sponsor; it hurt some trauma survivors.": frozenset(
        {"step-five-trauma-survivors"}
    ),
    "Meetings are for sharing in turns without dialogue; the patient wants dialogue.": frozenset(
        {"narrative-sharing-without-dialogue"}
    ),
    "Members talk with each other and give feedback, as the patient prefers.": frozenset(
        {"narrative-sharing-without-dialogue"}
    ),
    "Some people with psychiatric comorbidity find it hard to share in the round.": frozenset(
        {"psychiatric-comorbidity"}
    ),
    "Made for people with both an addiction and a mental health condition.": frozenset(
        {"psychiatric-comorbidity", "advice-comorbidity-alternatives"}
    ),
    "Its goal is total abstinence; the patient's goal is moderation.": frozenset(
        {"relapse-all-or-nothing"}
    ),
    "Sponsorship is part of the programme; the patient does not want a sponsor.": frozenset(
        {"you-can-change-sponsor"}
    ),
    "Social and leisure activities beyond meetings, as the patient wishes.": frozenset(
        {"social-and-leisure-activities"}
    ),
}

TWELVE_STEP = "twelve_step"
COMPLEMENTARY = "complementary"
PRESENT = ("yes", "optional")

# The catalog trait that says whether a group's scope covers a substance.
SCOPE_TRAITS: Mapping[str, str] = {
    "opioids": "covers_opioids",
    "alcohol": "covers_alcohol",
    "cocaine": "covers_cocaine",
    "methamphetamine": "covers_methamphetamine",
    "cannabis": "covers_cannabis",
    "benzodiazepines": "covers_benzodiazepines",
    "other": "covers_other_drugs",
}


@dataclass(frozen=True)
class Text:
    """A message kept untranslated with its parameters, so a menu saved today reads
    in any language later (the counsellor's page, the patient's handout)."""

    message: str
    params: tuple[tuple[str, str | int], ...] = ()

    def __str__(self) -> str:
        return _(self.message) % dict(self.params) if self.params else _(self.message)

    def as_dict(self) -> dict[str, object]:
        return {"message": self.message, "params": dict(self.params)}


def T(message: str, **params: str | int) -> Text:
    return Text(message, tuple(sorted(params.items())))


# --- Input ------------------------------------------------------------------


@dataclass(frozen=True)
class PreviousGroup:
    group: str
    experience: Experience


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


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    locator: str


@dataclass(frozen=True)
class Fact:
    """A group's value for one trait, as the catalog records it."""

    value: str  # yes, no, optional, varies (unknown facts are absent)
    source: Source | None


@dataclass(frozen=True)
class Place:
    country: str
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

    def has(self, trait: str) -> bool:
        fact = self.facts.get(trait)
        return fact is not None and fact.value in PRESENT

    def value(self, trait: str) -> str:
        fact = self.facts.get(trait)
        return fact.value if fact else "unknown"


@dataclass(frozen=True)
class Evidence:
    study: str  # the study's DOI
    theme: str
    quote: str
    speaker: str


@dataclass(frozen=True)
class FindingSnapshot:
    trait: str
    direction: Literal["supports", "caution"]
    evidence: Evidence
    text: str  # for counsellors
    key: str = ""  # the study finding's key


@dataclass(frozen=True)
class CatalogSnapshot:
    groups: tuple[GroupSnapshot, ...]
    findings: Mapping[str, tuple[FindingSnapshot, ...]] = field(default_factory=dict)

    def findings_for(self, trait: str, direction: str) -> tuple[FindingSnapshot, ...]:
        return tuple(f for f in self.findings.get(trait, ()) if f.direction == direction)


# --- Output -----------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One visible part of a score: a reason (points > 0) or a caution (points <= 0)."""

    text: Text
    points: float
    trait: str | None
    source: Source | None
    evidence: tuple[Evidence, ...] = ()

    @property
    def is_caution(self) -> bool:
        return self.points < 0


@dataclass(frozen=True)
class Option:
    group: str
    name: str
    kind: str
    rank: int
    score: float
    parts: tuple[Part, ...]
    note: Text | None = None  # e.g. why a group the patient left is at the end

    @property
    def fit(self) -> tuple[Part, ...]:
        return tuple(part for part in self.parts if not part.is_caution)

    @property
    def cautions(self) -> tuple[Part, ...]:
        return tuple(part for part in self.parts if part.is_caution)

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        seen: dict[Evidence, None] = {}
        for part in self.parts:
            for item in part.evidence:
                seen.setdefault(item, None)
        return tuple(seen)


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


# --- Rules ------------------------------------------------------------------


class _Scorer:
    """Collects the parts of one group's score."""

    def __init__(self, group: GroupSnapshot, snapshot: CatalogSnapshot) -> None:
        self.group = group
        self.snapshot = snapshot
        self.parts: list[Part] = []

    def add(
        self,
        points: float,
        text: Text,
        trait: str | None = None,
        source: Source | None = None,
        *,
        absent: bool = False,
    ) -> None:
        """Add a part; its source is the trait's, unless the rule names another.

        Its evidence is the findings on the trait: those that support it for a fit it
        gives, those that caution on it for a caution. A part about a trait the group
        *lacks* (``absent``) turns that round: a secular group fits because of what
        the studies caution about a higher power.
        """
        fact = self.group.facts.get(trait) if trait else None
        direction = "supports" if (points > 0) != absent else "caution"
        found = self.snapshot.findings_for(trait, direction) if trait else ()
        # A rule that names the findings it rests on cites those; others cite every
        # finding on the trait in the part's direction.
        named = RULE_FINDINGS.get(text.message)
        if named:
            found = tuple(f for f in found if f.key in named) or found
        evidence = tuple(f.evidence for f in found)
        source = source or (fact.source if fact else None)
        self.parts.append(Part(text, points, trait, source, evidence))

    def catalog_entry(self, locator: str) -> Source:
        """The curated catalog entry itself, for facts recorded on the group."""
        return Source(_("Catalog entry: %(name)s") % {"name": self.group.name}, "", _(locator))


def _exclusion(profile: Profile, group: GroupSnapshot) -> Text | None:
    if not group.active:
        return T(gettext_noop("The catalog marks it as possibly no longer active."))
    if group.value("women_only") == "yes" and profile.gender != "female":
        return T(gettext_noop("It is for women only."))
    if profile.substances:
        scopes = [group.value(SCOPE_TRAITS[s]) for s in profile.substances]
        if scopes and all(scope == "no" for scope in scopes):
            return T(gettext_noop("Its scope covers none of the patient's substances."))
    if profile.attendance == "online" and group.value("online_meetings") == "no":
        places_online = [place for place in group.places if place.online == "yes"]
        if not places_online:
            return T(gettext_noop("It holds no online meetings."))
    if profile.attendance == "in_person" and profile.country:
        here = [p for p in group.places if p.country == profile.country]
        if here and all(p.in_person_per_week == 0 for p in here):
            return T(
                gettext_noop("It holds no in-person meetings in %(country)s."),
                country=profile.country,
            )
    return None


def _spirituality(profile: Profile, s: _Scorer) -> None:
    g = s.group
    if profile.spirituality == "averse":
        if g.has("higher_power"):
            s.add(
                w.SPIRITUALITY_AVERSE_HIGHER_POWER,
                T(
                    gettext_noop(
                        "A higher power is part of the programme; the patient is averse to it."
                    )
                ),
                "higher_power",
            )
        elif g.value("higher_power") == "unknown":
            s.add(
                w.AVAILABILITY_UNKNOWN,
                T(gettext_noop("Whether a higher power is part of it is not recorded.")),
                source=s.catalog_entry(gettext_noop("higher power")),
            )
        elif g.value("higher_power") == "no":
            s.add(
                w.SPIRITUALITY_AVERSE_SECULAR,
                T(gettext_noop("Secular: no higher power, as the patient prefers.")),
                "higher_power",
                absent=True,
            )
        if g.has("powerlessness"):
            s.add(
                w.SPIRITUALITY_AVERSE_POWERLESSNESS,
                T(
                    gettext_noop(
                        "Members are asked to admit powerlessness, which some find a negative focus."
                    )
                ),
                "powerlessness",
            )
    elif profile.spirituality == "welcome" and g.has("higher_power"):
        s.add(
            w.SPIRITUALITY_WELCOME_HIGHER_POWER,
            T(gettext_noop("Spiritual principles are part of it, which the patient welcomes.")),
            "higher_power",
        )


def _format(profile: Profile, s: _Scorer) -> None:
    g = s.group
    wanted = {
        "sharing": (
            "narrative_sharing",
            T(gettext_noop("Members share their experience in turns, as the patient prefers.")),
        ),
        "dialogue": (
            "dialogue_feedback",
            T(
                gettext_noop(
                    "Members talk with each other and give feedback, as the patient prefers."
                )
            ),
        ),
        "skills": (
            "skills_tools",
            T(gettext_noop("Structured skills tools (CBT, worksheets), as the patient prefers.")),
        ),
    }
    if profile.format in wanted:
        trait, text = wanted[profile.format]
        if g.has(trait):
            s.add(w.FORMAT_MATCH, text, trait)
    if (
        profile.format == "dialogue"
        and g.has("narrative_sharing")
        and g.value("dialogue_feedback") == "no"
    ):
        s.add(
            w.FORMAT_SHARING_WITHOUT_DIALOGUE,
            T(
                gettext_noop(
                    "Meetings are for sharing in turns without dialogue; the patient wants dialogue."
                )
            ),
            "narrative_sharing",
        )


def _support(profile: Profile, s: _Scorer) -> None:
    g = s.group
    if profile.wants_sponsor == "yes" and g.has("sponsorship"):
        s.add(
            w.SPONSOR_WANTED,
            T(gettext_noop("Offers a sponsor, as the patient wishes.")),
            "sponsorship",
        )
    if profile.wants_sponsor == "no" and g.value("sponsorship") == "yes":
        s.add(
            w.SPONSOR_NOT_WANTED,
            T(
                gettext_noop(
                    "Sponsorship is part of the programme; the patient does not want a sponsor."
                )
            ),
            "sponsorship",
        )
    if profile.wants_social_activities and g.has("social_activities"):
        s.add(
            w.SOCIAL_ACTIVITIES,
            T(
                gettext_noop(
                    "Social and leisure activities beyond meetings, as the patient wishes."
                )
            ),
            "social_activities",
        )


def _goal(profile: Profile, s: _Scorer) -> None:
    g = s.group
    if profile.goal == "moderation":
        if g.value("total_abstinence") == "yes":
            s.add(
                w.MODERATION_TOTAL_ABSTINENCE,
                T(gettext_noop("Its goal is total abstinence; the patient's goal is moderation.")),
                "total_abstinence",
            )
        if g.has("moderation_possible"):
            s.add(
                w.MODERATION_POSSIBLE,
                T(gettext_noop("There is room for a goal other than abstinence.")),
                "moderation_possible",
            )
    elif profile.goal == "abstinence" and g.value("total_abstinence") == "yes":
        s.add(
            w.ABSTINENCE_MATCH,
            T(gettext_noop("Its goal is total abstinence, like the patient's.")),
            "total_abstinence",
        )


def _medication(profile: Profile, s: _Scorer) -> None:
    g = s.group
    if profile.on_medication_treatment:
        value = g.value("oat_welcome")
        if value == "yes":
            s.add(
                w.MEDICATION_WELCOME,
                T(gettext_noop("People in medication treatment are fully welcome.")),
                "oat_welcome",
            )
        elif value == "varies":
            s.add(
                w.MEDICATION_VARIES,
                T(
                    gettext_noop(
                        "How people in medication treatment are received varies between local groups."
                    )
                ),
                "oat_welcome",
                absent=True,
            )
        elif value == "no":
            s.add(
                w.MEDICATION_NOT_WELCOME,
                T(gettext_noop("People in medication treatment are not fully welcome.")),
                "oat_welcome",
                absent=True,
            )
    if profile.psychiatric_comorbidity:
        if g.has("dual_diagnosis_focus"):
            s.add(
                w.DUAL_DIAGNOSIS_FOCUS,
                T(
                    gettext_noop(
                        "Made for people with both an addiction and a mental health condition."
                    )
                ),
                "dual_diagnosis_focus",
            )
        if g.has("psychiatric_medication_discussable"):
            s.add(
                w.PSYCHIATRIC_MEDICATION_DISCUSSABLE,
                T(gettext_noop("Psychiatric medication is accepted and can be talked about.")),
                "psychiatric_medication_discussable",
            )
        if g.has("narrative_sharing") and not g.has("dual_diagnosis_focus"):
            s.add(
                w.COMORBIDITY_NARRATIVE_SHARING,
                T(
                    gettext_noop(
                        "Some people with psychiatric comorbidity find it hard to share in the round."
                    )
                ),
                "narrative_sharing",
            )


def _population(profile: Profile, s: _Scorer) -> None:
    g = s.group
    if profile.trauma_history and g.has("step_work"):
        s.add(
            w.TRAUMA_STEP_WORK,
            T(gettext_noop("Step 5 means confiding in a sponsor; it hurt some trauma survivors.")),
            "step_work",
        )
    if profile.prefers_women_only and profile.gender == "female" and g.has("women_only"):
        s.add(
            w.WOMEN_ONLY_WANTED,
            T(gettext_noop("Women only, as the patient prefers.")),
            "women_only",
        )
    # A substance-specific group (one with a recorded scope) that covers none of the
    # patient's substances for certain: its scope for them is unknown or no.
    recorded = [trait for trait in SCOPE_TRAITS.values() if trait in g.facts]
    covered = [g.has(SCOPE_TRAITS[substance]) for substance in profile.substances]
    if profile.substances and recorded and not any(covered):
        s.add(
            w.SUBSTANCE_SCOPE_UNKNOWN,
            T(
                gettext_noop(
                    "Its focus is other substances; whether it covers the patient's is not recorded."
                )
            ),
            source=g.facts[recorded[0]].source,
        )


def _access(profile: Profile, s: _Scorer) -> None:
    g = s.group
    wanted = set(profile.languages)
    if wanted:
        # Meetings the patient can reach: in their country, or online.
        reachable = [
            p
            for p in g.places
            if not profile.country
            or profile.attendance == "online"
            or p.country == profile.country
            or p.online == "yes"
        ]
        place = next((p for p in reachable if wanted & set(p.languages)), None)
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
                source=s.catalog_entry(gettext_noop("languages")),
            )
    if profile.country and profile.attendance != "online":
        here = [p for p in g.places if p.country == profile.country]
        counted = [p for p in here if p.in_person_per_week]
        if counted:
            s.add(
                w.MEETS_IN_COUNTRY,
                T(
                    gettext_noop("About %(count)d in-person meetings a week in %(country)s."),
                    count=sum(p.in_person_per_week or 0 for p in counted),
                    country=profile.country,
                ),
                source=counted[0].source,
            )
        elif not here:
            s.add(
                w.AVAILABILITY_UNKNOWN,
                T(
                    gettext_noop(
                        "Whether it meets in %(country)s is not recorded; check before referring."
                    ),
                    country=profile.country,
                ),
                source=s.catalog_entry(gettext_noop("availability")),
            )
    online_unknown = g.value("online_meetings") == "unknown"
    if (
        profile.attendance == "online"
        and online_unknown
        and not any(p.online == "yes" for p in g.places)
    ):
        s.add(
            w.AVAILABILITY_UNKNOWN,
            T(gettext_noop("Whether it meets online is not recorded; check before referring.")),
            source=s.catalog_entry(gettext_noop("online meetings")),
        )


def _history(profile: Profile, s: _Scorer) -> Text | None:
    told = Source(_("The patient's own account at intake"), "", _("previous groups"))
    for previous in profile.previous_groups:
        if previous.group != s.group.slug:
            continue
        if previous.experience == "negative":
            s.add(
                w.PREVIOUS_NEGATIVE,
                T(gettext_noop("The patient left it after a negative experience.")),
                source=told,
            )
            return T(
                gettext_noop("Left after a negative experience: shown last, for the conversation.")
            )
        if previous.experience == "positive":
            s.add(
                w.PREVIOUS_POSITIVE,
                T(gettext_noop("The patient has had a good experience with it.")),
                source=told,
            )
    return None


def _raw(parts: tuple[Part, ...] | list[Part]) -> float:
    return w.BASE + sum(part.points for part in parts)


def _score(parts: list[Part]) -> float:
    """The shown score, clipped to [0, 1]; ranking uses the unclipped sum."""
    return round(min(1.0, max(0.0, _raw(parts))), 4)


def _order(option: Option) -> tuple[float, str, str]:
    return (-round(_raw(option.parts), 6), option.name, option.group)


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


def match(profile: Profile, snapshot: CatalogSnapshot, *, size: int = w.MENU_SIZE) -> Menu:
    """Rank the catalog for one profile. Same input, same menu."""
    excluded: list[Exclusion] = []
    scored: list[Option] = []
    dropped: list[Option] = []
    for group in sorted(snapshot.groups, key=lambda g: g.slug):
        if group.kind == COMPLEMENTARY:
            continue
        reason = _exclusion(profile, group)
        if reason:
            excluded.append(Exclusion(group.slug, group.name, reason))
            continue
        scorer = _Scorer(group, snapshot)
        _spirituality(profile, scorer)
        _format(profile, scorer)
        _support(profile, scorer)
        _goal(profile, scorer)
        _medication(profile, scorer)
        _population(profile, scorer)
        _access(profile, scorer)
        note = _history(profile, scorer)
        option = Option(
            group.slug, group.name, group.kind, 0, _score(scorer.parts), tuple(scorer.parts), note
        )
        (dropped if note else scored).append(option)

    scored.sort(key=_order)
    chosen = _diverse(scored, max(size, w.MINIMUM_OPTIONS))
    chosen.sort(key=_order)
    dropped.sort(key=_order)
    options = tuple(
        Option(o.group, o.name, o.kind, rank, o.score, o.parts, o.note)
        for rank, o in enumerate([*chosen, *dropped], start=1)
    )
    return Menu(profile.reference, options, _complementary(profile, snapshot), tuple(excluded))


def _complementary(profile: Profile, snapshot: CatalogSnapshot) -> tuple[Suggestion, ...]:
    suggestions = []
    for group in sorted(snapshot.groups, key=lambda g: g.slug):
        if group.kind != COMPLEMENTARY or not group.active:
            continue
        if _exclusion(profile, group):
            continue
        if profile.trauma_history and group.has("trauma_focus"):
            evidence = tuple(f.evidence for f in snapshot.findings_for("trauma_focus", "supports"))
            suggestions.append(
                Suggestion(
                    group.slug,
                    group.name,
                    T(
                        gettext_noop(
                            "Beside whichever group is chosen: support for survivors of trauma."
                        )
                    ),
                    evidence,
                )
            )
    return tuple(suggestions)
