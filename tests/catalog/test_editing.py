from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import translation

from audit.filters import AuditFilter
from catalog.forms import IsoDateInput
from catalog.models import Availability, Group, Trait, TraitValue
from referrals.forms import FollowUpForm
from tests.curation import pages

pytestmark = pytest.mark.django_db


def _form_data(client, path: str) -> dict[str, str]:
    """The edit form as the browser would submit it unchanged."""
    response = client.get(path)
    assert response.status_code == 200
    data: dict[str, str] = {}
    forms = [response.context["form"], *response.context["trait_forms"]]
    for form in forms:
        for bound in form:
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = "" if value is None else str(value)
    for formset in (response.context["country_formset"], response.context["formset"]):
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = str(value)
        for form in formset.forms:
            for bound in form:
                value = bound.value()
                if isinstance(value, bool) or bound.field.disabled:
                    continue
                data[bound.html_name] = "" if value is None else str(value)
    return data


def test_admin_changes_a_trait_and_the_history_shows_who_and_what(admin_client_, reference_catalog):
    data = _form_data(admin_client_, "/catalog/groups/na/edit/")
    data["trait-sponsorship-value"] = "varies"

    response = admin_client_.post("/catalog/groups/na/edit/", data)

    assert response.status_code == 302
    assert TraitValue.objects.get(group__slug="na", trait__key="sponsorship").value == "varies"
    history = admin_client_.get("/catalog/groups/na/history/").content.decode()
    assert "admin" in history
    assert "Sponsorship — changed" in history
    assert "<del>Yes</del> → <ins>Varies between local groups</ins>" in history


def test_a_form_opened_before_another_save_is_refused_not_saved_over_it(
    admin_client_, reference_catalog
):
    """Two tabs (or two catalog admins) editing one group: the second save would undo
    the first without anyone seeing it, so it is refused."""
    first_tab = _form_data(admin_client_, "/catalog/groups/na/edit/")
    second_tab = _form_data(admin_client_, "/catalog/groups/na/edit/")
    assert first_tab["version"] and first_tab["version"] == second_tab["version"]
    first_tab["trait-sponsorship-value"] = "varies"
    assert admin_client_.post("/catalog/groups/na/edit/", first_tab).status_code == 302

    second_tab["description"] = "Changed in the second tab."
    response = admin_client_.post("/catalog/groups/na/edit/", second_tab)
    page = response.content.decode()
    assert response.status_code == 200
    assert "This group was changed since you opened it. Nothing was saved" in page
    group = Group.objects.get(slug="na")
    assert group.description != "Changed in the second tab."
    assert TraitValue.objects.get(group=group, trait__key="sponsorship").value == "varies"
    # Opened again, the form edits the group as it is now.
    fresh = _form_data(admin_client_, "/catalog/groups/na/edit/")
    fresh["description"] = "Changed in the second tab."
    assert admin_client_.post("/catalog/groups/na/edit/", fresh).status_code == 302


def test_saving_an_unchanged_form_records_no_change(admin_client_, reference_catalog):
    before = (TraitValue.history.count(), Group.history.count(), Availability.history.count())
    data = _form_data(admin_client_, "/catalog/groups/na/edit/")
    assert admin_client_.post("/catalog/groups/na/edit/", data).status_code == 302
    after = (TraitValue.history.count(), Group.history.count(), Availability.history.count())
    assert after == before


def test_a_known_value_without_a_source_is_refused_and_nothing_is_saved(
    admin_client_, reference_catalog
):
    data = _form_data(admin_client_, "/catalog/groups/aa/edit/")
    data["name"] = "Renamed"
    data["trait-trauma_focus-value"] = "yes"
    data["trait-trauma_focus-source"] = ""

    response = admin_client_.post("/catalog/groups/aa/edit/", data)

    assert response.status_code == 200
    assert "A known value needs a source." in response.content.decode()
    assert Group.objects.get(slug="aa").name == "Alcoholics Anonymous"


def test_setting_a_trait_back_to_unknown_removes_the_claim(admin_client_, reference_catalog):
    data = _form_data(admin_client_, "/catalog/groups/na/edit/")
    data["trait-sponsorship-value"] = "unknown"
    for field in ("source", "locator", "verified_on", "note"):
        data[f"trait-sponsorship-{field}"] = ""
    admin_client_.post("/catalog/groups/na/edit/", data)
    assert not TraitValue.objects.filter(group__slug="na", trait__key="sponsorship").exists()


