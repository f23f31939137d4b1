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


def parts_of(menu, slug):
    return option(menu, slug).parts


def caution_on(menu, slug, trait):
    return [p for p in option(menu, slug).cautions if p.trait == trait]


def everyone(menu):
    return [
        *(o.group for o in menu.options),
        *(o.group for o in menu.considered),
        *(e.group for e in menu.excluded),
        *(s.group for s in menu.complementary),
    ]


def test_women_only_groups_are_excluded_for_anyone_but_women():
    for gender in ("male", "nonbinary", "unspecified"):
        menu = match(Profile("P-1", gender=gender), catalog())
        assert "wfs" not in slugs(menu)
        assert any(e.group == "wfs" and "women only" in str(e.reason) for e in menu.excluded)
    for_a_woman = match(Profile("P-1", gender="female"), catalog(), size=10)
    assert "wfs" in slugs(for_a_woman)
    assert "wfs" not in [e.group for e in for_a_woman.excluded]


def test_a_group_whose_membership_covers_none_of_the_substances_is_excluded():
    menu = match(Profile("P-1", substances=("opioids", "cocaine")), catalog())
    assert "aa" in [e.group for e in menu.excluded]
    menu = match(Profile("P-1", substances=("alcohol",)), catalog())
    aa = option(menu, "aa")
    assert any(p.kind == "fit" and p.trait == "covers_alcohol" for p in aa.parts)


def test_a_membership_that_asks_for_a_psychiatric_condition_excludes_without_one():
    menu = match(Profile("P-1"), catalog())
    assert any(e.group == "dra" and "psychiatric condition" in str(e.reason) for e in menu.excluded)
    with_one = match(Profile("P-1", psychiatric_comorbidity=True), catalog())
    assert option(with_one, "dra").rank == 1


def test_an_unverified_scope_is_a_caution_not_an_exclusion():
    menu = match(Profile("P-1", substances=("opioids",)), catalog(), size=10)
    (part,) = caution_on(menu, "ca", "covers_opioids")
    assert part.value == "unknown" and str(part.text).startswith("Not verified")
    assert "ca" not in [e.group for e in menu.excluded]


def test_inactive_groups_are_excluded_with_the_reason():
    menu = match(Profile("P-1", gender="female", psychiatric_comorbidity=True), catalog())
    assert [e.group for e in menu.excluded] == ["sos"]
    assert "no longer active" in str(menu.excluded[0].reason)


def test_unknown_availability_in_the_country_is_a_caution_and_the_country_is_named():
    menu = match(Profile("P-1", country="NO", attendance="in_person"), catalog(), size=10)
    assert any("not recorded" in str(p.text) for p in option(menu, "ca").cautions)
    assert any("meetings a week in Norway" in str(p.text) for p in option(menu, "na").fit)


def test_a_worldwide_presence_is_said_instead_of_not_recorded():
    snapshot = catalog()
    worldwide = group("big", places=[place_in("", per_week=70000)])
    menu = match(
        Profile("P-1", country="US", attendance="in_person"),
        CatalogSnapshot((*snapshot.groups, worldwide), snapshot.findings),
        size=20,
    )
    texts = [str(p.text) for p in parts_of(menu, "big")]
    assert any("70,000 in-person meetings a week worldwide" in t for t in texts)
    assert not any("United States is not recorded" in t for t in texts)


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
    (powerlessness,) = caution_on(menu, "na", "powerlessness")
    assert [e.finding for e in powerlessness.evidence] == ["powerlessness-negative-focus"]
    assert option(menu, "na").score < menu.options[0].score


def test_an_unrecorded_higher_power_weighs_as_much_as_a_recorded_one_and_says_so():
    menu = match(Profile("P-1", spirituality="averse"), catalog(), size=10)
    (unverified,) = caution_on(menu, "ca", "higher_power")
    (recorded,) = caution_on(menu, "aa", "higher_power")
    assert unverified.points == recorded.points < 0
    assert str(unverified.text).startswith("Not verified")
    assert unverified.value == "unknown" and recorded.value == "yes"


