from __future__ import annotations

import pytest

from catalog.models import Group, Trait
from studies.models import (
    MIN_QUOTE_WORDS,
    SUMMARY_MAX_LENGTH,
    Finding,
    FindingTrait,
    Participant,
    Quote,
    ReferenceText,
    Study,
    Theme,
    validate_one_sentence,
    word_count,
)
from studies.reference import normalise, source_text
from studies.sources import is_whole_sentences

pytestmark = pytest.mark.django_db

NORWEGIAN = "vederhus-2020"
PSEUDONYMS = ["Per", "Kari", "Hans", "Ann", "Håkon", "Celine", "Inge", "Oda", "John", "Arne"]
FINAL_THEMES = {
    "The model doesn't fit",
    "Negative experiences spurred frustration",
    "The safe place can become a cage",
}


def test_three_studies_ship_with_their_dois(reference_data):
    assert dict(Study.objects.values_list("key", "doi")) == {
        "vederhus-2020": "10.1186/s13722-020-00191-w",
        "dekkers-2020": "10.1186/s13011-020-00296-0",
        "houghton-2024": "10.1177/29768357241276320",
    }


def test_the_norwegian_coding_tree_is_complete(reference_data):
    themes = Theme.objects.filter(study__key=NORWEGIAN)
    finals = themes.filter(level="final_theme")
    assert {theme.name.replace("\u2019", "'") for theme in finals} == FINAL_THEMES
    assert themes.filter(level="preliminary_theme", parent__level="final_theme").count() == 6
    codes = themes.filter(level="code")
    assert codes.count() == 16
    assert all(code.parent.level == "preliminary_theme" for code in codes)


def test_every_theme_is_reachable_from_its_study_root(reference_data):
    for theme in Theme.objects.select_related("parent"):
        seen = set()
        node = theme
        while node.parent is not None:
            assert node.parent.study_id == theme.study_id
            assert node.pk not in seen, "a cycle in the tree"
            seen.add(node.pk)
            node = node.parent


def test_all_ten_participants_with_what_table_2_reports(reference_data):
    participants = list(Participant.objects.filter(study__key=NORWEGIAN))
    assert [p.pseudonym for p in participants] == PSEUDONYMS
    per = participants[0]
    assert (per.age, per.gender) == (46, "male")
    assert per.details["years_use_before_na"] == "28"
    assert sum(p.gender == "female" for p in participants) == 4
    assert all(len(p.details) == 4 for p in participants)


def test_every_quote_is_verbatim_in_its_shipped_source(reference_data):
    quotes = Quote.objects.select_related("study")
    assert quotes.filter(study__key=NORWEGIAN).count() >= 20
    for quote in quotes:
        source = normalise(source_text(quote.study.source_text))
        assert normalise(quote.text) in source, quote.key


def test_every_participants_quote_is_attributed_to_a_participant_and_a_theme(reference_data):
    for quote in Quote.objects.filter(study__key=NORWEGIAN).prefetch_related("themes"):
        assert quote.themes.exists(), quote.key
        assert quote.translated and quote.original_language == "nb"
        if quote.kind != Quote.Kind.PHRASE:
            assert quote.speaker is not None, quote.key
    speakers = set(
        Quote.objects.filter(study__key=NORWEGIAN)
        .exclude(kind=Quote.Kind.PHRASE)
        .values_list("speaker__pseudonym", flat=True)
    )
    assert {"Celine", "Kari", "Ann", "Arne", "Per", "Hans", "Inge"} <= speakers


def test_na_twelve_traditions_ship_as_reference_text(reference_data):
    traditions = ReferenceText.objects.get(study__key=NORWEGIAN)
    assert len(traditions.items) == 12
    assert traditions.items[2] == "The only requirement for membership is a desire to stop using"


def test_flemish_and_uk_frameworks(reference_data):
    chime = set(
        Theme.objects.filter(study__key="dekkers-2020", level="category").values_list(
            "name", flat=True
        )
    )
    assert chime == {
        "Connectedness",
        "Hope",
        "Identity",
        "Meaning in life",
        "Empowerment",
        "Difficulties",
    }
    elements = Theme.objects.filter(study__key="dekkers-2020", level="element")
    assert any("judgemental" in e.name or "judgmental" in e.name for e in elements)
    assert Theme.objects.filter(study__key="houghton-2024", level="symptom").count() == 8


@pytest.mark.parametrize(
    "trait",
    [
        "powerlessness",
        "step_work",
        "sponsorship",
        "narrative_sharing",
        "dialogue_feedback",
        "total_abstinence",
        "dual_diagnosis_focus",
        "oat_welcome",
        "social_activities",
        "trauma_focus",
        "addict_label",
        "clean_time_counting",
    ],
)
def test_findings_speak_to_the_traits_the_brief_names(reference_data, trait):
    assert FindingTrait.objects.filter(trait__key=trait).exists()


