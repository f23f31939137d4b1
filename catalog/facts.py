"""Trait tables for display: every trait of the vocabulary, grouped by dimension."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catalog.models import Availability, Group, Source, Trait, TraitValue


@dataclass(frozen=True)
class TraitRow:
    trait: Trait
    values: tuple[TraitValue | None, ...]  # one per group, None when unknown


@dataclass(frozen=True)
class Dimension:
    label: str
    rows: tuple[TraitRow, ...]


def trait_table(groups: Sequence[Group]) -> list[Dimension]:
    """Two queries, whatever the number of groups and traits."""
    values = TraitValue.objects.filter(group__in=groups).select_related("source")
    by_key = {(value.group_id, value.trait_id): value for value in values}
    labels = dict(Trait.Dimension.choices)
    dimensions: dict[str, list[TraitRow]] = {}
    for trait in Trait.objects.all():
        row = TraitRow(trait, tuple(by_key.get((group.pk, trait.pk)) for group in groups))
        dimensions.setdefault(trait.dimension, []).append(row)
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
    facts: list[TraitValue | Availability] = [
        value for dimension in table for row in dimension.rows for value in row.values if value
    ]
    facts.extend(places)
    for fact in facts:
        if fact.source is None:
            continue
        if fact.source.pk not in numbers:
            sources.append(fact.source)
            numbers[fact.source.pk] = len(sources)
        fact.citation = numbers[fact.source.pk]  # type: ignore[union-attr]
    return sources
