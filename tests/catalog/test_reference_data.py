from __future__ import annotations

import json

import pytest

from catalog.models import Availability, Group, Source, Trait, TraitValue
from catalog.reference import CATALOG_FILE, load_catalog
from catalog.vocabulary import VOCABULARY

PRODUCT_SLUGS = {
    "na",
    "aa",
    "ca",
    "cma",
    "ma",
    "dra",
    "sos",
    "smart-recovery",
    "lifering",
    "wfs",
    "user-organization",
    "recovery-ngo",
    "trauma-support",
}

pytestmark = pytest.mark.django_db


def test_shipped_catalog_holds_every_group_the_sources_name(reference_catalog):
    assert set(Group.objects.values_list("slug", flat=True)) == PRODUCT_SLUGS


def test_every_known_value_names_its_source_locator_and_date(reference_catalog):
    known = TraitValue.objects.exclude(value=TraitValue.Value.UNKNOWN)
    assert known.count() > 60
    for value in known.select_related("source"):
        assert value.source is not None, value
        assert value.locator, value
        assert value.verified_on is not None, value
    for place in Availability.objects.select_related("source"):
        assert place.source and place.verified_on, place


def test_every_source_can_be_found_again(reference_catalog):
    for source in Source.objects.all():
        # A source without a known address (the consumer guide) says who published it and when.
        assert source.url or source.publisher, source
    assert Source.objects.filter(kind=Source.Kind.STUDY, url__contains="10.1186/").count() >= 2


def test_the_vocabulary_covers_every_dimension_of_the_brief(vocabulary):
    dimensions = set(Trait.objects.values_list("dimension", flat=True))
    assert dimensions == set(Trait.Dimension.values)
    assert Trait.objects.count() == len(VOCABULARY)


def test_kinds_follow_the_sources(reference_catalog):
    kinds = dict(Group.objects.values_list("slug", "kind"))
    assert {kinds[s] for s in ("na", "aa", "ca", "cma", "ma", "dra")} == {"twelve_step"}
    assert {kinds[s] for s in ("sos", "smart-recovery", "lifering", "wfs")} == {"secular"}
    assert kinds["trauma-support"] == "complementary"
    assert kinds["user-organization"] == "user_organisation"
    assert kinds["recovery-ngo"] == "recovery_ngo"


def test_facts_that_decide_fit_are_recorded(reference_catalog):
    def value(slug: str, key: str) -> str:
        row = TraitValue.objects.filter(group__slug=slug, trait__key=key).first()
        return row.value if row else "unknown"

    assert value("wfs", "women_only") == "yes"
    assert value("dra", "dual_diagnosis_focus") == "yes"
    assert value("smart-recovery", "sponsorship") == "no"
    assert value("na", "sponsorship") == "yes"
    assert value("na", "narrative_sharing") == "yes"
    assert value("sos", "higher_power") == "no"


def test_loading_twice_changes_nothing(reference_catalog):
    counts = (TraitValue.history.count(), Group.history.count(), Availability.history.count())
    summary = load_catalog()
    assert summary.created == 0
    assert (TraitValue.history.count(), Group.history.count(), Availability.history.count()) == (
        counts
    )


def test_loading_never_overwrites_what_an_admin_curated(reference_catalog):
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    value.value = TraitValue.Value.VARIES
    value.note = "Curated by hand."
    value.save()
    Group.objects.filter(slug="aa").update(description="Curated description.")

    load_catalog()

    value.refresh_from_db()
    assert (value.value, value.note) == ("varies", "Curated by hand.")
    assert Group.objects.get(slug="aa").description == "Curated description."


def test_loading_never_brings_back_what_an_admin_removed(reference_catalog):
    TraitValue.objects.get(group__slug="na", trait__key="sponsorship").delete()
    Availability.objects.filter(group__slug="na").first().delete()
    places = Availability.objects.filter(group__slug="na").count()

    summary = load_catalog()

    assert summary.created == 0
    assert not TraitValue.objects.filter(group__slug="na", trait__key="sponsorship").exists()
    assert Availability.objects.filter(group__slug="na").count() == places


def test_loading_adds_a_group_that_is_new_in_the_shipped_file(reference_catalog):
    Group.objects.get(slug="wfs").delete()
    load_catalog()
    assert TraitValue.objects.filter(group__slug="wfs", trait__key="women_only").exists()


def test_shipped_file_holds_no_unknown_values_and_no_guesses():
    document = json.loads(CATALOG_FILE.read_text())
    for group in document["groups"]:
        for trait in group["traits"]:
            assert trait["value"] != "unknown", (group["slug"], trait["trait"])
            assert trait["source"] and trait["locator"], (group["slug"], trait["trait"])
