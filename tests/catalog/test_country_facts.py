"""Facts that hold for one country, and availability that holds worldwide."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog import history, interchange, reference
from catalog.models import Availability, Group, Source, Trait, TraitValue
from curation import history as curation_history
from curation.imports import ImportRefused
from tests.factories import AvailabilityFactory, GroupFactory, SourceFactory, TraitValueFactory

pytestmark = pytest.mark.django_db

EDIT = "/catalog/groups/user-org/edit/"


@pytest.fixture
def group(vocabulary):
    """A user organisation whose welcome of people in opioid maintenance (OAT) varies,
    except in Norway, where it is known; it meets in Norway and online from anywhere."""
    source = SourceFactory(key="user-org-report", title="Annual report of a user organisation")
    group = GroupFactory(slug="user-org", name="User Organisation", kind="user_organisation")
    oat = Trait.objects.get(key="oat_welcome")
    TraitValueFactory(group=group, trait=oat, value="varies", source=source, locator="p. 2")
    TraitValueFactory(
        group=group, trait=oat, country="NO", value="yes", source=source, locator="p. 4"
    )
    AvailabilityFactory(group=group, country="NO", region="Oslo", source=source)
    AvailabilityFactory(
        group=group,
        country="",
        in_person_per_week=None,
        online=Availability.Online.YES,
        languages="en",
        source=source,
    )
    return group


def _oat(country: str = "") -> TraitValue:
    return TraitValue.objects.get(group__slug="user-org", trait__key="oat_welcome", country=country)


# --- The models -----------------------------------------------------------------------


def test_a_trait_has_one_value_everywhere_and_one_per_country(group):
    oat = Trait.objects.get(key="oat_welcome")
    TraitValueFactory(group=group, trait=oat, country="SE", value="no")
    with pytest.raises(IntegrityError), transaction.atomic():
        TraitValueFactory(group=group, trait=oat, country="NO", value="no")
    with pytest.raises(IntegrityError), transaction.atomic():
        TraitValueFactory(group=group, trait=oat, country="", value="no")


def test_availability_without_a_country_reads_worldwide(group):
    place = Availability.objects.get(group=group, country="")
    assert place.country.name == "Worldwide"
    assert str(place) == "User Organisation — Worldwide"
    assert str(place.country) == "", "the code stays empty for the matcher and the files"


def test_a_worldwide_row_has_no_region(group):
    place = Availability.objects.get(group=group, country="")
    place.region = "Oslo"
    with pytest.raises(ValidationError) as caught:
        place.full_clean()
    assert "region" in caught.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Availability.objects.filter(pk=place.pk).update(region="Oslo")


# --- The group's page ---------------------------------------------------------------------


def test_the_group_page_lists_a_country_value_under_its_trait_by_country_name(
    counsellor_client, group
):
    page = counsellor_client.get("/catalog/groups/user-org/").content.decode()
    general = page.index("Varies between local groups")
    in_norway = page.index("In Norway:")
    assert general < in_norway < page.index("p. 4")
    assert ">NO<" not in page and "In NO" not in page
    assert "Worldwide" in page
    assert "Oslo" in page


def test_list_and_comparison_show_worldwide_not_an_empty_country(counsellor_client, group):
    GroupFactory(slug="other", name="Other Fellowship")
    listing = counsellor_client.get("/catalog/").content.decode()
    assert "Worldwide" in listing
    compare = counsellor_client.get("/catalog/compare/?groups=user-org&groups=other")
    assert "In Norway:" in compare.content.decode()
    assert "Worldwide" in compare.content.decode()


def _add_country_values(group: Group, countries: list[str]) -> None:
    for key in ("sponsorship", "higher_power"):
        trait = Trait.objects.get(key=key)
        for country in countries:
            TraitValueFactory(group=group, trait=trait, country=country, value="no")
    for country in countries:
        AvailabilityFactory(group=group, country=country, region="")


@pytest.mark.parametrize("path", ["/catalog/groups/user-org/", EDIT])
def test_pages_with_country_values_do_not_grow_in_queries(admin_client_, group, max_queries, path):
    _add_country_values(group, ["SE"])
    with max_queries(14) as few:
        assert admin_client_.get(path).status_code == 200
    _add_country_values(group, ["DK", "FI", "IS", "BE", "NL", "DE"])
    with max_queries(few.number):
        assert admin_client_.get(path).status_code == 200


def test_a_counsellor_cannot_edit_country_values(counsellor_client, outsider_client, group):
    assert counsellor_client.get(EDIT).status_code == 403
    assert outsider_client.get(EDIT).status_code == 403
    assert outsider_client.post(EDIT, {}).status_code == 403


# --- Editing --------------------------------------------------------------------------------


def _form_data(client) -> dict[str, str]:
    """The edit form as the browser would submit it unchanged."""
    response = client.get(EDIT)
    assert response.status_code == 200
    data: dict[str, str] = {}
    for form in [response.context["form"], *response.context["trait_forms"]]:
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


def _new_country_value(data: dict[str, str], **fields: str) -> None:
    index = int(data["country-value-INITIAL_FORMS"])
    for name, value in fields.items():
        data[f"country-value-{index}-{name}"] = value


def test_the_edit_page_shows_a_country_value_beside_the_general_one(admin_client_, group):
    page = admin_client_.get(EDIT).content.decode()
    general_row = page.index('name="trait-oat_welcome-value"')
    country_row = page.index('name="country-value-0-value"')
    assert general_row < country_row
    assert not re.search(r'name="trait-[a-z_]+-value"', page[general_row + 1 : country_row])
    assert "Remove the value for Norway" in page
    assert "Add a value for one country" in page


def test_admin_adds_a_value_for_one_country(admin_client_, group):
    data = _form_data(admin_client_)
    source = _oat().source
    _new_country_value(
        data,
        trait=str(Trait.objects.get(key="oat_welcome").pk),
        country="SE",
        value="no",
        source=str(source.pk),
        locator="p. 7",
        verified_on="2026-11-01",
    )

    response = admin_client_.post(EDIT, data)

    assert response.status_code == 302
    assert (_oat("SE").value, _oat("SE").locator) == ("no", "p. 7")
    assert (_oat().value, _oat("NO").value) == ("varies", "yes")
    page = admin_client_.get("/catalog/groups/user-org/history/").content.decode()
    assert "Opioid maintenance fully welcome in Sweden — created" in page


def test_admin_edits_and_removes_values_for_one_country(admin_client_, group):
    TraitValueFactory(
        group=group, trait=Trait.objects.get(key="sponsorship"), country="SE", value="no"
    )
    response = admin_client_.get(EDIT)
    forms = {
        form.instance.country.code + form.instance.trait.key: form.prefix
        for form in response.context["country_formset"].initial_forms
    }
    data = _form_data(admin_client_)
    data[f"{forms['NOoat_welcome']}-value"] = "optional"
    data[f"{forms['SEsponsorship']}-DELETE"] = "on"

    assert admin_client_.post(EDIT, data).status_code == 302

    assert _oat("NO").value == "optional"
    assert _oat().value == "varies"
    assert not TraitValue.objects.filter(group=group, country="SE").exists()


def test_a_value_for_one_country_needs_a_country_and_a_source(admin_client_, group):
    data = _form_data(admin_client_)
    data["name"] = "Renamed"
    _new_country_value(
        data, trait=str(Trait.objects.get(key="sponsorship").pk), country="", value="yes"
    )

    response = admin_client_.post(EDIT, data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page
    assert "A known value needs a source." in page
    assert Group.objects.get(slug="user-org").name == "User Organisation"


def test_a_second_value_for_the_same_trait_and_country_is_refused(admin_client_, group):
    data = _form_data(admin_client_)
    _new_country_value(
        data,
        trait=str(Trait.objects.get(key="oat_welcome").pk),
        country="NO",
        value="no",
        source=str(_oat().source.pk),
        locator="p. 9",
        verified_on="2026-11-01",
    )

    response = admin_client_.post(EDIT, data)

    assert response.status_code == 200
    assert "duplicate data for trait and country" in response.content.decode()
    assert _oat("NO").value == "yes"


def test_admin_adds_a_worldwide_row_and_a_region_needs_a_country(admin_client_, vocabulary):
    group = GroupFactory(slug="user-org", name="User Organisation")
    SourceFactory(key="smart-online")
    source = Source.objects.get(key="smart-online")
    data = _form_data(admin_client_)
    prefix = f"availability-{int(data['availability-INITIAL_FORMS'])}"
    data.update(
        {
            f"{prefix}-country": "",
            f"{prefix}-region": "Oslo",
            f"{prefix}-online": "yes",
            f"{prefix}-languages": "en",
            f"{prefix}-source": str(source.pk),
            f"{prefix}-verified_on": "2026-11-01",
        }
    )
    response = admin_client_.post(EDIT, data)
    assert response.status_code == 200
    assert "A region needs its country" in response.content.decode()

    data[f"{prefix}-region"] = ""
    assert admin_client_.post(EDIT, data).status_code == 302
    place = Availability.objects.get(group=group)
    assert (str(place.country), place.online) == ("", "yes")
    assert "Worldwide" in admin_client_.get(EDIT).content.decode()


def test_the_country_choice_of_a_worldwide_row_reads_worldwide(admin_client_, group):
    page = admin_client_.get(EDIT).content.decode()
    assert '<option value="" selected>Worldwide</option>' in page


# --- History and undo -----------------------------------------------------------------------


def test_history_names_the_country_and_undo_restores_only_that_value(admin_client_, group):
    country_value = _oat("NO")
    country_value.delete()
    deletion = TraitValue.history.filter(history_type="-").latest()

    page = admin_client_.get("/catalog/groups/user-org/history/").content.decode()
    assert "Opioid maintenance fully welcome in Norway — deleted" in page
    path = f"/catalog/groups/user-org/history/traitvalue/{deletion.history_id}/undo/"
    assert admin_client_.post(path).status_code == 302

    assert _oat("NO").value == "yes"
    assert _oat().value == "varies"


def test_undoing_the_creation_of_a_country_value_keeps_the_general_one(group):
    entry = next(
        entry
        for entry in history.group_history(group)
        if entry.kind == "traitvalue"
        and entry.record.history_type == "+"
        and entry.record.country == "NO"
    )
    curation_history.undo(entry)
    assert not TraitValue.objects.filter(group=group, country="NO").exists()
    assert _oat().value == "varies"


def test_history_shows_a_worldwide_row_as_worldwide(admin_client_, group):
    page = admin_client_.get("/catalog/groups/user-org/history/").content.decode()
    assert "Where it meets: Worldwide — created" in page


# --- Filters -------------------------------------------------------------------------------


def test_a_trait_filter_goes_by_the_value_that_holds_everywhere(counsellor_client, group):
    sponsorship = Trait.objects.get(key="sponsorship")
    TraitValueFactory(group=group, trait=sponsorship, country="NO", value="yes")
    other = GroupFactory(slug="other", name="Other Fellowship")
    TraitValueFactory(group=other, trait=sponsorship, value="yes")

    def slugs(query: str) -> set[str]:
        response = counsellor_client.get(f"/catalog/{query}")
        return {group.slug for group in response.context["page"]}

    assert slugs("?has=sponsorship") == {"other"}
    assert slugs("?has=oat_welcome") == set(), "varies is neither yes nor optional"
    assert slugs("?country=NO") == {"user-org"}


def test_the_country_filter_offers_no_empty_country(counsellor_client, group):
    response = counsellor_client.get("/catalog/")
    choices = [code for code, _name in response.context["filter"].form.fields["country"].choices]
    assert choices == ["", "NO"]


def test_an_exported_json_trait_entry_names_its_country(group):
    document = json.loads(interchange.export_json())
    (entry,) = document["groups"]
    assert [(item["trait"], item["country"]) for item in entry["traits"]] == [
        ("oat_welcome", ""),
        ("oat_welcome", "NO"),
    ]
    assert [(item["country"], item["region"]) for item in entry["availability"]] == [
        ("", ""),
        ("NO", "Oslo"),
    ]


# --- Import and export --------------------------------------------------------------------


def _tables(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def _zip(tables: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in tables.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _rejected(data: bytes, name: str) -> list[str]:
    before = (TraitValue.objects.count(), Availability.objects.count(), TraitValue.history.count())
    with pytest.raises(ImportRefused) as caught:
        interchange.apply(interchange.parse_upload(data, name), reason="test")
    after = (TraitValue.objects.count(), Availability.objects.count(), TraitValue.history.count())
    assert after == before, "a rejected file must write nothing"
    return caught.value.errors


def test_round_trips_with_country_values_and_worldwide_rows_are_exact(group):
    for export, parse in (
        (interchange.export_json, interchange.parse_json),
        (interchange.export_csv_zip, interchange.parse_csv_zip),
    ):
        exported = export()
        summary = interchange.apply(parse(exported), reason="test")
        assert (summary.created, summary.updated, summary.deleted) == (0, 0, 0)
        assert export() == exported


def test_a_file_rebuilds_country_values_and_worldwide_rows(group):
    exported = interchange.export_csv_zip()
    Group.objects.all().delete()
    interchange.apply(interchange.parse_csv_zip(exported), reason="test")
    assert (_oat().value, _oat("NO").value) == ("varies", "yes")
    assert Availability.objects.get(group__slug="user-org", country="").online == "yes"
    assert interchange.export_csv_zip() == exported


def test_the_csv_tables_carry_a_country_column(group):
    tables = _tables(interchange.export_csv_zip())
    assert tables["traits.csv"].splitlines()[0] == (
        "\ufeffgroup,trait,country,value,source,locator,verified_on,note"
    )
    assert "user-org,oat_welcome,NO,yes," in tables["traits.csv"]
    assert "\nuser-org,,,,yes,en,user-org-report," in tables["availability.csv"]


def test_an_import_adds_changes_and_removes_only_the_values_it_names(group):
    document = json.loads(interchange.export_json())
    traits = document["groups"][0]["traits"]
    norway = next(item for item in traits if item["country"] == "NO")
    sweden = {**norway, "country": "se", "value": "no"}  # codes are read in any case
    document["groups"][0]["traits"] = [item for item in traits if item is not norway] + [sweden]

    summary = interchange.apply(
        interchange.parse_json(json.dumps(document).encode()), reason="test"
    )

    assert (summary.created, summary.deleted) == (1, 1)
    assert _oat("SE").value == "no"
    assert not TraitValue.objects.filter(country="NO").exists()
    assert _oat().value == "varies"


def test_a_trait_entry_without_a_country_field_is_refused(group):
    document = json.loads(interchange.export_json())
    del document["groups"][0]["traits"][1]["country"]
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    assert errors == [
        "Group “user-org”, trait “oat_welcome”: unknown field(s): -; missing field(s): country; "
        "every object has exactly: trait, country, value, source, locator, verified_on, note."
    ]


def test_an_invalid_country_code_names_row_and_field(group):
    document = json.loads(interchange.export_json())
    document["groups"][0]["traits"][1]["country"] = "XX"
    document["groups"][0]["availability"][1]["country"] = "Norway"
    errors = _rejected(json.dumps(document).encode(), "catalog.json")
    trait_at = "Group “user-org”, trait “oat_welcome” (XX), field “country”: "
    place_at = "Group “user-org”, availability in NORWAY, Oslo, field “country”: "
    assert any(e.startswith(trait_at) and "XX" in e for e in errors), errors
    assert any(e.startswith(place_at) for e in errors), errors


def test_two_values_for_the_same_group_trait_and_country_are_named(group):
    tables = _tables(interchange.export_csv_zip())
    lines = tables["traits.csv"].splitlines()
    lines.append(lines[2].replace(",NO,yes,", ",no,no,"))
    tables["traits.csv"] = "\n".join(lines) + "\n"
    errors = _rejected(_zip(tables), "catalog.zip")
    assert errors == [
        "traits.csv line 4 (group “user-org”, trait “oat_welcome” (Norway)): "
        "repeats traits.csv line 3."
    ]


def test_a_worldwide_row_with_a_region_names_row_and_field(group):
    tables = _tables(interchange.export_csv_zip())
    tables["availability.csv"] = tables["availability.csv"].replace(
        "\nuser-org,,,", "\nuser-org,,Oslo,"
    )
    errors = _rejected(_zip(tables), "catalog.zip")
    assert len(errors) == 1, errors
    assert errors[0].startswith(
        "availability.csv line 2 (group “user-org”, availability worldwide), field “region”: "
    )
    assert "worldwide" in errors[0]


def test_the_loader_reads_country_values_and_worldwide_rows(vocabulary, tmp_path, monkeypatch):
    source = SourceFactory(key="user-org-report")
    group = GroupFactory(slug="user-org", name="User Organisation")
    oat = Trait.objects.get(key="oat_welcome")
    TraitValueFactory(group=group, trait=oat, value="varies", source=source)
    TraitValueFactory(group=group, trait=oat, country="NO", value="yes", source=source)
    AvailabilityFactory(group=group, country="", region="", source=source)
    shipped = tmp_path / "catalog.json"
    shipped.write_bytes(interchange.export_json())
    Group.objects.all().delete()
    monkeypatch.setattr(reference, "CATALOG_FILE", shipped)

    assert reference.load_catalog().created == 4  # the group, two values, one row
    assert reference.load_catalog().created == 0

    assert (_oat().value, _oat("NO").value) == ("varies", "yes")
    assert Availability.objects.get(group__slug="user-org").country.name == "Worldwide"