def test_an_unknown_value_with_a_note_is_kept(admin_client_, reference_catalog):
    data = _form_data(admin_client_, "/catalog/groups/sos/edit/")
    data["trait-oat_welcome-note"] = "Looked for in the guide; not stated."
    assert admin_client_.post("/catalog/groups/sos/edit/", data).status_code == 302
    value = TraitValue.objects.get(group__slug="sos", trait__key="oat_welcome")
    assert (value.value, value.note) == ("unknown", "Looked for in the guide; not stated.")


def test_admin_adds_availability_with_validation(admin_client_, reference_catalog):
    data = _form_data(admin_client_, "/catalog/groups/wfs/edit/")
    prefix = f"availability-{int(data['availability-INITIAL_FORMS'])}"
    source = TraitValue.objects.filter(group__slug="wfs").first().source
    data.update(
        {
            f"{prefix}-country": "NL",
            f"{prefix}-in_person_per_week": "-3",
            f"{prefix}-online": "yes",
            f"{prefix}-languages": "nl en",
            f"{prefix}-source": str(source.pk),
            f"{prefix}-verified_on": "2026-11-01",
        }
    )
    response = admin_client_.post("/catalog/groups/wfs/edit/", data)
    assert response.status_code == 200
    assert not Availability.objects.filter(group__slug="wfs", country="NL").exists()

    data[f"{prefix}-in_person_per_week"] = "3"
    assert admin_client_.post("/catalog/groups/wfs/edit/", data).status_code == 302
    place = Availability.objects.get(group__slug="wfs", country="NL")
    assert (place.in_person_per_week, place.languages) == (3, "en nl")


def test_bad_language_codes_are_named(admin_client_, reference_catalog):
    data = _form_data(admin_client_, "/catalog/groups/na/edit/")
    data["languages"] = "en klingon"
    response = admin_client_.post("/catalog/groups/na/edit/", data)
    assert "Unknown language code(s): klingon" in response.content.decode()


def _undo_path(kind: str, record) -> str:
    return f"/catalog/groups/na/history/{kind}/{record.history_id}/undo/"


def test_undo_sets_a_change_back_after_confirmation(admin_client_, reference_catalog):
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    value.value = TraitValue.Value.NO
    value.save()
    change = value.history.latest()

    confirm = admin_client_.get(_undo_path("traitvalue", change))
    assert "<del>Yes</del> → <ins>No</ins>" in confirm.content.decode()
    value.refresh_from_db()
    assert value.value == "no", "showing the confirmation changes nothing"

    assert admin_client_.post(_undo_path("traitvalue", change)).status_code == 302
    value.refresh_from_db()
    assert value.value == "yes"
    assert value.history.count() == 3  # created, changed, undone
    assert value.history.latest().history_change_reason == "Undone from the history"


def test_undoing_twice_reports_nothing_to_undo(admin_client_, reference_catalog):
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    value.value = TraitValue.Value.NO
    value.save()
    change = value.history.latest()
    admin_client_.post(_undo_path("traitvalue", change))
    response = admin_client_.post(_undo_path("traitvalue", change), follow=True)
    assert "Nothing to undo" in response.content.decode()
    assert value.history.count() == 3


def test_restore_brings_back_a_deleted_fact(admin_client_, reference_catalog):
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    value.delete()
    deletion = TraitValue.history.filter(history_type="-").latest()
    history = admin_client_.get("/catalog/groups/na/history/").content.decode()
    assert "Sponsorship — deleted" in history
    admin_client_.post(_undo_path("traitvalue", deletion))
    assert TraitValue.objects.get(group__slug="na", trait__key="sponsorship").value == "yes"


def test_undoing_a_creation_removes_the_fact(admin_client_, reference_catalog):
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    creation = value.history.earliest()
    admin_client_.post(_undo_path("traitvalue", creation))
    assert not TraitValue.objects.filter(pk=value.pk).exists()


def test_a_record_of_another_group_cannot_be_undone_through_this_one(
    admin_client_, reference_catalog
):
    record = TraitValue.history.filter(group_id=Group.objects.get(slug="aa").pk).first()
    assert admin_client_.post(_undo_path("traitvalue", record)).status_code == 404
    assert admin_client_.get("/catalog/groups/na/history/nonsense/1/undo/").status_code == 404


