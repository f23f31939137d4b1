"""Importing through the pages: upload, preview, apply; and what is refused on the way."""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import zipfile

import pytest
from django.db.models import F
from django.test import Client

from accounts.roles import Role
from audit.models import AuditEntry
from catalog import interchange
from catalog.models import Availability, Group, Source, TraitValue
from curation.models import PendingImport
from studies.models import Quote, Study
from tests.curation import pages
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IMPORT = "/catalog/import/"


def _catalog() -> tuple[object, ...]:
    """The catalog as its export sees it, with its history and audit trail counted."""
    return (
        interchange.export_json(),
        *(model.history.count() for model in (Source, Group, TraitValue, Availability)),
        AuditEntry.objects.count(),
    )


def _changes() -> bytes:
    """The shipped catalog with a new source, one value changed and one removed."""
    document = json.loads(interchange.export_json())
    document["sources"].append(
        {"key": "new-source", "title": "New", "publisher": "", "url": "", "kind": "primary"}
    )
    na = next(group for group in document["groups"] if group["slug"] == "na")
    sponsorship = next(item for item in na["traits"] if item["trait"] == "sponsorship")
    sponsorship["value"] = "varies"
    na["traits"] = [item for item in na["traits"] if item["trait"] != "higher_power"]
    return json.dumps(document).encode()


