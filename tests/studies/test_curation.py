from __future__ import annotations

import json

import pytest

from curation.imports import ImportRefused
from studies import interchange
from studies.models import Finding, FindingTrait, Quote, Study, Theme
from tests.curation import pages

pytestmark = pytest.mark.django_db


def _quote_data(quote: Quote) -> dict[str, object]:
    return {
        "text": quote.text,
        "speaker": quote.speaker_id or "",
        "themes": [theme.pk for theme in quote.themes.all()],
        "locator": quote.locator,
        "kind": quote.kind,
        "translated": "on" if quote.translated else "",
        "original_language": quote.original_language,
    }


def test_a_quote_that_is_not_in_the_source_is_refused(admin_client_, reference_data):
    quote = Quote.objects.filter(study__key="vederhus-2020").first()
    path = f"/studies/vederhus-2020/quotes/{quote.key}/edit/"
    data = _quote_data(quote)
    data["text"] = quote.text + " And then I made this up."
    response = admin_client_.post(path, data)
    assert "A quote must be verbatim" in response.content.decode()
    quote.refresh_from_db()
    assert not quote.text.endswith("made this up.")


def test_a_quote_may_differ_in_spacing_and_quotation_marks(admin_client_, reference_data):
    quote = Quote.objects.filter(study__key="vederhus-2020").first()
    data = _quote_data(quote)
    data["text"] = "  " + quote.text.replace(" ", "  ", 1).replace("\u2019", "'") + "\n"
    data["locator"] = "Checked against the PDF"
    response = admin_client_.post(f"/studies/vederhus-2020/quotes/{quote.key}/edit/", data)
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.locator == "Checked against the PDF"


def _finding_data(finding: Finding, links: list[tuple[int, str]]) -> dict[str, object]:
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
        "traits-INITIAL_FORMS": 0,
    }
    existing = list(finding.trait_links.all())
    data["traits-INITIAL_FORMS"] = len(existing)
    for index, (trait_id, direction) in enumerate(links):
        if index < len(existing):
            data[f"traits-{index}-id"] = existing[index].pk
        data[f"traits-{index}-trait"] = trait_id
        data[f"traits-{index}-direction"] = direction
        data[f"traits-{index}-finding"] = finding.pk
    return data


def test_admin_edits_a_finding_and_undoes_it_from_the_history(admin_client_, reference_data):
    finding = Finding.objects.filter(study__key="vederhus-2020").first()
    original = finding.counsellor_text
    links = [(link.trait_id, link.direction) for link in finding.trait_links.all()]
    data = _finding_data(finding, links)
    data["counsellor_text"] = "Reworded for counsellors."
    assert (
        admin_client_.post(f"/studies/vederhus-2020/findings/{finding.key}/edit/", data).status_code
        == 302
    )
    finding.refresh_from_db()
    assert finding.counsellor_text == "Reworded for counsellors."

    history = admin_client_.get("/studies/vederhus-2020/history/")
    entry = history.context["page"][0]
    assert entry.kind == "finding"
    assert "Reworded for counsellors." in history.content.decode()
    admin_client_.post(f"/studies/vederhus-2020/history/finding/{entry.record.history_id}/undo/")
    finding.refresh_from_db()
    assert finding.counsellor_text == original


def test_a_finding_needs_at_least_one_trait(admin_client_, reference_data):
    finding = Finding.objects.filter(study__key="vederhus-2020").first()
    data = _finding_data(
        finding, [(link.trait_id, link.direction) for link in finding.trait_links.all()]
    )
    for index in range(int(data["traits-INITIAL_FORMS"])):
        data[f"traits-{index}-DELETE"] = "on"
    response = admin_client_.post(f"/studies/vederhus-2020/findings/{finding.key}/edit/", data)
    assert "at least one trait" in response.content.decode()
    assert FindingTrait.objects.filter(finding=finding).exists()


def test_export_import_round_trip_is_exact(reference_data):
    exported = interchange.export_json()
    summary = interchange.apply(interchange.parse_json(exported), reason="test")
    assert (summary.created, summary.replaced) == (0, 0)
    assert interchange.export_json() == exported


