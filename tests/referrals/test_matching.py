"""The matcher, by example and by property, without the database."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from referrals.matching import (
    CatalogSnapshot,
    PreviousGroup,
    Profile,
    match,
)
from tests.referrals.snapshots import catalog, group
from tests.referrals.snapshots import place as place_in


def slugs(menu) -> list[str]:
    return [option.group for option in menu.options]


def option(menu, slug):
    return next(o for o in menu.options if o.group == slug)


def test_women_only_groups_are_excluded_for_anyone_but_women():
    for gender in ("male", "nonbinary", "unspecified"):
        menu = match(Profile("P-1", gender=gender), catalog())
        assert "wfs" not in slugs(menu)
        assert any(e.group == "wfs" and "women only" in str(e.reason) for e in menu.excluded)
    for_a_woman = match(Profile("P-1", gender="female"), catalog(), size=10)
    assert "wfs" in slugs(for_a_woman)
    assert "wfs" not in [e.group for e in for_a_woman.excluded]


def test_a_substance_specific_group_covering_none_of_the_substances_is_excluded():
    menu = match(Profile("P-1", substances=("opioids", "cocaine")), catalog())
    assert "aa" in [e.group for e in menu.excluded]
    menu = match(Profile("P-1", substances=("alcohol",)), catalog())
    assert "aa" in slugs(menu)


def test_unknown_scope_is_a_caution_not_an_exclusion():
    menu = match(Profile("P-1", substances=("opioids",)), catalog())
    ca = option(menu, "ca")
    assert any("focus is other substances" in str(part.text) for part in ca.cautions)


def test_inactive_groups_are_excluded_with_the_reason():
    menu = match(Profile("P-1", gender="female"), catalog())
    assert [e.group for e in menu.excluded] == ["sos"]
    assert "no longer active" in str(menu.excluded[0].reason)


def test_unknown_availability_in_the_country_is_a_caution():
    menu = match(Profile("P-1", country="NO", attendance="in_person"), catalog())
    assert any("not recorded" in str(p.text) for p in option(menu, "dra").cautions)
    assert any("meetings a week in NO" in str(p.text) for p in option(menu, "na").fit)


def test_known_absence_of_meetings_excludes():
    snapshot = catalog()
    na = next(g for g in snapshot.groups if g.slug == "na")
    closed = replace(na, places=(replace(na.places[0], in_person_per_week=0),))
    groups = tuple(closed if g.slug == "na" else g for g in snapshot.groups)
    menu = match(
        Profile("P-1", country="NO", attendance="in_person"),
        CatalogSnapshot(groups, snapshot.findings),
    )
    assert "na" in [e.group for e in menu.excluded]


def test_averse_to_spirituality_ranks_secular_groups_first_with_evidence():
    menu = match(Profile("P-1", spirituality="averse"), catalog(), size=10)
    assert menu.options[0].kind != "twelve_step"
    na = option(menu, "na")
    assert any(part.trait == "powerlessness" and part.evidence for part in na.cautions)
    assert na.score < menu.options[0].score


def test_dual_diagnosis_fellowship_scores_for_psychiatric_comorbidity():
    without = option(match(Profile("P-1"), catalog()), "dra").score
    with_ = option(match(Profile("P-1", psychiatric_comorbidity=True), catalog()), "dra").score
    assert with_ > without


def test_a_group_left_after_a_negative_experience_drops_but_stays_with_a_note():
    menu = match(Profile("P-1", previous_groups=(PreviousGroup("na", "negative"),)), catalog())
    last = menu.options[-1]
    assert last.group == "na"
    assert last.note is not None and "negative experience" in str(last.note)


def test_trauma_history_suggests_complementary_support_beside_the_menu():
    menu = match(Profile("P-1", trauma_history=True), catalog())
    assert [s.group for s in menu.complementary] == ["trauma-support"]
    assert menu.complementary[0].evidence
    assert "trauma-support" not in slugs(menu)
    assert match(Profile("P-1"), catalog()).complementary == ()


def test_the_score_is_the_visible_sum_of_its_parts():
    menu = match(
        Profile("P-1", spirituality="averse", format="dialogue", on_medication_treatment=True),
        catalog(),
    )
    for opt in menu.options:
        expected = min(1.0, max(0.0, 0.5 + sum(part.points for part in opt.parts)))
        assert opt.score == round(expected, 4)


def test_the_menu_holds_both_kinds_even_when_preferences_favour_one():
    profile = Profile("P-1", spirituality="averse", format="skills", goal="moderation")
    menu = match(profile, catalog(), size=3)
    kinds = {o.kind == "twelve_step" for o in menu.options}
    assert kinds == {True, False}
    assert len(menu.options) >= 3


# --- Properties --------------------------------------------------------------

PROFILES = st.builds(
    Profile,
    reference=st.just("P-1"),
    gender=st.sampled_from(["female", "male", "nonbinary", "unspecified"]),
    country=st.sampled_from([None, "NO", "BE"]),
    languages=st.lists(st.sampled_from(["en", "nb", "nl"]), max_size=2, unique=True).map(tuple),
    substances=st.lists(
        st.sampled_from(
            [
                "opioids",
                "alcohol",
                "cocaine",
                "methamphetamine",
                "cannabis",
                "benzodiazepines",
                "other",
            ]
        ),
        max_size=3,
        unique=True,
    ).map(tuple),
    goal=st.sampled_from(["abstinence", "moderation", "undecided"]),
    on_medication_treatment=st.booleans(),
    psychiatric_comorbidity=st.booleans(),
    trauma_history=st.booleans(),
    spirituality=st.sampled_from(["welcome", "neutral", "averse"]),
    format=st.sampled_from(["sharing", "dialogue", "skills", "no_preference"]),
    wants_sponsor=st.sampled_from(["yes", "no", "no_preference"]),
    wants_social_activities=st.booleans(),
    prefers_women_only=st.booleans(),
    attendance=st.sampled_from(["in_person", "online", "either"]),
    previous_groups=st.lists(
        st.builds(
            PreviousGroup,
            group=st.sampled_from(["na", "aa", "smart-recovery", "wfs"]),
            experience=st.sampled_from(["positive", "mixed", "negative"]),
        ),
        max_size=2,
    ).map(tuple),
)
VALUES = st.sampled_from(["yes", "no", "optional", "varies"])
TRAITS = st.sampled_from(
    [
        "higher_power",
        "powerlessness",
        "narrative_sharing",
        "dialogue_feedback",
        "skills_tools",
        "sponsorship",
        "step_work",
        "total_abstinence",
        "moderation_possible",
        "oat_welcome",
        "dual_diagnosis_focus",
        "psychiatric_medication_discussable",
        "social_activities",
        "women_only",
        "covers_opioids",
        "covers_alcohol",
        "online_meetings",
    ]
)


@st.composite
def catalogs(draw) -> CatalogSnapshot:
    count = draw(st.integers(min_value=0, max_value=8))
    groups = []
    for number in range(count):
        traits = draw(st.dictionaries(TRAITS, VALUES, max_size=8))
        kind = draw(
            st.sampled_from(["twelve_step", "secular", "user_organisation", "complementary"])
        )
        groups.append(group(f"g{number}", kind=kind, **traits))
    return CatalogSnapshot(tuple(groups), catalog().findings)


@settings(max_examples=200, deadline=None)
@given(PROFILES, catalogs())
def test_same_input_same_output(profile, snapshot):
    assert match(profile, snapshot) == match(profile, snapshot)


@settings(max_examples=200, deadline=None)
@given(PROFILES, catalogs())
def test_an_excluded_group_is_never_an_option(profile, snapshot):
    menu = match(profile, snapshot)
    assert not {e.group for e in menu.excluded} & set(slugs(menu))


@settings(max_examples=200, deadline=None)
@given(PROFILES, catalogs())
def test_diversity_holds_whenever_the_catalog_allows(profile, snapshot):
    menu = match(profile, snapshot, size=3)
    excluded = {e.group for e in menu.excluded}
    eligible = [g for g in snapshot.groups if g.kind != "complementary" and g.slug not in excluded]
    assert len(menu.options) >= min(3, len(eligible))
    if any(g.kind == "twelve_step" for g in eligible):
        assert any(o.kind == "twelve_step" for o in menu.options)
    if any(g.kind != "twelve_step" for g in eligible):
        assert any(o.kind != "twelve_step" for o in menu.options)


@settings(max_examples=200, deadline=None)
@given(PROFILES, st.sampled_from([catalog()]))
def test_every_reason_and_caution_carries_evidence_or_a_source(profile, snapshot):
    for opt in match(profile, snapshot).options:
        for part in opt.parts:
            assert part.evidence or part.source is not None, part


@settings(max_examples=200, deadline=None)
@given(PROFILES, catalogs(), TRAITS)
def test_satisfying_one_more_preference_never_lowers_a_score(profile, snapshot, trait):
    """Giving a group a trait the patient wants (yes where the profile asks for it,
    no where the profile is averse) never lowers that group's score."""
    wanted = {
        "dialogue_feedback": profile.format == "dialogue",
        "skills_tools": profile.format == "skills",
        "social_activities": profile.wants_social_activities,
        "dual_diagnosis_focus": profile.psychiatric_comorbidity,
        "oat_welcome": profile.on_medication_treatment,
        "moderation_possible": profile.goal == "moderation",
    }
    if not wanted.get(trait) or not snapshot.groups:
        return
    before = match(profile, snapshot)
    target = snapshot.groups[0]
    facts = dict(target.facts)
    if facts.get(trait) and facts[trait].value == "yes":
        return
    improved = replace(target, facts={**facts, trait: group("x", **{trait: "yes"}).facts[trait]})
    after = match(profile, CatalogSnapshot((improved, *snapshot.groups[1:]), snapshot.findings))
    old = next((o.score for o in before.options if o.group == target.slug), None)
    new = next((o.score for o in after.options if o.group == target.slug), None)
    if old is not None and new is not None:
        assert new >= old


def test_language_fit_counts_only_meetings_the_patient_can_reach():
    snapshot = catalog()
    abroad = group("abroad", languages=(), places=[replace(place_in("BE"), languages=("nl",))])
    menu = match(
        Profile("P-1", country="NO", attendance="in_person", languages=("nl",)),
        CatalogSnapshot((*snapshot.groups, abroad), snapshot.findings),
        size=20,
    )
    assert not any("language" in str(p.text) for p in option(menu, "abroad").parts)


def test_a_complementary_group_follows_the_hard_constraints_too():
    snapshot = catalog()
    women = group("women-trauma", kind="complementary", trauma_focus="yes", women_only="yes")
    menu = match(
        Profile("P-1", gender="male", trauma_history=True),
        CatalogSnapshot((*snapshot.groups, women), snapshot.findings),
    )
    assert [s.group for s in menu.complementary] == ["trauma-support"]


def test_every_rule_that_names_its_findings_is_a_message_of_the_matcher():
    import ast
    from pathlib import Path

    from referrals import matching
    from referrals.matching import RULE_FINDINGS

    tree = ast.parse(Path(matching.__file__).read_text())
    messages = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "gettext_noop"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert set(RULE_FINDINGS) <= messages
