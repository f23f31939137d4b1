from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping

import pytest

from catalog import interchange
from catalog.models import Availability, Group, Source, TraitValue
from curation.imports import ImportRefused

pytestmark = pytest.mark.django_db


def _tables(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def _zip(tables: Mapping[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in tables.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _snapshot() -> tuple[int, int, int, int]:
    return (
        Group.objects.count(),
        TraitValue.objects.count(),
        Availability.objects.count(),
        TraitValue.history.count(),
    )


def test_json_round_trip_is_exact(reference_catalog):
    exported = interchange.export_json()
    summary = interchange.apply(interchange.parse_json(exported), reason="test")
    assert (summary.created, summary.updated, summary.deleted) == (0, 0, 0)
    assert interchange.export_json() == exported


def test_csv_round_trip_is_exact(reference_catalog):
    exported = interchange.export_csv_zip()
    assert set(_tables(exported)) == {
        "sources.csv",
        "groups.csv",
        "traits.csv",
        "availability.csv",
    }
    interchange.apply(interchange.parse_csv_zip(exported), reason="test")
    assert interchange.export_csv_zip() == exported


def test_a_file_from_one_catalog_rebuilds_it_in_another(reference_catalog):
    exported = interchange.export_json()
    Availability.objects.all().delete()
    TraitValue.objects.all().delete()
    Group.objects.all().delete()
    interchange.apply(interchange.parse_json(exported), reason="test")
    assert interchange.export_json() == exported


def test_an_import_updates_and_removes_facts_of_listed_groups(reference_catalog):
    document = json.loads(interchange.export_json())
    na = next(group for group in document["groups"] if group["slug"] == "na")
    sponsorship = next(item for item in na["traits"] if item["trait"] == "sponsorship")
    sponsorship["value"] = "varies"
    na["traits"] = [item for item in na["traits"] if item["trait"] != "higher_power"]
    document["groups"] = [na]

    summary = interchange.apply(
        interchange.parse_json(json.dumps(document).encode()), reason="test"
    )

    assert TraitValue.objects.get(group__slug="na", trait__key="sponsorship").value == "varies"
    assert not TraitValue.objects.filter(group__slug="na", trait__key="higher_power").exists()
    assert (summary.updated, summary.deleted) == (1, 1)
    assert "aa" in summary.untouched_groups
    assert Group.objects.filter(slug="aa").exists()


def _rejected(data: bytes, name: str) -> list[str]:
    before = _snapshot()
    with pytest.raises(ImportRefused) as caught:
        interchange.apply(interchange.parse_upload(data, name), reason="test")
    assert _snapshot() == before, "a rejected file must write nothing"
    return caught.value.errors


def test_wrong_columns_are_named(reference_catalog):
    tables = _tables(interchange.export_csv_zip())
    tables["groups.csv"] = tables["groups.csv"].replace("founded", "founding_year", 1)
    errors = _rejected(_zip(tables), "catalog.zip")
    assert any(
        "groups.csv" in e and "missing: founded" in e and "founding_year" in e for e in errors
    )


def test_unknown_slug_is_named_with_its_row(reference_catalog):
    tables = _tables(interchange.export_csv_zip())
    lines = tables["traits.csv"].splitlines()
    lines[1] = "no-such-group," + lines[1].split(",", 1)[1]
    tables["traits.csv"] = "\n".join(lines) + "\n"
    errors = _rejected(_zip(tables), "catalog.zip")
    assert any(e.startswith("traits.csv line 2 (group “no-such-group”, trait") for e in errors)


def test_bad_value_names_row_field_and_allowed_values(reference_catalog):
    document = json.loads(interchange.export_json())
    first, second = document["groups"][:2]
    first["traits"][0]["value"] = "perhaps"
    second["kind"] = "church"
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    trait = first["traits"][0]["trait"]
    assert any(
        e.startswith(f"Group “{first['slug']}”, trait “{trait}”, field “value”: ")
        and "yes, no, optional, varies, unknown" in e
        for e in errors
    ), errors
    assert any(
        e.startswith(f"Group “{second['slug']}”, field “kind”: ") and "twelve_step" in e
        for e in errors
    ), errors


def test_a_known_value_without_source_is_rejected(reference_catalog):
    document = json.loads(interchange.export_json())
    document["groups"][0]["traits"][0]["source"] = ""
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    assert any("needs a source" in e for e in errors), errors


def test_duplicate_rows_are_named(reference_catalog):
    tables = _tables(interchange.export_csv_zip())
    lines = tables["traits.csv"].splitlines()
    tables["traits.csv"] = "\n".join([*lines, lines[1]]) + "\n"
    errors = _rejected(_zip(tables), "catalog.zip")
    assert any(e.endswith("): repeats traits.csv line 2.") for e in errors), errors


def test_empty_files_are_rejected(reference_catalog):
    assert "empty" in _rejected(b"", "catalog.json")[0]
    assert "empty" in _rejected(b"", "catalog.zip")[0]
    tables = _tables(interchange.export_csv_zip())
    tables["groups.csv"] = ""
    assert any("groups.csv: is empty" in e for e in _rejected(_zip(tables), "catalog.zip"))


def test_non_utf8_files_are_rejected(reference_catalog):
    latin1 = interchange.export_json().decode().replace("Høie", "Høie").encode("latin-1", "replace")
    latin1 = latin1 + "Å".encode("latin-1")
    assert "not UTF-8" in _rejected(latin1, "catalog.json")[0]
    tables: dict[str, str | bytes] = dict(_tables(interchange.export_csv_zip()))
    tables["sources.csv"] = str(tables["sources.csv"]).encode("utf-8") + "Ø".encode("latin-1")
    errors = _rejected(_zip(tables), "catalog.zip")
    assert any(e.startswith("sources.csv: is not UTF-8") for e in errors), errors


def test_unknown_fields_and_formats_are_rejected(reference_catalog):
    document = json.loads(interchange.export_json())
    document["groups"][0]["colour"] = "blue"
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    slug = document["groups"][0]["slug"]
    assert any(e.startswith(f"Group “{slug}”: unknown field(s): colour;") for e in errors), errors
    assert "not valid JSON" in _rejected(b"{not json", "catalog.json")[0]
    assert ".json" in _rejected(b"a,b\n", "catalog.xlsx")[0]
    assert "zip" in _rejected(b"a,b\n", "catalog.zip")[0]


def test_a_late_error_leaves_earlier_rows_unwritten(reference_catalog):
    """Every row is valid on its own, but the last one fails when written: all roll back."""
    document = json.loads(interchange.export_json())
    document["sources"].append(
        {"key": "new-source", "title": "New", "publisher": "", "url": "", "kind": "primary"}
    )
    document["groups"][0]["traits"][0]["verified_on"] = "2999-01-01"
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    assert errors
    assert not Source.objects.filter(key="new-source").exists()


def test_rows_differing_only_in_case_are_duplicates(reference_catalog):
    tables = _tables(interchange.export_csv_zip())
    lines = tables["availability.csv"].splitlines()
    first = lines[1].split(",")
    first[1] = first[1].lower()
    tables["availability.csv"] = "\n".join([*lines, ",".join(first)]) + "\n"
    errors = _rejected(_zip(tables), "catalog.zip")
    assert any(e.endswith("): repeats availability.csv line 2.") for e in errors), errors


def test_a_bad_group_row_is_reported_once_not_at_every_fact(reference_catalog):
    document = json.loads(interchange.export_json())
    document["groups"][1]["founded"] = "long ago"
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    slug = document["groups"][1]["slug"]
    assert errors == [f"Group “{slug}”, field “founded”: Enter a whole number."]


def test_a_future_verification_date_names_row_and_field(reference_catalog):
    document = json.loads(interchange.export_json())
    group = document["groups"][0]
    group["traits"][2]["verified_on"] = "2999-01-01"
    group["traits"][3]["verified_on"] = "22/11/2026"
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    future, wrong = (
        f"Group “{group['slug']}”, trait “{group['traits'][n]['trait']}”, field “verified_on”: "
        for n in (2, 3)
    )
    assert any(e.startswith(future) and "future" in e for e in errors), errors
    assert any(e.startswith(wrong) and "YYYY-MM-DD" in e for e in errors), errors


def test_a_rezipped_export_in_a_folder_with_mac_metadata_is_accepted(reference_catalog):
    tables = _tables(interchange.export_csv_zip())
    rezipped = {f"catalog/{name}": text for name, text in tables.items()}
    rezipped["__MACOSX/catalog/._groups.csv"] = "\x00\x05"
    summary = interchange.apply(interchange.parse_csv_zip(_zip(rezipped)), reason="test")
    assert (summary.created, summary.updated, summary.deleted) == (0, 0, 0)


def test_semicolon_separated_tables_get_a_hint(reference_catalog):
    tables = _tables(interchange.export_csv_zip())
    tables["sources.csv"] = tables["sources.csv"].replace(",", ";")
    errors = _rejected(_zip(tables), "catalog.zip")
    assert any("semicolons" in e for e in errors), errors


def test_the_csv_export_opens_as_utf8_in_spreadsheets(reference_catalog):
    with zipfile.ZipFile(io.BytesIO(interchange.export_csv_zip())) as archive:
        assert archive.read("sources.csv").startswith("\ufeff".encode())


def test_a_json_group_with_missing_fields_is_refused_not_wiped(reference_catalog):
    document = {
        "format": "recovery-menu-catalog",
        "version": 1,
        "sources": [],
        "groups": [{"slug": "na", "name": "NA", "kind": "twelve_step", "active": True}],
    }
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    assert any(
        e.startswith("Group “na”: ") and "missing field(s): description" in e for e in errors
    )
    assert any("traits" in e for e in errors)


def test_a_nested_value_in_a_single_value_field_is_refused(reference_catalog):
    document = json.loads(interchange.export_json())
    document["groups"][0]["description"] = {"evil": [1, 2]}
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    slug = document["groups"][0]["slug"]
    assert errors == [f"Group “{slug}”: field(s) description must hold a single value."]


def test_malicious_files_are_rejected_with_a_message(reference_catalog):
    assert "nested more than 8 levels deep" in _rejected(b"[" * 100_000, "catalog.json")[0]

    tables = _tables(interchange.export_csv_zip())
    tables["groups.csv"] = tables["groups.csv"].replace("Narcotics", "x" * 200_000, 1)
    assert any("cannot be read as CSV" in e for e in _rejected(_zip(tables), "catalog.zip"))

    good = interchange.export_csv_zip()
    start = good.index(b"groups.csv") + 40
    corrupt = good[:start] + bytes(b ^ 0xFF for b in good[start : start + 60]) + good[start + 60 :]
    assert _rejected(corrupt, "catalog.zip")


def test_booleans_written_by_spreadsheets_are_understood(reference_catalog):
    tables = _tables(interchange.export_csv_zip())
    tables["groups.csv"] = tables["groups.csv"].replace(",true\n", ",TRUE\n")
    summary = interchange.apply(interchange.parse_csv_zip(_zip(tables)), reason="test")
    assert (summary.created, summary.updated, summary.deleted) == (0, 0, 0)


def test_a_file_from_before_country_websites_keeps_them(reference_catalog):
    """An export made before availability rows had a website still imports, as JSON or
    CSV, and leaves the websites the catalog holds as they are."""
    assert Availability.objects.get(group__slug="na", country="NO").website == (
        "https://nanorge.org/"
    )
    document = json.loads(interchange.export_json())
    for group in document["groups"]:
        for row in group["availability"]:
            del row["website"]
    older = json.dumps(document).encode()
    summary = interchange.apply(interchange.parse_json(older), reason="test", overwrite=True)
    assert (summary.created, summary.updated, summary.deleted) == (0, 0, 0)

    tables = _tables(interchange.export_csv_zip())
    lines = tables["availability.csv"].splitlines()
    header = lines[0].split(",")
    assert header[-1] == "website"
    tables["availability.csv"] = "\n".join(
        [",".join(header[:-1]), *[line.rsplit(",", 1)[0] for line in lines[1:]]]
    )
    interchange.apply(interchange.parse_csv_zip(_zip(tables)), reason="test", overwrite=True)
    assert Availability.objects.get(group__slug="na", country="NO").website == (
        "https://nanorge.org/"
    )


def test_an_imported_country_website_is_set(reference_catalog):
    document = json.loads(interchange.export_json())
    na = next(g for g in document["groups"] if g["slug"] == "na")
    row = next(r for r in na["availability"] if r["country"] == "NO")
    row["website"] = "https://example.no/na/"
    interchange.apply(interchange.parse_json(json.dumps(document).encode()), reason="test")
    assert Availability.objects.get(group__slug="na", country="NO").website == (
        "https://example.no/na/"
    )
