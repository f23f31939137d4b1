"""Hand-built catalog snapshots for testing the matcher without a database."""

from __future__ import annotations

from referrals.matching import (
    CatalogSnapshot,
    Evidence,
    Fact,
    FindingSnapshot,
    GroupSnapshot,
    Place,
    data_source,
)

SOURCE = data_source("A source", "https://example.org/source", "p. 1")


def group(
    slug: str,
    kind: str = "twelve_step",
    places=(),
    active=True,
    languages=("en",),
    local=None,
    **traits: str,
) -> GroupSnapshot:
    return GroupSnapshot(
        slug=slug,
        name=slug.upper(),
        kind=kind,
        languages=tuple(languages),
        facts={key: Fact(value, SOURCE) for key, value in traits.items()},
        places=tuple(places),
        active=active,
        local_facts={key: Fact(value, SOURCE) for key, value in (local or {}).items()},
    )


def place(country: str = "NO", per_week: int | None = 10, online: str = "unknown") -> Place:
    return Place(country, "", per_week, online, ("nb",), SOURCE)


def finding(
    key: str,
    *traits: tuple[str, str],
    quote: str = "I said a whole sentence about it.",
    speakers: tuple[str, ...] = ("Kari",),
    fellowship: str = "",
) -> FindingSnapshot:
    return FindingSnapshot(
        key,
        Evidence("10.1/study", key, f"What {key} means.", "A theme", quote, speakers, "Results"),
        traits,
        fellowship,
    )


def catalog() -> CatalogSnapshot:
    """A small catalog in the shape of the real one."""
    groups = (
        group(
            "na",
            higher_power="yes",
            powerlessness="yes",
            narrative_sharing="yes",
            dialogue_feedback="no",
            sponsorship="yes",
            step_work="yes",
            total_abstinence="yes",
            oat_welcome="varies",
            covers_opioids="yes",
            covers_alcohol="yes",
            peer_led="yes",
            places=[place()],
        ),
        group(
            "aa",
            higher_power="yes",
            sponsorship="yes",
            covers_alcohol="yes",
            covers_opioids="no",
            covers_cocaine="no",
        ),
        group("ca", covers_cocaine="yes", step_work="yes"),
        group(
            "dra",
            higher_power="yes",
            dual_diagnosis_focus="yes",
            requires_psychiatric_condition="yes",
            psychiatric_medication_discussable="yes",
            step_work="yes",
        ),
        group(
            "smart-recovery",
            kind="secular",
            higher_power="no",
            sponsorship="no",
            skills_tools="yes",
            dialogue_feedback="yes",
            oat_welcome="yes",
            moderation_possible="optional",
            total_abstinence="optional",
            powerlessness="no",
            places=[place(online="yes")],
        ),
        group("wfs", kind="secular", women_only="yes", higher_power="no"),
        group("sos", kind="secular", active=False, higher_power="no"),
        group(
            "user-organization",
            kind="user_organisation",
            dialogue_feedback="yes",
            social_activities="yes",
            local={("oat_welcome", "NO"): "yes"},
        ),
        group("trauma-support", kind="complementary", trauma_focus="yes"),
    )
    findings = (
        finding("powerlessness-negative-focus", ("powerlessness", "caution")),
        finding("psychiatric-comorbidity", ("dual_diagnosis_focus", "supports")),
        finding("trauma-complementary-support", ("trauma_focus", "supports")),
        finding("trauma-not-assumed", ("trauma_focus", "caution"), quote="", speakers=()),
        finding("step-five-trauma-survivors", ("step_work", "caution"), speakers=("Celine",)),
        finding("shared-stories-may-spread", ("narrative_sharing", "caution")),
        finding("safe-place-becomes-cage", ("step_work", "caution"), ("sponsorship", "caution")),
        finding(
            "na-early-recovery-support",
            ("total_abstinence", "supports"),
            speakers=("Hans",),
            fellowship="na",
        ),
    )
    return CatalogSnapshot(groups, {f.key: f for f in findings})
