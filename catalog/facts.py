"""Trait tables for display: every trait of the vocabulary, grouped by dimension."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catalog.models import Availability, Group, Source, Trait, TraitValue


@dataclass(frozen=True)
class Cell:
    """One group's facts about one trait."""

    value: TraitValue | None  # the value that holds everywhere; None when unknown
    countries: tuple[TraitValue, ...] = ()  # values for one country each, by country name


@dataclass(frozen=True)
class TraitRow:
    trait: Trait
    cells: tuple[Cell, ...]  # one per group


@dataclass(frozen=True)
class Dimension:
    label: str
    rows: tuple[TraitRow, ...]


def trait_table(groups: Sequence[Group]) -> list[Dimension]:
    """Two queries, whatever the number of groups, traits and countries."""
    values = TraitValue.objects.filter(group__in=groups).select_related("source")
    general: dict[tuple[int, int], TraitValue] = {}
    by_country: dict[tuple[int, int], list[TraitValue]] = {}
    for value in values:
        key = (value.group_id, value.trait_id)
        if value.country:
            by_country.setdefault(key, []).append(value)
        else:
            general[key] = value
    labels = dict(Trait.Dimension.choices)
    dimensions: dict[str, list[TraitRow]] = {}
    for trait in Trait.objects.all():
        cells = []
        for group in groups:
            key = (group.pk, trait.pk)
            countries = sorted(by_country.get(key, []), key=lambda value: value.country.name)
            cells.append(Cell(general.get(key), tuple(countries)))
        dimensions.setdefault(trait.dimension, []).append(TraitRow(trait, tuple(cells)))
    return [
        Dimension(str(labels[key]), tuple(dimensions[key]))
        for key in Trait.Dimension.values
        if key in dimensions
    ]


def cited_sources(table: list[Dimension], places: Sequence[Availability] = ()) -> list[Source]:
    """The distinct sources behind a table and availability rows, in order of first use.

    Each fact gets a ``citation`` attribute: its source's number in the returned list,
    so a page can mark facts [1], [2]… against its list of sources.
    """
    numbers: dict[int, int] = {}
    sources: list[Source] = []
    facts: list[TraitValue | Availability] = []
    for dimension in table:
        for row in dimension.rows:
            for cell in row.cells:
                facts.extend([cell.value] if cell.value else [])
                facts.extend(cell.countries)
    facts.extend(places)
    for fact in facts:
        if fact.source is None:
            continue
        if fact.source.pk not in numbers:
            sources.append(fact.source)
            numbers[fact.source.pk] = len(sources)
        fact.citation = numbers[fact.source.pk]  # type: ignore[union-attr]
    return sources