def _errors(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return list(response.context["errors"])


@pytest.fixture
def other_admin(organisation):
    return UserFactory(username="admin2", organisation=organisation, roles=[Role.CATALOG_ADMIN])


# --- Upload and preview --------------------------------------------------------


def test_a_valid_upload_is_kept_for_its_uploader_and_previewed(
    admin_client_, catalog_admin, reference_catalog
):
    before = _catalog()
    response = pages.upload(admin_client_, IMPORT, "catalog.json", _changes())
    pending = PendingImport.objects.get()
    assert response["Location"] == f"/catalog/import/{pending.pk}/"
    assert (pending.kind, pending.filename, pending.uploaded_by) == (
        "catalog",
        "catalog.json",
        catalog_admin,
    )
    assert pending.content == _changes()
    assert _catalog() == before, "uploading writes nothing to the catalog"


def test_the_preview_lists_the_changes_by_kind_and_writes_nothing(
    admin_client_, reference_catalog, max_queries
):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    before = _catalog()
    with max_queries(20):
        response = admin_client_.get(preview)
    page = response.content.decode()
    assert _catalog() == before
    assert "Nothing has been written yet." in page
    assert "Group “na”, trait “sponsorship” <span" in page  # with the fields it changes
    assert "(value)" in page
    assert "Group “na”, trait “higher_power”" in page
    assert "Source “new-source”" in page
    counts = {
        section.kind: (section.created, section.updated, section.removed)
        for section in response.context["sections"]
    }
    assert counts == {
        "source": (1, 0, 0),
        "group": (0, 0, 0),
        "trait value": (0, 1, 1),
        "availability": (0, 0, 0),
    }
    assert "Apply these changes" in page


def test_the_preview_costs_the_same_queries_whatever_the_file_changes(
    admin_client_, reference_catalog, max_queries
):
    small = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    with max_queries(20) as few:
        admin_client_.get(small)
    document = json.loads(interchange.export_json())
    for group in document["groups"]:
        for fact in group["traits"]:
            fact["note"] = "Checked again."
    large = pages.upload(admin_client_, IMPORT, "catalog.json", json.dumps(document).encode())
    with max_queries(few.number):
        admin_client_.get(pages.preview_path(large))


def test_applying_writes_every_change_in_one_go_and_says_so(
    admin_client_, catalog_admin, reference_catalog
):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    response = pages.apply(admin_client_, preview, follow=True)
    assert "Imported catalog.json: 1 created, 1 updated, 1 deleted" in response.content.decode()
    assert TraitValue.objects.get(group__slug="na", trait__key="sponsorship").value == "varies"
    assert not TraitValue.objects.filter(group__slug="na", trait__key="higher_power").exists()
    assert Source.objects.filter(key="new-source").exists()
    # Each change is in the history and the audit trail, with the curator who applied it.
    record = TraitValue.history.filter(history_type="~").latest("history_id")
    assert (record.history_user, record.history_change_reason) == (
        catalog_admin,
        "Imported from a file",
    )
    entries = AuditEntry.objects.filter(area="catalog", summary__contains="Imported from a file")
    assert entries.count() == 3
    assert {entry.user for entry in entries} == {catalog_admin}
    assert PendingImport.objects.get().applied_at is not None


def test_an_upload_is_applied_once_only(admin_client_, reference_catalog):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    digest = pages.digest(admin_client_, preview)
    assert admin_client_.post(preview, {"digest": digest}).status_code == 302
    after = _catalog()
    again = admin_client_.post(preview, {"digest": digest}, follow=True)
    assert again.redirect_chain == [(IMPORT, 302)]
    assert "were applied already" in again.content.decode()
    assert _catalog() == after
    assert "were applied already" in admin_client_.get(preview, follow=True).content.decode()


def test_only_the_uploader_sees_and_applies_an_upload(
    admin_client_, other_admin, reference_catalog
):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    digest = pages.digest(admin_client_, preview)
    colleague = Client()
    colleague.force_login(other_admin)  # recorded in the audit trail
    before = _catalog()
    assert colleague.get(preview).status_code == 404
    assert colleague.post(preview, {"digest": digest}).status_code == 404
    assert _catalog() == before


@pytest.mark.parametrize("persona", ["counsellor_client", "supervisor_client", "outsider_client"])
def test_other_roles_cannot_preview_or_apply(request, admin_client_, reference_catalog, persona):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    client = request.getfixturevalue(persona)
    assert client.get(preview).status_code == 403
    assert client.post(preview, {"digest": "x"}).status_code == 403


def test_a_catalog_upload_is_not_a_studies_upload(admin_client_, reference_catalog):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    pk = preview.rstrip("/").rsplit("/", 1)[1]
    assert admin_client_.get(f"/studies/import/{pk}/").status_code == 404


def test_an_upload_expires_after_an_hour(admin_client_, reference_catalog):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    digest = pages.digest(admin_client_, preview)
    PendingImport.objects.update(created_at=F("created_at") - dt.timedelta(minutes=61))
    before = _catalog()
    response = admin_client_.post(preview, {"digest": digest}, follow=True)
    assert "has expired" in response.content.decode()
    assert _catalog() == before
    # The next upload clears expired ones.
    pages.upload(admin_client_, IMPORT, "catalog.json", _changes())
    assert PendingImport.objects.count() == 1


def test_a_preview_is_not_applied_once_the_catalog_changed_under_it(
    admin_client_, reference_catalog
):
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", _changes()))
    digest = pages.digest(admin_client_, preview)
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    value.note = "Edited meanwhile."
    value.save()
    before = _catalog()
    response = admin_client_.post(preview, {"digest": digest}, follow=True)
    assert "Review the changes again" in response.content.decode()
    assert _catalog() == before
    assert PendingImport.objects.get().applied_at is None
    # Reviewed again, it applies.
    assert pages.apply(admin_client_, preview).status_code == 302


def test_an_upload_that_changes_nothing_says_so(admin_client_, reference_catalog):
    exported = interchange.export_json()
    preview = pages.preview_path(pages.upload(admin_client_, IMPORT, "catalog.json", exported))
    assert "The file changes nothing" in admin_client_.get(preview).content.decode()


# --- Refusals ------------------------------------------------------------------


def test_every_problem_of_a_file_is_reported_in_one_response_named_by_group_and_trait(
    admin_client_, reference_catalog
):
    document = json.loads(interchange.export_json())
    na = next(group for group in document["groups"] if group["slug"] == "na")
    na["kind"] = "church"
    sponsorship = next(item for item in na["traits"] if item["trait"] == "sponsorship")
    sponsorship["value"] = "perhaps"
    na["traits"].append({**sponsorship, "trait": "flying", "value": "yes"})
    na["availability"][0]["country"] = "XX"
    na["traits"].append({**sponsorship, "country": "NO", "value": "yes", "source": "nowhere"})
    response = pages.upload(admin_client_, IMPORT, "catalog.json", json.dumps(document).encode())
    errors = _errors(response)
    starts = [
        "Group “na”, field “kind”: ",
        "Group “na”, trait “sponsorship”, field “value”: ",
        "Group “na”, trait “flying”, field “trait”: unknown trait “flying”.",
        "Group “na”, trait “sponsorship” (Norway), field “source”: unknown source “nowhere”",
        "Group “na”, availability in XX",
    ]
    for start in starts:
        assert any(error.startswith(start) for error in errors), (start, errors)
    assert len(errors) == 5, errors
    assert "The file was rejected (5 problems); nothing was written." in response.content.decode()
    assert not PendingImport.objects.exists()


def test_problems_in_csv_tables_are_named_by_table_line_and_group(admin_client_, reference_catalog):
    with zipfile.ZipFile(io.BytesIO(interchange.export_csv_zip())) as archive:
        tables = {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}
    lines = tables["groups.csv"].splitlines()
    line = next(n for n, text in enumerate(lines) if text.startswith("na,"))
    lines[line] = lines[line].replace(",twelve_step,", ",church,")
    tables["groups.csv"] = "\n".join(lines) + "\n"
    tables["sources.csv"] = tables["sources.csv"].encode("utf-8") + b"\xff"  # type: ignore[assignment]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in tables.items():
            archive.writestr(name, text)
    errors = _errors(pages.upload(admin_client_, IMPORT, "catalog.zip", buffer.getvalue()))
    assert any(e.startswith("sources.csv: is not UTF-8") for e in errors), errors
    assert any(
        e.startswith(f"groups.csv line {line + 1} (group “na”), field “kind”: ") for e in errors
    ), errors


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "recovery-menu-catalog", "version": 1, "sources": [], "groups": '
         b'[{"slug": "N\\ud800A"}]}', "lone surrogate escape"),
        (b'{"format": "recovery-menu-catalog",\n"version": ' + b"1" * 5000 + b"}",
         "a number with 5000 digits at line 2"),
        (b'{"format": "recovery-menu-catalog", "format": "x"}', "the key “format” appears twice"),
        (b"[" * 50 + b"]" * 50, "nested more than 8 levels deep"),
        (b'{"version": NaN}', "NaN at line 1 is not a number JSON allows"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
    ],
    ids=["lone surrogate", "5,000 digits", "duplicate key", "depth", "NaN", "not UTF-8"],
)  # fmt: skip
def test_a_malformed_json_file_is_a_clear_error_not_a_server_error(
    admin_client_, reference_catalog, content, message
):
    response = pages.upload(admin_client_, IMPORT, "catalog.json", content)
    (error,) = _errors(response)
    assert error.startswith("catalog.json: ")
    assert message in error
    assert message in response.content.decode()


