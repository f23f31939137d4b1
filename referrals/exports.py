"""The dashboard's tables as CSV: the same queries, one table per file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import dashboard
from referrals.dashboard import Catalog, Drill, Scope
from referrals.followup import THEME_LABELS, THEME_OF

TABLES = {
    "months": gettext_lazy("Referrals per month"),
    "first-ranked": gettext_lazy("First-ranked groups"),
    "chosen": gettext_lazy("Chosen groups and outcomes"),
    "themes": gettext_lazy("Reasons for disengaging, by theme and group"),
    "reasons": gettext_lazy("Reasons for disengaging"),
    "counsellors": gettext_lazy("Counsellors"),
}

Row = Sequence[object]


class Writable(Protocol):
    def write(self, content: Any, /) -> Any: ...


def _cell(value: object) -> object:
    """A cell a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(
    out: Writable, headers: Sequence[str], rows: Iterable[Row], *, about: Sequence[str] = ()
) -> None:
    """The table, after lines starting with "#" that say what it counts (a blank line
    between them and the table's header)."""
    writer = csv.writer(out)
    for line in about:
        writer.writerow([_cell(f"# {line}")])
    if about:
        writer.writerow([])
    writer.writerow([_cell(h) for h in headers])
    writer.writerows([_cell(value) for value in row] for row in rows)


OUTCOME_HEADERS = dashboard.OUTCOME_NAMES


def _outcome_headers() -> list[str]:
    return [
        _("Chose it"),
        _("Awaiting the first follow-up"),
        _("Attended a first meeting"),
        _("Did not attend"),
        _("Engaged at one month"),
        _("Engaged at three months"),
        _("Disengaged"),
    ]


def csv_table(
    table: str, scope: Scope, *, catalog: Catalog, drill: Drill
) -> tuple[list[str], list[Row]]:
    """Headers and rows of one table, from one query."""
    if table == "months":
        months = dashboard.monthly(scope, drill)
        return [
            _("Month"),
            _("Referrals"),
            _("Menus offering a non-twelve-step group"),
            _("Choices recorded"),
        ], [[f"{m.month:%Y-%m}", m.referrals, m.offered_non_twelve_step, m.chosen] for m in months]
    if table == "first-ranked":
        bars = dashboard.by_first_ranked(dashboard.facts(scope), catalog, drill)
        return [_("Group"), _("Slug"), _("Referrals"), _("Share")], [
            [b.label, b.key, b.count, _fraction(b.share)] for b in bars
        ]
    if table == "chosen":
        groups = dashboard.by_chosen(dashboard.facts(scope), catalog, drill)
        return [_("Group"), _("Slug"), _("Twelve-step"), *_outcome_headers()], [
            [
                g.name,
                g.slug,
                _("yes") if g.twelve_step else _("no"),
                *(getattr(g.outcomes, name) for name in OUTCOME_HEADERS),
            ]
            for g in groups
        ]
    if table == "themes":
        themes = dashboard.by_theme(scope, drill)
        slugs = sorted({slug for t in themes for slug in t.by_group}, key=catalog.name)
        return [_("Theme"), _("Disengaged referrals"), *(catalog.name(s) for s in slugs)], [
            [t.label, t.count, *(t.by_group.get(s, 0) for s in slugs)] for t in themes
        ]
    if table == "reasons":
        bars = dashboard.by_reason(scope, drill, 0)
        return [_("Theme"), _("Reason"), _("Code"), _("Disengaged referrals")], [
            [str(THEME_LABELS[THEME_OF[b.key]]), b.label, b.key, b.count] for b in bars
        ]
    if table == "counsellors":
        rows = dashboard.by_counsellor(dashboard.facts(scope), catalog, drill)
        return [
            _("Counsellor"),
            _("Referrals"),
            _("Menus offering a non-twelve-step group"),
            _("Chose a twelve-step group"),
            _("Concentration of choices (HHI)"),
            _("Most chosen group"),
            *_outcome_headers(),
        ], [
            [
                c.name,
                c.referrals,
                c.offered_non_twelve_step,
                c.chose_twelve_step,
                c.hhi if c.hhi is not None else "",
                catalog.name(c.top_group) if c.top_group else "",
                *(getattr(c.outcomes, name) for name in OUTCOME_HEADERS),
            ]
            for c in rows
        ]
    raise KeyError(table)


def _fraction(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else ""
