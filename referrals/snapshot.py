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
    data_source,
)
from studies.models import (
    MIN_QUOTE_WORDS,
    Finding,
    FindingTrait,
    Participant,
    Quote,
    Study,
    Theme,
    word_count,
)

_lock = threading.Lock()
_kept: tuple[tuple[object, ...], CatalogSnapshot] | None = None


def _source(source: object, locator: str) -> Source | None:
    if source is None:
        return None
    return data_source(str(source.title), str(source.url), locator)  # type: ignore[attr-defined]


def _speakers(quotes: list[Quote]) -> dict[tuple[int, str], tuple[str, ...]]:
    """Everyone a study attributes the same words to, by (study, text)."""
    speakers: dict[tuple[int, str], list[str]] = {}
    for quote in quotes:
        if quote.speaker is not None:
            names = speakers.setdefault((quote.study_id, " ".join(quote.text.split())), [])
            if quote.speaker.pseudonym not in names:
                names.append(quote.speaker.pseudonym)
    return {key: tuple(names) for key, names in speakers.items()}


def is_testimony(quote: Quote | None) -> bool:
    """Whether a quote can be shown as a participant's own words (the studies' rule)."""
    return (
        quote is not None
        and quote.is_participants_words
        and quote.speaker_id is not None
        and word_count(quote.text) >= MIN_QUOTE_WORDS
    )


def build_snapshot() -> CatalogSnapshot:
    """Six queries, whatever the size of the catalog."""
    facts: dict[int, dict[str, Fact]] = {}
    local: dict[int, dict[tuple[str, str], Fact]] = {}
    values = TraitValue.objects.exclude(value=TraitValue.Value.UNKNOWN).select_related(
        "trait", "source"
    )
    for value in values:
        fact = Fact(value.value, _source(value.source, value.locator))
        country = str(value.country or "")
        if country:
            local.setdefault(value.group_id, {})[(value.trait.key, country)] = fact
        else:
            facts.setdefault(value.group_id, {})[value.trait.key] = fact
    places: dict[int, list[Place]] = {}
    for place in Availability.objects.select_related("source"):
        places.setdefault(place.group_id, []).append(
            Place(
                str(place.country or ""),
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
            local_facts=local.get(group.pk, {}),
        )
        for group in Group.objects.order_by("slug")
    )
    return CatalogSnapshot(groups, _findings())


def _findings() -> dict[str, FindingSnapshot]:
    speakers = _speakers(list(Quote.objects.select_related("speaker")))
    traits: dict[int, list[tuple[str, str]]] = {}
    for finding_id, trait, direction in FindingTrait.objects.order_by(
        "finding_id", "trait__position", "trait__key"
    ).values_list("finding_id", "trait__key", "direction"):
        traits.setdefault(finding_id, []).append((trait, direction))
    findings: dict[str, FindingSnapshot] = {}
    for finding in Finding.objects.select_related("theme", "study", "quote__speaker").order_by(
        "study__key", "position"
    ):
        quote = finding.quote if is_testimony(finding.quote) else None
        evidence = Evidence(
            study=finding.study.doi,
            finding=finding.key,
            summary=finding.summary or finding.counsellor_text,
            theme=finding.theme.name,
            quote=quote.text if quote else "",
            speakers=speakers.get((quote.study_id, " ".join(quote.text.split())), ())
            if quote
            else (),
            locator=finding.locator,
        )
        findings[finding.key] = FindingSnapshot(
            finding.key, evidence, tuple(traits.get(finding.pk, ())), finding.fellowship
        )
    return findings


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
