"""Build the matcher's immutable snapshot of the catalog and the findings.

The snapshot is kept per process and rebuilt only when the catalog or the studies
changed: every change to what it reads leaves a row in a history table, so the
newest history ids, read in one query, tell whether a kept snapshot is current.
"""

from __future__ import annotations

import functools
import threading

from django.db import connection

from catalog.languages import split_languages
from catalog.models import Availability, Group, TraitValue
from referrals.matching import (
    CatalogSnapshot,
    Evidence,
    Fact,
    FindingSnapshot,
    GroupSnapshot,
    Place,
    Source,
)
from studies.models import Finding, FindingTrait, Participant, Quote, Study, Theme

_lock = threading.Lock()
_kept: tuple[tuple[object, ...], CatalogSnapshot] | None = None


def _source(source: object, locator: str) -> Source | None:
    if source is None:
        return None
    return Source(str(source.title), str(source.url), locator)  # type: ignore[attr-defined]


def build_snapshot() -> CatalogSnapshot:
    """Four queries, whatever the size of the catalog."""
    facts: dict[int, dict[str, Fact]] = {}
    values = TraitValue.objects.exclude(value=TraitValue.Value.UNKNOWN).select_related(
        "trait", "source"
    )
    for value in values:
        facts.setdefault(value.group_id, {})[value.trait.key] = Fact(
            value.value, _source(value.source, value.locator)
        )
    places: dict[int, list[Place]] = {}
    for place in Availability.objects.select_related("source"):
        places.setdefault(place.group_id, []).append(
            Place(
                str(place.country),
                place.region,
                place.in_person_per_week,
                place.online,
                tuple(split_languages(place.languages)),
                _source(place.source, place.locator),
            )
        )
    groups = tuple(
        GroupSnapshot(
            slug=group.slug,
            name=group.name,
            kind=group.kind,
            languages=tuple(group.language_list),
            facts=facts.get(group.pk, {}),
            places=tuple(places.get(group.pk, [])),
            active=group.active,
        )
        for group in Group.objects.order_by("slug")
    )
    findings: dict[str, list[FindingSnapshot]] = {}
    links = FindingTrait.objects.select_related(
        "trait", "finding__theme", "finding__study", "finding__quote__speaker"
    ).order_by("finding__study__key", "finding__position", "trait__key")
    for link in links:
        finding = link.finding
        quote = finding.quote
        findings.setdefault(link.trait.key, []).append(
            FindingSnapshot(
                trait=link.trait.key,
                direction="supports" if link.direction == "supports" else "caution",
                evidence=Evidence(
                    study=finding.study.doi,
                    theme=finding.theme.name,
                    quote=quote.text if quote else "",
                    speaker=quote.speaker.pseudonym if quote and quote.speaker else "",
                ),
                text=finding.counsellor_text,
                key=finding.key,
            )
        )
    return CatalogSnapshot(groups, {key: tuple(items) for key, items in findings.items()})


@functools.cache
def _version_sql() -> str:
    columns = ", ".join(
        f"(SELECT MAX(history_id) FROM {connection.ops.quote_name(table)})"
        for table in _history_tables()
    )
    return f"SELECT {columns}"


def _history_tables() -> list[str]:
    from catalog.models import Source as CatalogSource

    models = (
        Group,
        TraitValue,
        Availability,
        CatalogSource,
        Study,
        Theme,
        Participant,
        Quote,
        Finding,
        FindingTrait,
    )
    return [model.history.model._meta.db_table for model in models]


def catalog_version() -> tuple[object, ...]:
    """The newest history id of every table the snapshot reads: one query."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        return tuple(cursor.fetchone() or ())


def current_snapshot() -> CatalogSnapshot:
    """The snapshot, rebuilt only if the catalog or the studies changed since."""
    global _kept
    version = (connection.alias, connection.settings_dict["NAME"], *catalog_version())
    kept = _kept
    if kept is not None and kept[0] == version:
        return kept[1]
    with _lock:
        snapshot = build_snapshot()
        _kept = (version, snapshot)
    return snapshot