def test_every_finding_links_existing_traits_and_has_both_statements(reference_data):
    trait_keys = set(Trait.objects.values_list("key", flat=True))
    for finding in Finding.objects.prefetch_related("trait_links__trait"):
        links = list(finding.trait_links.all())
        assert links, finding.key
        assert {link.trait.key for link in links} <= trait_keys
        assert finding.counsellor_text and finding.patient_text, finding.key


def test_loading_twice_changes_nothing(reference_data):
    from studies.reference import load_studies

    before = (Quote.history.count(), Theme.objects.count(), Finding.objects.count())
    summary = load_studies()
    assert summary.created == 0
    assert (Quote.history.count(), Theme.objects.count(), Finding.objects.count()) == before


# --- Quotes are participants' words, findings are summarised and located -----

FINDING_KEYS = [
    "powerlessness-negative-focus",
    "step-five-trauma-survivors",
    "trauma-complementary-support",
    "narrative-sharing-without-dialogue",
    "strict-step-structure-burden",
    "social-and-leisure-activities",
    "psychiatric-comorbidity",
    "opioid-maintenance-treatment",
    "relapse-all-or-nothing",
    "hierarchy-of-success",
    "pressure-to-conform",
    "shared-stories-may-spread",
    "you-can-change-sponsor",
    "safe-place-becomes-cage",
    "advice-comorbidity-alternatives",
    "advice-take-time-before-sharing",
    "advice-lean-on-the-group-early",
    "advice-try-another-resource",
    "twelve-steps-valued-by-leavers",
    "na-early-recovery-support",
    "na-builds-social-network",
    "na-safety-net-sounding-board",
    "non-judgemental-peers",
    "mutual-understanding-sharing",
    "heroin-network-pull",
    "trauma-not-assumed",
]


def test_every_finding_key_the_matcher_may_name_is_kept(reference_data):
    assert set(FINDING_KEYS) <= set(Finding.objects.values_list("key", flat=True))


def test_every_finding_has_a_one_sentence_summary_and_a_locator(reference_data):
    for finding in Finding.objects.all():
        assert finding.locator, finding.key
        assert finding.summary, finding.key
        assert len(finding.summary) <= SUMMARY_MAX_LENGTH, finding.key
        validate_one_sentence(finding.summary)


def test_a_findings_fellowship_is_blank_or_a_catalog_group(reference_data):
    slugs = set(Group.objects.values_list("slug", flat=True))
    fellowships = set(Finding.objects.exclude(fellowship="").values_list("fellowship", flat=True))
    assert fellowships <= slugs
    assert Finding.objects.get(key="na-early-recovery-support").fellowship == "na"
    assert Finding.objects.get(key="powerlessness-negative-focus").fellowship == ""


def test_no_finding_is_illustrated_by_a_phrase(reference_data):
    assert not Finding.objects.filter(quote__kind=Quote.Kind.PHRASE).exists()
    for finding in Finding.objects.select_related("quote").exclude(quote=None):
        assert finding.quote.study_id == finding.study_id, finding.key


def test_every_participants_quote_is_whole_sentences_of_its_source(reference_data):
    quotes = Quote.objects.exclude(kind=Quote.Kind.PHRASE).select_related("study")
    assert quotes.count() >= 15
    for quote in quotes:
        source = source_text(quote.study.source_text)
        assert quote.speaker_id is not None, quote.key
        assert word_count(quote.text) >= MIN_QUOTE_WORDS, quote.key
        assert is_whole_sentences(quote.text, source), quote.key


@pytest.mark.parametrize(
    "fragment", ["NA way", "messed up", "all or nothing", "own way", "break loose", "loser"]
)
def test_fragments_of_the_authors_narration_are_phrases_without_a_speaker(reference_data, fragment):
    quote = Quote.objects.get(study__key=NORWEGIAN, text=fragment)
    assert (quote.kind, quote.speaker) == (Quote.Kind.PHRASE, None)


def test_the_findings_that_used_fragments_no_longer_do(reference_data):
    assert Finding.objects.get(key="opioid-maintenance-treatment").quote is None
    assert Finding.objects.get(key="psychiatric-comorbidity").quote is None


def _links(key: str) -> set[tuple[str, str]]:
    return set(FindingTrait.objects.filter(finding__key=key).values_list("trait__key", "direction"))


def test_the_addict_label_finding_rests_on_celines_words(reference_data):
    finding = Finding.objects.select_related("quote__speaker", "theme").get(
        key="addiction-explains-everything"
    )
    assert finding.theme.key == "everything-hinged-on-addiction"
    assert finding.quote.text == "they hinge everything on addiction"
    assert finding.quote.speaker.pseudonym == "Celine"
    assert _links(finding.key) == {("addict_label", "caution")}


@pytest.mark.parametrize(
    "key", ["clean-days-counted", "relapse-all-or-nothing", "hierarchy-of-success"]
)
def test_counting_clean_days_is_a_caution(reference_data, key):
    assert ("clean_time_counting", "caution") in _links(key)