def test_a_group_with_the_same_score_but_less_documented_ranks_below():
    twins = (
        group("documented", higher_power="yes"),
        group("gap", kind="twelve_step"),
        group("secular", kind="secular", higher_power="no"),
    )
    menu = match(Profile("P-1", spirituality="averse"), CatalogSnapshot(twins), size=10)
    assert option(menu, "documented").score == option(menu, "gap").score
    assert option(menu, "documented").rank < option(menu, "gap").rank


def test_dual_diagnosis_fellowship_scores_for_psychiatric_comorbidity():
    menu = match(Profile("P-1", psychiatric_comorbidity=True), catalog(), size=10)
    (focus,) = [p for p in option(menu, "dra").fit if p.trait == "dual_diagnosis_focus"]
    assert [e.finding for e in focus.evidence] == ["psychiatric-comorbidity"]


def test_a_group_left_after_a_negative_experience_drops_but_stays_with_a_note():
    menu = match(Profile("P-1", previous_groups=(PreviousGroup("na", "negative"),)), catalog())
    last = menu.options[-1]
    assert last.group == "na"
    assert last.note is not None and "negative experience" in str(last.note)


def test_a_mixed_experience_is_a_caution_to_talk_through():
    menu = match(Profile("P-1", previous_groups=(PreviousGroup("na", "mixed"),)), catalog())
    na = option(menu, "na")
    assert na.note is None
    assert any("mixed" in str(p.text) for p in na.cautions)


def test_the_reasons_a_patient_left_demote_groups_that_share_them_saying_so():
    left = PreviousGroup("na", "negative", ("perceived-negative-focus",))
    menu = match(Profile("P-1", previous_groups=(left,)), catalog(), size=10)
    (shared,) = caution_on(menu, "na", "powerlessness")
    assert "a reason the patient left NA" in str(shared.text)
    assert [e.finding for e in shared.evidence] == ["powerlessness-negative-focus"]
    assert not caution_on(menu, "smart-recovery", "powerlessness") or all(
        p.value == "unknown" for p in caution_on(menu, "smart-recovery", "powerlessness")
    )


def test_wanting_a_sponsor_cautions_on_a_group_without_sponsors():
    menu = match(Profile("P-1", wants_sponsor="yes"), catalog(), size=10)
    (caution,) = caution_on(menu, "smart-recovery", "sponsorship")
    assert caution.value == "no" and caution.points < 0


def test_meeting_languages_the_patient_does_not_speak_are_a_caution():
    menu = match(Profile("P-1", country="NO", languages=("ar",)), catalog(), size=10)
    assert any("languages the patient does not speak" in str(p.text) for p in parts_of(menu, "na"))
    nb = match(Profile("P-1", country="NO", languages=("nb",)), catalog(), size=10)
    assert any(p.kind == "fit" and "language" in str(p.text) for p in parts_of(nb, "na"))


def test_an_undecided_goal_favours_room_to_choose_ones_goal():
    menu = match(Profile("P-1", goal="undecided"), catalog(), size=10)
    assert any(p.trait == "moderation_possible" for p in option(menu, "smart-recovery").fit)
    assert caution_on(menu, "na", "total_abstinence")


def test_the_trauma_caution_weighs_more_than_a_language_match():
    menu = match(
        Profile("P-1", trauma_history=True, languages=("nb",), country="NO"), catalog(), size=10
    )
    (step_five,) = caution_on(menu, "na", "step_work")
    language = next(p for p in option(menu, "na").fit if "language" in str(p.text))
    assert -step_five.points > 2 * language.points
    assert step_five.evidence[0].speakers == ("Celine",)


def test_averse_to_labels_and_a_recent_relapse_speak_to_the_traits_behind_them():
    snapshot = catalog()
    labelled = group("lab", addict_label="yes", clean_time_counting="yes")
    menu = match(
        Profile("P-1", averse_to_labels=True, recent_relapse=True),
        CatalogSnapshot((*snapshot.groups, labelled), snapshot.findings),
        size=20,
    )
    assert caution_on(menu, "lab", "addict_label")[0].value == "yes"
    assert caution_on(menu, "lab", "clean_time_counting")[0].value == "yes"


