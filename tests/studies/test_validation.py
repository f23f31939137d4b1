"""Participants' words, phrases and findings: the rules in the model, the forms and the import."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from catalog.models import Group
from curation.imports import ImportRefused
from studies import interchange
from studies.evidence import what_the_studies_say
from studies.models import Finding, Quote

pytestmark = pytest.mark.django_db

NORWEGIAN = "vederhus-2020"
CUT = "can be liberating. For me it"


def _quote_data(quote: Quote, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "text": quote.text,
        "speaker": quote.speaker_id or "",
        "themes": [theme.pk for theme in quote.themes.all()],
        "locator": quote.locator,
        "kind": quote.kind,
        "translated": "on" if quote.translated else "",
        "original_language": quote.original_language,
    }
    data.update(changes)
    return data


def _edit_quote(client, quote: Quote, **changes: object):
    path = f"/studies/{NORWEGIAN}/quotes/{quote.key}/edit/"
    return client.post(path, _quote_data(quote, **changes))


def test_a_quote_edit_that_cuts_a_sentence_is_refused(admin_client_, reference_data):
    quote = Quote.objects.get(study__key=NORWEGIAN, key="celine-fifth-step-vulnerable")
    response = _edit_quote(admin_client_, quote, text=CUT)
    assert response.status_code == 200
    assert "cuts a sentence" in response.content.decode()
    quote.refresh_from_db()
    assert quote.text.startswith("It is very vulnerable.")


def test_a_participants_quote_needs_five_words_and_a_speaker(admin_client_, reference_data):
    quote = Quote.objects.get(study__key=NORWEGIAN, key="celine-hinge-everything")
    page = _edit_quote(admin_client_, quote, text="messed up").content.decode()
    assert "Text: a block or inline quote has at least 5 words" in page
    page = _edit_quote(admin_client_, quote, speaker="").content.decode()
    assert "Speaker: a block or inline quote is a participant&#x27;s own words" in page


def test_a_phrase_may_be_a_few_words_without_a_speaker(admin_client_, reference_data):
    phrase = Quote.objects.get(study__key=NORWEGIAN, key="na-way")
    response = _edit_quote(admin_client_, phrase, locator="Results, opening paragraphs")
    assert response.status_code == 302
    phrase.refresh_from_db()
    assert phrase.locator == "Results, opening paragraphs"


def test_a_quote_illustrating_a_finding_cannot_become_a_phrase(admin_client_, reference_data):
    quote = Quote.objects.get(study__key=NORWEGIAN, key="kari-looked-down-on")
    page = _edit_quote(admin_client_, quote, kind="phrase").content.decode()
    assert "Kind: this quote illustrates the finding(s) hierarchy-of-success" in page
    quote.refresh_from_db()
    assert quote.kind == Quote.Kind.INLINE


def test_a_fragment_is_refused_as_a_findings_illustrating_quote(reference_data):
    finding = Finding.objects.get(key="opioid-maintenance-treatment")
    finding.quote = Quote.objects.get(study__key=NORWEGIAN, key="na-way")
    with pytest.raises(ValidationError) as caught:
        finding.full_clean()
    assert "Illustrating quote: “na-way” is a phrase" in caught.value.message_dict["quote"][0]


def test_the_model_refuses_a_cut_sentence_naming_the_text(reference_data):
    quote = Quote.objects.get(study__key=NORWEGIAN, key="celine-fifth-step-vulnerable")
    quote.text = CUT
    with pytest.raises(ValidationError) as caught:
        quote.full_clean()
    assert "cuts a sentence" in caught.value.message_dict["text"][0]


def _finding_data(finding: Finding, **changes: object) -> dict[str, object]:
    links = list(finding.trait_links.all())
    data: dict[str, object] = {
        "theme": finding.theme_id,
        "quote": finding.quote_id or "",
        "summary": finding.summary,
        "fellowship": finding.fellowship,
        "locator": finding.locator,
        "counsellor_text": finding.counsellor_text,
        "patient_text": finding.patient_text,
        "applies_when": finding.applies_when,
        "traits-TOTAL_FORMS": len(links),
        "traits-INITIAL_FORMS": len(links),
    }
    for index, link in enumerate(links):
        data[f"traits-{index}-id"] = link.pk
        data[f"traits-{index}-trait"] = link.trait_id
        data[f"traits-{index}-direction"] = link.direction
        data[f"traits-{index}-finding"] = finding.pk
    data.update(changes)
    return data


def _edit_finding(client, finding: Finding, **changes: object):
    path = f"/studies/{NORWEGIAN}/findings/{finding.key}/edit/"
    return client.post(path, _finding_data(finding, **changes))


def test_a_finding_is_saved_with_its_summary_fellowship_and_locator(admin_client_, reference_data):
    finding = Finding.objects.get(key="shared-stories-may-spread")
    response = _edit_finding(
        admin_client_,
        finding,
        summary="A patient should know that stories shared in meetings may travel.",
        fellowship="na",
        locator="Results, anonymity breaches",
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert (finding.fellowship, finding.locator) == ("na", "Results, anonymity breaches")


def test_the_finding_form_refuses_two_sentences_a_phrase_and_an_unknown_group(
    admin_client_, reference_data
):
    finding = Finding.objects.get(key="opioid-maintenance-treatment")
    phrase = Quote.objects.get(study__key=NORWEGIAN, key="na-way")
    response = _edit_finding(
        admin_client_,
        finding,
        summary="Inge relapsed. He then needed treatment.",
        quote=phrase.pk,
        fellowship="no-such-group",
    )
    form = response.context["form"]
    assert "one sentence" in form.errors["summary"][0]
    assert "quote" in form.errors
    assert "fellowship" in form.errors
    finding.refresh_from_db()
    assert finding.quote is None


# --- Import ------------------------------------------------------------------


def _norwegian(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    studies = document["studies"]
    study = next(s for s in studies if s["key"] == NORWEGIAN)
    return f"Study “{NORWEGIAN}”", study


def _errors(document: dict[str, Any]) -> list[str]:
    before = interchange.export_json()
    with pytest.raises(ImportRefused) as caught:
        interchange.apply(interchange.parse_json(json.dumps(document).encode()), reason="test")
    assert interchange.export_json() == before
    return caught.value.errors


def _at(study: dict[str, Any], part: str, key: str) -> int:
    return next(i for i, item in enumerate(study[part]) if item["key"] == key)


def test_an_import_refuses_a_phrase_as_a_findings_quote_naming_the_finding(reference_data):
    document = json.loads(interchange.export_json())
    where, study = _norwegian(document)
    index = _at(study, "findings", "psychiatric-comorbidity")
    study["findings"][index]["quote"] = "messed-up"
    errors = _errors(document)
    expected = f"{where}, finding “psychiatric-comorbidity”, field “quote”: "
    assert any(e.startswith(expected) and "“messed-up” is a phrase" in e for e in errors), errors


def test_an_import_refuses_quotes_that_cut_a_sentence_or_are_fragments(reference_data):
    document = json.loads(interchange.export_json())
    where, study = _norwegian(document)
    cut = _at(study, "quotes", "celine-fifth-step-vulnerable")
    study["quotes"][cut]["text"] = CUT
    fragment = _at(study, "quotes", "celine-hinge-everything")
    study["quotes"][fragment].update(text="hinge everything", speaker=None)
    errors = _errors(document)
    cut_at = f"{where}, quote “celine-fifth-step-vulnerable”, field “text”: "
    fragment_at = f"{where}, quote “celine-hinge-everything”"
    assert any(e.startswith(cut_at) and "cuts a sentence" in e for e in errors), errors
    assert any(
        e.startswith(f"{fragment_at}, field “text”: ") and "at least 5 words" in e for e in errors
    )
    assert any(e.startswith(f"{fragment_at}, field “speaker”: ") for e in errors), errors


def test_an_import_refuses_a_summary_of_two_sentences_and_an_unknown_fellowship(reference_data):
    document = json.loads(interchange.export_json())
    where, study = _norwegian(document)
    index = _at(study, "findings", "hierarchy-of-success")
    study["findings"][index]["summary"] = "Some feel judged. Others do not."
    study["findings"][index]["fellowship"] = "no-such-group"
    errors = _errors(document)
    at = f"{where}, finding “hierarchy-of-success”"
    assert any(e.startswith(f"{at}, field “summary”: ") and "one sentence" in e for e in errors)
    assert any(
        e.startswith(f"{at}, field “fellowship”: ") and "no-such-group" in e for e in errors
    ), errors


def test_an_import_refuses_a_finding_without_summary_or_locator(reference_data):
    document = json.loads(interchange.export_json())
    where, study = _norwegian(document)
    del study["findings"][0]["summary"]
    study["findings"][1]["locator"] = ""
    errors = _errors(document)
    first, second = (f"{where}, finding “{study['findings'][n]['key']}”" for n in (0, 1))
    assert any(e.startswith(f"{first}: missing field(s): summary") for e in errors), errors
    assert any(e.startswith(f"{second}, field “locator”: ") for e in errors), errors


def test_the_export_carries_the_new_fields_and_kinds_and_round_trips(reference_data):
    exported = interchange.export_json()
    _where, study = _norwegian(json.loads(exported))
    finding = study["findings"][_at(study, "findings", "na-early-recovery-support")]
    assert finding["fellowship"] == "na"
    assert finding["summary"] and finding["locator"]
    assert study["quotes"][_at(study, "quotes", "messed-up")]["kind"] == "phrase"
    summary = interchange.apply(interchange.parse_json(exported), reason="test")
    assert (summary.created, summary.replaced) == (0, 0)
    assert interchange.export_json() == exported


def test_the_shipped_data_loads_on_a_fresh_database(db):
    call_command("load_reference_data", stdout=None)
    assert Finding.objects.filter(study__key=NORWEGIAN).count() >= 24
    assert Quote.objects.filter(kind=Quote.Kind.PHRASE).exists()


# --- Pages -------------------------------------------------------------------


def test_a_finding_about_a_fellowship_is_cited_on_that_fellowship_only(reference_data):
    finding = Finding.objects.get(key="pressure-to-conform")
    cited_on = {
        group.slug
        for group in Group.objects.all()
        if any(item.finding == finding for item in what_the_studies_say(group))
    }
    assert cited_on == {"na"}


def test_the_theme_page_shows_phrases_as_the_authors_wording(counsellor_client, reference_data):
    response = counsellor_client.get(f"/studies/{NORWEGIAN}/themes/double-trouble/")
    phrases = [quote.key for quote in response.context["phrases"]]
    assert "messed-up" in phrases
    assert "messed-up" not in [quote.key for quote in response.context["quotes"]]
    page = response.content.decode()
    assert "Quoted in the authors' account" in page
    assert "— Per" not in page and "— John" not in page
