"""Reads of the evidence for pages: theme trees, search, what the studies say of a group."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from catalog.models import Group, TraitValue
from studies.models import Finding, FindingTrait, Quote, Theme

# Values that mean a group carries a trait, for linking findings to groups.
CARRIES = (TraitValue.Value.YES, TraitValue.Value.OPTIONAL, TraitValue.Value.VARIES)


@dataclass
class ThemeNode:
    theme: Theme
    quotes: list[Quote] = field(default_factory=list)
    children: list[ThemeNode] = field(default_factory=list)


def theme_tree(themes: Sequence[Theme], quotes: Sequence[Quote]) -> list[ThemeNode]:
    """Nest a study's themes (in position order) and hang each quote under its themes."""
    nodes = {theme.pk: ThemeNode(theme) for theme in themes}
    roots: list[ThemeNode] = []
    for theme in themes:
        parent = nodes.get(theme.parent_id) if theme.parent_id else None
        (parent.children if parent else roots).append(nodes[theme.pk])
    for quote in quotes:
        for theme in quote.themes.all():
            nodes[theme.pk].quotes.append(quote)
    return roots


def quotes_with_context() -> QuerySet[Quote]:
    return Quote.objects.select_related("speaker", "study").prefetch_related(
        Prefetch("themes", queryset=Theme.objects.select_related("study"))
    )


def search_quotes(text: str) -> QuerySet[Quote]:
    """Quotes matching the words typed: full-text search on PostgreSQL, else word containment."""
    quotes = quotes_with_context()
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config="english", search_type="websearch")
        vector = SearchVector("text", config="english")
        return (
            quotes.annotate(search=vector, rank=SearchRank(vector, query))
            .filter(search=query)
            .order_by("-rank", "study", "position")
        )
    words = [word for word in text.split() if word]
    condition = Q()
    for word in words:
        condition &= Q(text__icontains=word)
    return quotes.filter(condition).order_by("study", "position")


def findings_for_traits(trait_ids: Sequence[int] | QuerySet[Any]) -> QuerySet[FindingTrait]:
    return (
        FindingTrait.objects.filter(trait_id__in=trait_ids)
        .select_related(
            "trait", "finding__theme__study", "finding__study", "finding__quote__speaker"
        )
        .order_by("finding__study", "finding__position", "trait__position")
    )


@dataclass(frozen=True)
class GroupEvidence:
    finding: Finding
    links: tuple[FindingTrait, ...]


def what_the_studies_say(group: Group) -> list[GroupEvidence]:
    """Findings about the traits this group carries (yes, optional or varies), leaving out
    testimony about another fellowship as a whole.

    One query: the trait links joined with their finding, theme, study and quote.
    """
    carried = TraitValue.objects.filter(group=group, value__in=CARRIES).values("trait_id")
    links = findings_for_traits(carried).filter(
        Q(finding__fellowship="") | Q(finding__fellowship=group.slug)
    )
    grouped: dict[int, list[FindingTrait]] = {}
    findings: dict[int, Finding] = {}
    for link in links:
        grouped.setdefault(link.finding_id, []).append(link)
        findings[link.finding_id] = link.finding
    return [GroupEvidence(findings[pk], tuple(grouped[pk])) for pk in grouped]


def fellowship_names(slugs: Iterable[str]) -> dict[str, str]:
    """The catalog names of the fellowships findings speak of as a whole: one query, or none."""
    wanted = {slug for slug in slugs if slug}
    if not wanted:
        return {}
    return dict(Group.objects.filter(slug__in=wanted).values_list("slug", "name"))


def groups_for_findings(findings: Sequence[Finding]) -> list[Group]:
    """The groups the findings are cited on: those carrying the traits of findings about a
    shared format or practice, and the fellowship a finding speaks of as a whole.

    Reads the findings' prefetched trait links; one query, or none.
    """
    trait_ids = sorted(
        {
            link.trait_id
            for finding in findings
            if not finding.fellowship
            for link in finding.trait_links.all()
        }
    )
    slugs = sorted({finding.fellowship for finding in findings if finding.fellowship})
    if not trait_ids and not slugs:
        return []
    carrying = Q(trait_values__trait_id__in=trait_ids, trait_values__value__in=CARRIES)
    return list(Group.objects.filter(carrying | Q(slug__in=slugs)).distinct())
