"""The controlled vocabulary of traits, owned by the code.

The matcher reads traits by key, so the vocabulary is defined here rather than
curated: ``load_reference_data`` writes it to the ``Trait`` table. Labels and
help texts are marked for translation and translated when displayed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop as _


@dataclass(frozen=True)
class TraitDefinition:
    key: str
    dimension: str
    label: str
    help_text: str


VOCABULARY: tuple[TraitDefinition, ...] = (
    # Philosophy
    TraitDefinition(
        "higher_power",
        "philosophy",
        _("Higher power or spirituality"),
        _("A higher power or spiritual principles are part of the programme."),
    ),
    TraitDefinition(
        "powerlessness",
        "philosophy",
        _("Powerlessness concept"),
        _("Members are asked to admit that they are powerless over their addiction."),
    ),
    TraitDefinition(
        "disease_model",
        "philosophy",
        _("Disease model"),
        _("Addiction is framed as a disease."),
    ),
    TraitDefinition(
        "addict_label",
        "philosophy",
        _("Members call themselves addicts"),
        _("Members introduce themselves as addicts or alcoholics."),
    ),
    TraitDefinition(
        "self_empowerment",
        "philosophy",
        _("Strengths and self-empowerment"),
        _("The programme builds on the person's own strengths and self-direction."),
    ),
    # Goal
    TraitDefinition(
        "total_abstinence",
        "goal",
        _("Total abstinence"),
        _("Abstinence from all substances, alcohol and cannabis included, is the goal."),
    ),
    TraitDefinition(
        "moderation_possible",
        "goal",
        _("Room for moderation"),
        _("There is room for moderation or a goal other than abstinence."),
    ),
    # Medication
    TraitDefinition(
        "oat_welcome",
        "medication",
        _("Opioid maintenance fully welcome"),
        _("People in opioid maintenance or other medication treatment are fully welcome."),
    ),
    TraitDefinition(
        "psychiatric_medication_accepted",
        "medication",
        _("Psychiatric medication accepted"),
        _(
            "Prescribed psychiatric medication taken as directed is accepted; "
            "it is not seen as a relapse."
        ),
    ),
    TraitDefinition(
        "psychiatric_medication_discussable",
        "medication",
        _("Psychiatric medication can be discussed in meetings"),
        _("Members can talk about their psychiatric medication in meetings."),
    ),
    # Format
    TraitDefinition(
        "narrative_sharing",
        "format",
        _("Narrative sharing without cross-talk"),
        _("Members take turns sharing their experience; others do not respond directly."),
    ),
    TraitDefinition(
        "dialogue_feedback",
        "format",
        _("Dialogue and feedback"),
        _("Members talk with each other and give feedback."),
    ),
    TraitDefinition(
        "skills_tools",
        "format",
        _("Structured skills tools"),
        _("Structured tools such as CBT techniques and worksheets."),
    ),
    TraitDefinition(
        "trained_facilitator",
        "format",
        _("Trained facilitator"),
        _("Meetings are led by trained facilitators."),
    ),
    TraitDefinition(
        "peer_led",
        "format",
        _("Peer-led"),
        _("Meetings are led by the members themselves."),
    ),
    TraitDefinition(
        "social_activities",
        "format",
        _("Social and leisure activities"),
        _("Activities beyond meetings: social events, leisure, education."),
    ),
    # Support structure
    TraitDefinition(
        "sponsorship",
        "support",
        _("Sponsorship"),
        _("A more experienced member guides a newer member outside meetings."),
    ),
    TraitDefinition(
        "step_work",
        "support",
        _("Step work"),
        _("Members work through a sequence of steps, usually with a sponsor."),
    ),
    TraitDefinition(
        "clean_time_counting",
        "support",
        _("Clean time counted"),
        _("Clean time is counted and celebrated; after a relapse the count starts again."),
    ),
    TraitDefinition(
        "mentoring",
        "support",
        _("Mentoring"),
        _("Some form of mentor function is offered."),
    ),
    # Population
    TraitDefinition(
        "women_only",
        "population",
        _("Women only"),
        _("Meetings are for women only."),
    ),
    TraitDefinition(
        "requires_psychiatric_condition",
        "population",
        _("Membership asks for a psychiatric condition"),
        _(
            "Membership is for people with both an addiction and an emotional or "
            "psychiatric illness."
        ),
    ),
    TraitDefinition(
        "dual_diagnosis_focus",
        "population",
        _("Dual diagnosis focus"),
        _("For people with both a substance use problem and a mental health condition."),
    ),
    TraitDefinition(
        "trauma_focus",
        "population",
        _("Trauma focus"),
        _("For survivors of trauma or sexual abuse."),
    ),
    TraitDefinition(
        "substance_specific",
        "population",
        _("Focused on specific substances"),
        _("Founded around one substance or a few; members share that problem."),
    ),
    TraitDefinition(
        "covers_alcohol", "population", _("Covers alcohol"), _("Alcohol problems are in scope.")
    ),
    TraitDefinition(
        "covers_opioids", "population", _("Covers opioids"), _("Opioid problems are in scope.")
    ),
    TraitDefinition(
        "covers_cocaine", "population", _("Covers cocaine"), _("Cocaine problems are in scope.")
    ),
    TraitDefinition(
        "covers_methamphetamine",
        "population",
        _("Covers methamphetamine"),
        _("Methamphetamine problems are in scope."),
    ),
    TraitDefinition(
        "covers_cannabis",
        "population",
        _("Covers cannabis"),
        _("Cannabis problems are in scope."),
    ),
    TraitDefinition(
        "covers_benzodiazepines",
        "population",
        _("Covers benzodiazepines"),
        _("Benzodiazepine problems are in scope."),
    ),
    TraitDefinition(
        "covers_other_drugs",
        "population",
        _("Covers other drugs"),
        _("Problems with other drugs are in scope."),
    ),
    # Access
    TraitDefinition(
        "online_meetings",
        "access",
        _("Online meetings"),
        _("The group offers meetings online."),
    ),
    TraitDefinition(
        "free_of_charge",
        "access",
        _("Free of charge"),
        _("There are no dues or fees."),
    ),
)

TRAIT_KEYS = frozenset(definition.key for definition in VOCABULARY)