def test_admin_creates_a_group(admin_client_, vocabulary):
    data = _form_data(admin_client_, "/catalog/groups/new/")
    data.update({"name": "Local peer group", "slug": "local-peer", "kind": "user_organisation"})
    data["availability-TOTAL_FORMS"] = "0"
    assert admin_client_.post("/catalog/groups/new/", data).status_code == 302
    assert Group.objects.get(slug="local-peer").history.count() == 1
    assert Trait.objects.count() > 20


def test_edit_page_queries_do_not_grow_with_facts(admin_client_, reference_catalog, max_queries):
    with max_queries(12) as few:
        assert admin_client_.get("/catalog/groups/lifering/edit/").status_code == 200
    # NA has about six times as many facts and three availability rows.
    with max_queries(few.number):
        assert admin_client_.get("/catalog/groups/na/edit/").status_code == 200


def test_an_oversized_upload_is_refused_before_reading(admin_client_, reference_catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("catalog.json", b" " * (5 * 1024 * 1024 + 1))
    response = admin_client_.post("/catalog/import/", {"file": upload})
    assert "larger than 5 MB" in response.content.decode()


def test_an_import_with_a_long_file_name_is_recorded(admin_client_, reference_catalog):
    document = json.loads(admin_client_.get("/catalog/export.json").content)
    document["groups"][0]["description"] = "Changed by an import."
    name, data = "c" * 150 + ".json", json.dumps(document).encode()
    assert pages.import_file(admin_client_, "/catalog/import/", name, data).status_code == 302
    record = Group.history.latest()
    assert record.history_change_reason == "Imported from a file"
    page = admin_client_.get(
        f"/catalog/groups/{document['groups'][0]['slug']}/history/", HTTP_ACCEPT_LANGUAGE="nb"
    ).content.decode()
    assert "Imported from a file" not in page


def test_history_page_queries_do_not_grow_with_history(
    admin_client_, reference_catalog, max_queries
):
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    with max_queries(12) as first:
        admin_client_.get("/catalog/groups/na/history/")
    for note in range(20):
        value.note = f"note {note}"
        value.save()
    with max_queries(first.number):
        admin_client_.get("/catalog/groups/na/history/")


def test_import_page_rejects_a_bad_file_whole(admin_client_, reference_catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "catalog.json", b'{"format": "recovery-menu-catalog"', "application/json"
    )
    response = admin_client_.post("/catalog/import/", {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "nothing was written" in page
    assert "not valid JSON" in page


def test_export_then_import_through_the_pages(admin_client_, reference_catalog):
    exported = admin_client_.get("/catalog/export.zip")
    assert exported["Content-Disposition"].startswith(
        'attachment; filename="recovery-menu-catalog-'
    )
    response = pages.import_file(
        admin_client_, "/catalog/import/", "catalog.zip", exported.content, follow=True
    )
    assert "0 created, 0 updated, 0 deleted" in response.content.decode()


def test_undoing_an_older_change_keeps_the_later_ones(admin_client_, reference_catalog):
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    value.value = TraitValue.Value.NO
    value.save()
    value_change = value.history.latest()
    value.note = "A later note."
    value.save()
    admin_client_.post(_undo_path("traitvalue", value_change))
    value.refresh_from_db()
    assert (value.value, value.note) == ("yes", "A later note.")


@pytest.mark.parametrize("language", ["en", "nb", "nl"])
def test_date_fields_are_written_yyyy_mm_dd_in_every_language(language):
    # A date picker reads only YYYY-MM-DD: Dutch "22-11-2026" would show an empty field,
    # and saving the form would then refuse it or lose the date.
    with translation.override(language):
        html = IsoDateInput().render("verified_on", dt.date(2026, 11, 22))
        follow_up = FollowUpForm(
            initial={"first_meeting_on": dt.date(2026, 11, 22)}, checkpoint="first_meeting"
        )
        field = str(follow_up["first_meeting_on"])
        since = AuditFilter.base_filters["since"].field.widget
        log_filter = since.render("since", dt.date(2026, 11, 22))
    assert 'type="date"' in html and 'value="2026-11-22"' in html
    assert 'value="2026-11-22"' in field
    # The access log's period too.
    assert 'type="date"' in log_filter and 'value="2026-11-22"' in log_filter
