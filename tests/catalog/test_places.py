"""The offline gazetteer: loading it from the packages, and resolving a patient's place.

Most tests share the towns and postcodes of four countries, loaded once for the module;
one test loads the whole gazetteer (marked below)."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from catalog.models import Place, PlaceName
from catalog.places import (
    PlaceAmbiguous,
    PlaceError,
    PlaceUnknown,
    describe,
    nearest_place,
    normalise,
    resolve,
)

COUNTRIES = ("NO", "NL", "BE", "US")


@pytest.fixture(scope="module")
def gazetteer(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_places", "--countries", *COUNTRIES, verbosity=0)
    yield
    with django_db_blocker.unblock():
        Place.objects.all().delete()


@pytest.fixture
def places(gazetteer, db):
    """The module's gazetteer, inside the test's transaction."""


def load(*arguments: str) -> str:
    out = io.StringIO()
    call_command("load_places", *arguments, stdout=out)
    return out.getvalue()


# --- Names, without the database ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Drammen", "drammen"),
        ("  drammen ", "drammen"),
        ("Tromsø", "tromso"),
        ("Liège", "liege"),
        ("'s-Gravenhage", "s gravenhage"),
        ("\u2019s  Gravenhage", "s gravenhage"),
        ("Bergen  op-Zoom", "bergen op zoom"),
        ("Straße", "strasse"),
    ],
)
def test_names_are_compared_without_case_accents_apostrophes_or_spacing(text, key):
    assert normalise(text) == key


# --- Resolving -----------------------------------------------------------------------


def test_drammen_resolves_to_drammen_in_norway(places):
    drammen = resolve("Drammen")

    assert (drammen.country, drammen.kind) == ("NO", Place.Kind.TOWN)
    assert drammen.latitude == pytest.approx(59.74, abs=0.01)
    assert drammen.longitude == pytest.approx(10.20, abs=0.01)
    assert drammen.timezone == "Europe/Oslo"
    assert describe(drammen) == "Drammen (Buskerud, Norway)"


@pytest.mark.parametrize(
    "text",
    [
        "drammen ",
        "DRAMMEN",
        "Drammen, Norway",
        "Drammen, NO",
        "drammen,no",
        "Drammen, Norge",
        "Drammen (Buskerud, Norway)",
        "Drammen, Buskerud",
    ],
)
def test_a_name_may_come_with_a_country_or_region(places, text):
    assert resolve(text) == resolve("Drammen")


def test_a_country_may_be_named_in_its_own_language(places):
    assert describe(resolve("Bergen, Norge")) == "Bergen (Vestland, Norway)"
    assert describe(resolve("Bergen, Nederland")) == "Bergen (North Holland, Netherlands)"
    assert describe(resolve("Bergen, België")) == "Mons (Wallonie, Belgium)"


def test_a_place_is_unknown_in_a_country_that_has_none_of_that_name(places):
    with pytest.raises(PlaceUnknown) as raised:
        resolve("Drammen, Sweden")

    assert str(raised.value) == "No place called “Drammen, Sweden” is known."


def test_an_unknown_name_is_an_error_naming_what_was_asked(places):
    with pytest.raises(PlaceUnknown) as raised:
        resolve("Qwertyville")

    assert raised.value.text == "Qwertyville"
    assert "Qwertyville" in str(raised.value)
    assert isinstance(raised.value, PlaceError)


@pytest.mark.parametrize("text", ["", "  ", ", Norway"])
def test_an_empty_place_is_unknown(places, text):
    with pytest.raises(PlaceUnknown):
        resolve(text)


def test_the_clinics_country_picks_the_bergen_of_that_country(places):
    assert describe(resolve("Bergen", country="NO")) == "Bergen (Vestland, Norway)"
    assert describe(resolve("Bergen", country="nl")) == "Bergen (North Holland, Netherlands)"
    # Flemish for Mons.
    assert describe(resolve("Bergen", country="BE")) == "Mons (Wallonie, Belgium)"


def test_bergen_without_a_country_is_ambiguous_by_the_rule(places):
    # 294,000 in Vestland are fewer than ten times the 30,000 in North Holland.
    with pytest.raises(PlaceAmbiguous) as raised:
        resolve("Bergen")

    labels = [describe(place) for place in raised.value.candidates]
    assert labels[0] == "Bergen (Vestland, Norway)"
    assert "Bergen (North Holland, Netherlands)" in labels
    assert str(raised.value).startswith("“Bergen” could be several places: Bergen (Vestland, ")


def test_springfield_is_ambiguous_and_lists_at_most_eight_candidates_most_populous_first(
    places,
):
    with pytest.raises(PlaceAmbiguous) as raised:
        resolve("Springfield")

    candidates = raised.value.candidates
    populations = [place.population for place in candidates]
    assert len(candidates) == 8
    assert populations == sorted(populations, reverse=True)
    assert describe(candidates[0]) == "Springfield (Missouri, United States of America)"
    message = str(raised.value)
    assert "Springfield (Illinois, United States of America)" in message
    assert message.endswith("Add the country or region.")


def test_a_region_settles_an_ambiguous_name(places):
    springfield = resolve("Springfield, Illinois")

    assert (springfield.region, springfield.population) == ("Illinois", 114394)
    assert resolve("Springfield (Illinois, United States of America)") == springfield


def test_a_place_ten_times_larger_than_any_other_of_its_name_wins(places):
    assert describe(resolve("Amsterdam")) == "Amsterdam (North Holland, Netherlands)"
    # ... unless the clinic is in a country with a place of that name.
    assert describe(resolve("Amsterdam", country="US")) == (
        "Amsterdam (New York, United States of America)"
    )


def test_a_place_of_that_main_name_comes_before_another_languages_name_for_a_place(places):
    # Mechelen-aan-de-Maas is also called Mechelen; Mechelen is Mechelen.
    assert describe(resolve("Mechelen", country="BE")) == "Mechelen (Vlaanderen, Belgium)"


def test_accents_and_case_are_folded(places):
    assert resolve("tromso").name == "Tromsø"
    assert resolve("TROMSØ").name == "Tromsø"
    assert resolve("alesund").name == "Ålesund"
    assert resolve("liege").name == "Liège"


@pytest.mark.parametrize(
    ("names", "place"),
    [
        (("Brussel", "Bruxelles", "Brussels"), "Brussels (Bruxelles-Capitale, Belgium)"),
        (("Antwerpen", "Anvers", "Antwerp"), "Antwerp (Vlaanderen, Belgium)"),
        (("Gent", "Gand", "Ghent"), "Gent (Vlaanderen, Belgium)"),
        (("Luik", "Liège"), "Liège (Wallonie, Belgium)"),
        (("Den Haag", "'s-Gravenhage", "s Gravenhage", "The Hague"), None),
    ],
)
def test_cities_are_found_by_their_dutch_french_and_english_names(places, names, place):
    found = {resolve(name) for name in names}

    assert len(found) == 1
    if place is not None:
        assert describe(found.pop()) == place


def test_the_hague_is_one_place_under_all_its_names(places):
    assert describe(resolve("'s-Gravenhage")) == "The Hague (South Holland, Netherlands)"


def test_a_post_town_too_small_for_the_city_file_is_known(places):
    iveland = resolve("Iveland")

    assert describe(iveland) == "Iveland (Agder, Norway)"
    assert iveland.latitude == pytest.approx(58.45, abs=0.05)


def test_a_postcode_resolves_in_the_clinics_country(places):
    drammen = resolve("3015", country="NO")

    assert (drammen.kind, describe(drammen)) == ("postcode", "3015 Drammen (Buskerud, Norway)")
    assert drammen.latitude == pytest.approx(59.74, abs=0.02)
    assert resolve("3015 Drammen") == drammen
    assert describe(resolve("1012 AB", country="NL")).startswith("1012 Amsterdam (")
    assert describe(resolve("1000", country="BE")).startswith("1000 Bruxelles (")


def test_a_postcode_of_several_countries_is_ambiguous_without_the_clinics_country(places):
    with pytest.raises(PlaceAmbiguous) as raised:
        resolve("3015")

    assert {place.country for place in raised.value.candidates} >= {"NO", "NL"}


def test_an_unknown_postcode_says_to_give_the_town(places):
    with pytest.raises(PlaceUnknown) as raised:
        resolve("99501")

    assert str(raised.value) == (
        "The postcode “99501” is not known offline: postcodes are known for Belgium, "
        "Netherlands, Norway only. Give the town."
    )


def test_labels_name_the_country_in_the_interface_language(places):
    bergen = resolve("Bergen", country="NO")

    with translation.override("nb"):
        assert describe(bergen) == "Bergen (Vestland, Norge)"
        assert resolve("Bergen, Norge") == bergen


def test_resolving_costs_one_query(places, django_assert_num_queries):
    with django_assert_num_queries(1):
        resolve("Drammen, Norway")
    with django_assert_num_queries(1), pytest.raises(PlaceAmbiguous):
        resolve("Springfield")


# --- Nearest place -------------------------------------------------------------------


def test_the_nearest_town_names_a_point(places, django_assert_num_queries):
    with django_assert_num_queries(1):
        near = nearest_place(59.745, 10.21)

    assert near is not None
    assert near.name == "Drammen"


def test_a_point_far_from_every_town_has_no_nearest_place(places):
    assert nearest_place(0.0, -160.0) is None
    assert nearest_place(89.9, 0.0) is None


# --- Loading ------------------------------------------------------------------------


def test_the_countries_loaded_are_those_asked_for(places):
    assert set(Place.objects.values_list("country", flat=True).distinct()) == set(COUNTRIES)
    assert Place.objects.filter(kind=Place.Kind.POSTCODE, country="US").count() == 0
    assert Place.objects.filter(kind=Place.Kind.POSTCODE, country="NO").count() > 4000


def test_loading_again_changes_nothing(places):
    before = (Place.objects.count(), PlaceName.objects.count())

    output = load("--countries", *COUNTRIES)

    assert "0 created, 0 replaced, 0 removed" in output
    assert "names: 0 added, 0 removed" in output
    assert (Place.objects.count(), PlaceName.objects.count()) == before


def test_a_row_changed_or_added_by_hand_is_put_right_by_the_next_load(places):
    drammen = resolve("Drammen")
    Place.objects.filter(pk=drammen.pk).update(name="Dramen")
    PlaceName.objects.filter(place=resolve("Tromsø"), key="tromso").delete()
    Place.objects.create(
        reference="geonames:0", name="Nowhere", country="NO", latitude=60, longitude=10
    )

    output = load("--countries", "NO")

    # Drammen comes back with its names, Tromsø gets its name back, Nowhere goes.
    assert "0 created, 1 replaced, 1 removed" in output
    assert resolve("Drammen").name == "Drammen"
    assert resolve("tromso").name == "Tromsø"
    assert not Place.objects.filter(reference="geonames:0").exists()


def test_loading_other_countries_leaves_the_loaded_ones_alone(places):
    norway = Place.objects.filter(country="NO").count()

    load("--countries", "IS")

    assert Place.objects.filter(country="IS").exists()
    assert Place.objects.filter(country="NO").count() == norway


def test_countries_must_be_iso_codes(db):
    with pytest.raises(CommandError):
        load("--countries", "Norway")


def test_the_whole_gazetteer_loads_then_a_second_run_skips_it(db):
    """Loads the whole gazetteer: about 10 s on SQLite, the slowest test here."""
    started = time.monotonic()
    output = load()
    seconds = time.monotonic() - started

    assert " 0 removed" in output
    assert Place.objects.count() > 80_000
    assert Place.objects.filter(kind=Place.Kind.POSTCODE).count() > 10_000
    assert PlaceName.objects.count() > 200_000
    assert seconds < 60
    assert load().startswith("Places: already loaded")
    assert describe(resolve("Springfield, Illinois")).startswith("Springfield (Illinois")