def test_an_imported_study_replaces_the_present_one(admin_client_, reference_data):
    document = json.loads(admin_client_.get("/studies/export.json").content)
    study = next(s for s in document["studies"] if s["key"] == "dekkers-2020")
    study["sample"] = "Eleven members of NA in Flanders."
    data = json.dumps(document).encode()
    response = pages.import_file(
        admin_client_, "/studies/import/", "studies.json", data, follow=True
    )
    assert "1 replaced" in response.content.decode()
    assert Study.objects.get(key="dekkers-2020").sample == "Eleven members of NA in Flanders."


def _rejected(document: dict[str, object]) -> list[str]:
    before = (Study.objects.count(), Theme.objects.count(), Quote.objects.count())
    with pytest.raises(ImportRefused) as caught:
        interchange.apply(interchange.parse_json(json.dumps(document).encode()), reason="test")
    assert (Study.objects.count(), Theme.objects.count(), Quote.objects.count()) == before
    return caught.value.errors


def test_bad_study_files_are_rejected_whole_naming_where(reference_data):
    document = json.loads(interchange.export_json())
    norwegian = next(s for s in document["studies"] if s["key"] == "vederhus-2020")
    norwegian["quotes"][0]["speaker"] = "Nobody"
    norwegian["quotes"][1]["themes"] = ["no-such-theme"]
    norwegian["findings"][0]["traits"][0]["trait"] = "flying"
    norwegian["findings"][1]["traits"][0]["direction"] = "maybe"
    norwegian["themes"][0]["level"] = "chapter"
    errors = _rejected(document)
    where = "Study “vederhus-2020”"
    quotes = [f"{where}, quote “{norwegian['quotes'][n]['key']}”" for n in (0, 1)]
    findings = [f"{where}, finding “{norwegian['findings'][n]['key']}”" for n in (0, 1)]
    theme = f"{where}, theme “{norwegian['themes'][0]['key']}”"
    assert any(e.startswith(f"{quotes[0]}, field “speaker”: ") and "Nobody" in e for e in errors)
    assert any(
        e.startswith(f"{quotes[1]}, field “themes”: ") and "no-such-theme" in e for e in errors
    )
    assert f"{findings[0]}, trait “flying”: unknown trait “flying”." in "\n".join(errors)
    assert any(e.startswith(f"{findings[1]}, trait “") and "“direction”" in e for e in errors)
    assert any(e.startswith(f"{theme}, field “level”: ") and "final_theme" in e for e in errors)
    assert len(errors) == 5, errors


def test_missing_fields_and_empty_files_are_rejected(reference_data):
    document = json.loads(interchange.export_json())
    norwegian = next(s for s in document["studies"] if s["key"] == "vederhus-2020")
    del norwegian["quotes"][0]["text"]
    errors = _rejected(document)
    quote = norwegian["quotes"][0]["key"]
    assert any(
        e.startswith(f"Study “vederhus-2020”, quote “{quote}”: missing field(s): text")
        for e in errors
    ), errors
    with pytest.raises(ImportRefused):
        interchange.parse_json(b"", "studies.json")
    with pytest.raises(ImportRefused):
        interchange.parse_json("ø".encode("latin-1"), "studies.json")


def test_odd_values_in_a_study_file_are_errors_not_crashes(reference_data):
    document = json.loads(interchange.export_json())
    norwegian = next(s for s in document["studies"] if s["key"] == "vederhus-2020")
    dekkers = next(s for s in document["studies"] if s["key"] == "dekkers-2020")
    dekkers["doi"] = norwegian["doi"]
    norwegian["themes"][0]["key"] = {"not": "text"}
    norwegian["source_text"] = "../../config/settings.py"
    errors = _rejected(document)
    assert any(e.startswith("The file's studies: DOI") and "appears twice" in e for e in errors)
    assert any(
        e.startswith("Study “vederhus-2020”, theme number 1: ") and "must be text" in e
        for e in errors
    ), errors
    assert any(
        e.startswith("Study “vederhus-2020”, field “source_text”: ") and "not a source text" in e
        for e in errors
    ), errors


def test_study_history_queries_do_not_grow_with_its_history(
    admin_client_, reference_data, max_queries
):
    with max_queries(40) as few:
        assert admin_client_.get("/studies/vederhus-2020/history/").status_code == 200
    finding = Finding.objects.filter(study__key="vederhus-2020").first()
    for number in range(10):
        finding.applies_when = f"case {number}"
        finding.save()
    with max_queries(few.number):
        assert admin_client_.get("/studies/vederhus-2020/history/").status_code == 200