def test_testimony_about_one_fellowship_is_cited_on_that_fellowship_only():
    menu = match(Profile("P-1", goal="abstinence"), catalog(), size=10)
    na = [e.finding for p in parts_of(menu, "na") for e in p.evidence]
    ca = [e.finding for p in parts_of(menu, "ca") for e in p.evidence]
    assert "na-early-recovery-support" in na
    assert "na-early-recovery-support" not in ca


def test_a_fact_for_one_country_holds_there_only():
    on_treatment = Profile("P-1", on_medication_treatment=True, country="NO")
    menu = match(on_treatment, catalog(), size=10)
    assert any(p.trait == "oat_welcome" for p in option(menu, "user-organization").fit)
    elsewhere = match(replace(on_treatment, country="BE"), catalog(), size=10)
    (unverified,) = caution_on(elsewhere, "user-organization", "oat_welcome")
    assert unverified.value == "unknown"


def test_trauma_history_suggests_complementary_support_beside_the_menu():
    menu = match(Profile("P-1", trauma_history=True), catalog())
    assert [s.group for s in menu.complementary] == ["trauma-support"]
    assert menu.complementary[0].evidence
    assert "trauma-support" not in slugs(menu)


def test_without_trauma_history_trauma_support_is_considered_with_the_reason():
    menu = match(Profile("P-1"), catalog())
    assert menu.complementary == ()
    considered = next(o for o in menu.considered if o.group == "trauma-support")
    assert [e.finding for p in considered.parts for e in p.evidence] == ["trauma-not-assumed"]


def test_the_score_is_the_visible_sum_of_its_parts_base_included_and_unclipped():
    profile = Profile(
        "P-1",
        on_medication_treatment=True,
        format="dialogue",
        wants_sponsor="no",
        goal="moderation",
        spirituality="averse",
    )
    menu = match(profile, catalog())
    smart = option(menu, "smart-recovery")
    assert smart.parts[0].kind == "base" and smart.parts[0].points == 0.5
    for opt in (*menu.options, *menu.considered):
        assert opt.score == round(sum(part.points for part in opt.parts), 2)
    assert smart.score > 1.0


def test_the_menu_holds_both_kinds_even_when_preferences_favour_one():
    profile = Profile("P-1", spirituality="averse", format="skills", goal="moderation")
    menu = match(profile, catalog(), size=3)
    kinds = {o.kind == "twelve_step" for o in menu.options}
    assert kinds == {True, False}
    assert len(menu.options) >= 3


