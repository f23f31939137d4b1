"""Hand-built catalog snapshots for testing the matcher without a database."""

from __future__ import annotations

from referrals.matching import (
    CatalogSnapshot,
    Evidence,
    Fact,
    FindingSnapshot,
    GroupSnapshot,
    Place,
    Source,
)

SOURCE = Source("A source", "https://example.org/source", "p. 1")


def group(
    slug: str, kind: str = "twelve_step", places=(), active=True, languages=("en",), **traits: str
) -> GroupSnapshot:
    return GroupSnapshot(
        slug=slug,
        name=slug.upper(),
        kind=kind,
        languages=tuple(languages),
        facts={key: Fact(value, SOURCE) for key, value in traits.items()},
        places=tuple(places),
        active=active,
    )


def place(country: str = "NO", per_week: int | None = 10, online: str = "unknown") -> Place:
    return Place(country, "", per_week, online, ("nb",), SOURCE)


def finding(trait: str, direction: str, quote: str = "A quote.") -> FindingSnapshot:
    return FindingSnapshot(
        trait,
        direction,
        Evidence("10.1/study", "A theme", quote, "Kari"),
        "For counsellors.",
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
            places=[place(online="yes")],
        ),
        group("wfs", kind="secular", women_only="yes", higher_power="no"),
        group("sos", kind="secular", active=False, higher_power="no"),
        group(
            "user-organization",
            kind="user_organisation",
            dialogue_feedback="yes",
            social_activities="yes",
        ),
        group("trauma-support", kind="complementary", trauma_focus="yes"),
    )
    findings = {
        "powerlessness": (
            finding("powerlessness", "caution", "They hinge everything on addiction."),
        ),
        "dual_diagnosis_focus": (finding("dual_diagnosis_focus", "supports"),),
        "trauma_focus": (finding("trauma_focus", "supports"),),
        "narrative_sharing": (finding("narrative_sharing", "caution"),),
    }
    return CatalogSnapshot(groups, findings)