def _zip_bomb() -> bytes:
    """One table of 300 MB of zeros declaring 1,000 bytes, beside the other tables."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("groups.csv", "w") as member:
            for _ in range(300):
                member.write(bytes(1024 * 1024))
        for name in ("sources.csv", "traits.csv", "availability.csv"):
            archive.writestr(name, "x\n")
    data = bytearray(buffer.getvalue())
    struct.pack_into("<I", data, 22, 1000)
    central = data.index(b"PK\x01\x02")  # groups.csv's entry comes first
    struct.pack_into("<I", data, central + 24, 1000)
    return bytes(data)


def test_a_zip_bomb_upload_is_refused_with_a_message(admin_client_, reference_catalog):
    response = pages.upload(admin_client_, IMPORT, "catalog.zip", _zip_bomb())
    assert _errors(response) == [
        "catalog.zip: groups.csv: cannot be read from the archive: it is damaged or not what "
        "it declares."
    ]


def test_an_oversized_upload_names_the_limit(admin_client_, reference_catalog):
    response = pages.upload(admin_client_, IMPORT, "catalog.json", b" " * (5 * 1024 * 1024 + 1))
    assert "larger than 5 MB" in response.content.decode()
    assert not PendingImport.objects.exists()


# --- Studies -------------------------------------------------------------------


def test_a_studies_import_is_previewed_part_by_part_then_applied(admin_client_, reference_data):
    document = json.loads(admin_client_.get("/studies/export.json").content)
    study = next(s for s in document["studies"] if s["key"] == "vederhus-2020")
    study["sample"] = "Twelve former members of NA in Norway."
    quote = study["quotes"][0]
    quote["locator"] = "Results, first paragraph"
    removed = study["reference_texts"].pop()
    data = json.dumps(document).encode()
    preview = pages.preview_path(pages.upload(admin_client_, "/studies/import/", "s.json", data))
    before = (Study.objects.get(key="vederhus-2020").sample, Quote.objects.count())
    page = admin_client_.get(preview).content.decode()
    assert "Study “vederhus-2020” <span" in page and "(sample)" in page
    assert f"Study “vederhus-2020”, quote “{quote['key']}” <span" in page
    assert f"Study “vederhus-2020”, reference text “{removed['key']}”" in page
    assert (Study.objects.get(key="vederhus-2020").sample, Quote.objects.count()) == before

    response = pages.apply(admin_client_, preview, follow=True)
    assert "1 replaced" in response.content.decode()
    study_row = Study.objects.get(key="vederhus-2020")
    assert study_row.sample == "Twelve former members of NA in Norway."
    assert study_row.quotes.get(key=quote["key"]).locator == "Results, first paragraph"


def test_a_bad_studies_file_names_study_and_quote(admin_client_, reference_data):
    document = json.loads(admin_client_.get("/studies/export.json").content)
    study = next(s for s in document["studies"] if s["key"] == "vederhus-2020")
    study["quotes"][0]["speaker"] = "Nobody"
    data = json.dumps(document).encode()
    errors = _errors(pages.upload(admin_client_, "/studies/import/", "studies.json", data))
    assert errors == [
        f"Study “vederhus-2020”, quote “{study['quotes'][0]['key']}”, field “speaker”: "
        "“Nobody” is not a participant of this study."
    ]