def test_groups_not_on_the_menu_are_considered_with_their_reasons():
    menu = match(Profile("P-1", psychiatric_comorbidity=True), catalog(), size=3)
    assert len(menu.options) == 3
    assert {o.group for o in menu.considered} >= {"aa", "ca"}
    assert all(o.rank == 0 and len(o.parts) > 1 for o in menu.considered)


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
            reasons=st.lists(
                st.sampled_from(
                    ["perceived-negative-focus", "conformity-pressure", "difficulty-with-strategy"]
                ),
                max_size=2,
                unique=True,
            ).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
    averse_to_labels=st.booleans(),
    recent_relapse=st.booleans(),
)
VALUES = st.sampled_from(["yes", "no", "optional", "varies"])
TRAITS = st.sampled_from(
    [
        "addict_label",
        "clean_time_counting",
        "requires_psychiatric_condition",
        "psychiatric_medication_accepted",
        "peer_led",
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
@given(PROFILES, catalogs())
def test_every_group_lands_exactly_once(profile, snapshot):
    menu = match(profile, snapshot)
    assert sorted(everyone(menu)) == sorted(g.slug for g in snapshot.groups)


@settings(max_examples=200, deadline=None)
@given(PROFILES, catalogs())
def test_no_option_without_a_reason_beyond_the_base(profile, snapshot):
    menu = match(profile, snapshot)
    for opt in (*menu.options, *menu.considered):
        assert opt.parts[0].kind == "base"
        assert len(opt.parts) > 1, opt


@settings(max_examples=200, deadline=None)
@given(PROFILES, st.sampled_from([catalog()]))
def test_every_part_carries_its_source_and_only_evidence_that_applies(profile, snapshot):
    menu = match(profile, snapshot)
    for opt in (*menu.options, *menu.considered):
        for part in opt.parts[1:]:
            assert part.source is not None, part
            for item in part.evidence:
                assert item.summary
                assert snapshot.findings[item.finding].applies_to(opt.group)
                assert not item.quote or (item.speakers and len(item.quote.split()) >= 5)


RULED_TRAITS = [
    "higher_power",
    "powerlessness",
    "addict_label",
    "narrative_sharing",
    "dialogue_feedback",
    "skills_tools",
    "sponsorship",
    "step_work",
    "peer_led",
    "social_activities",
    "total_abstinence",
    "moderation_possible",
    "clean_time_counting",
    "oat_welcome",
    "dual_diagnosis_focus",
    "psychiatric_medication_accepted",
    "psychiatric_medication_discussable",
    "women_only",
    "covers_opioids",
    "covers_alcohol",
]


def _with_value(snapshot, target, trait, value):
    facts = {k: v for k, v in target.facts.items() if k != trait}
    if value != "unknown":
        facts[trait] = group("x", **{trait: value}).facts[trait]
    changed = replace(target, facts=facts)
    return CatalogSnapshot(
        tuple(changed if g.slug == target.slug else g for g in snapshot.groups), snapshot.findings
    )


def _score_of(menu, slug):
    return next((o.score for o in (*menu.options, *menu.considered) if o.group == slug), None)


@settings(max_examples=300, deadline=None)
@given(PROFILES, catalogs(), st.sampled_from(RULED_TRAITS))
def test_an_unrecorded_fact_never_scores_better_than_a_recorded_one(profile, snapshot, trait):
    """Unknown scores exactly as the least favourable recorded value: learning that value
    never moves a group up, and learning any other never moves it down."""
    if not snapshot.groups:
        return
    target = snapshot.groups[0]
    unknown = _score_of(
        match(profile, _with_value(snapshot, target, trait, "unknown")), target.slug
    )
    scores = [
        _score_of(match(profile, _with_value(snapshot, target, trait, value)), target.slug)
        for value in ("yes", "no", "optional", "varies")
    ]
    if unknown is None or None in scores:
        return  # excluded with one of the values: a hard constraint, not a score
    assert all(score >= unknown for score in scores)
    menu = match(profile, _with_value(snapshot, target, trait, "unknown"))
    parts = [
        p for o in (*menu.options, *menu.considered) if o.group == target.slug for p in o.parts
    ]
    unverified = [p for p in parts if p.trait == trait and p.value == "unknown"]
    assert len(unverified) <= 1
    # Exactly the least favourable value, unless every value would count in its favour.
    assert min(scores) == unknown or (unverified and unverified[0].points == 0)


def test_language_fit_counts_only_meetings_the_patient_can_reach():
    snapshot = catalog()
    abroad = group("abroad", languages=(), places=[replace(place_in("BE"), languages=("nl",))])
    menu = match(
        Profile("P-1", country="NO", attendance="in_person", languages=("nl",)),
        CatalogSnapshot((*snapshot.groups, abroad), snapshot.findings),
        size=20,
    )
    parts = parts_of(menu, "abroad")
    assert not any(p.kind == "fit" and "language" in str(p.text) for p in parts)


def test_a_complementary_group_follows_the_hard_constraints_too():
    snapshot = catalog()
    women = group("women-trauma", kind="complementary", trauma_focus="yes", women_only="yes")
    menu = match(
        Profile("P-1", gender="male", trauma_history=True),
        CatalogSnapshot((*snapshot.groups, women), snapshot.findings),
    )
    assert [s.group for s in menu.complementary] == ["trauma-support"]


def test_every_answer_of_the_profile_has_one_label_for_the_form():
    from typing import get_args

    from referrals import matching

    answers = {
        "gender": matching.Gender,
        "substances": matching.Substance,
        "goal": matching.Goal,
        "spirituality": matching.Spirituality,
        "format": matching.Format,
        "wants_sponsor": matching.Choice,
        "attendance": matching.Attendance,
        "experience": matching.Experience,
    }
    for name, answer in answers.items():
        assert sorted(matching.LABELS[name]) == sorted(get_args(answer)), name
