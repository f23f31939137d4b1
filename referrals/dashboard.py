"""The supervisor's dashboard: referral patterns, counted in the database.

The charts add up the tallies of the referrals (referrals.tallies): those of the
period's whole months and those of its days outside them, rows that grow in number
with counsellors, groups and months, not with referrals. Each chart is one grouped
query; what Python does afterwards works on the grouped rows only.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from referrals.filters import PERIOD_MONTHS, ReferralFilter, months_back, next_month
from referrals.followup import REASON_LABELS, REASON_THEMES, THEME_OF
from referrals.models import Grain, ReasonTally, Tally
from referrals.tallies import MEASURES

Drill = Callable[..., str]
Rows = list[dict[str, Any]]

CHOSEN = ~Q(chosen_group="")
# Counted of the referrals with a choice: how many, and how they turned out.
OUTCOME_NAMES = ("chosen", *MEASURES[MEASURES.index("awaiting") :])
# Named apart from the tallies' fields.
OUTCOME_COUNTS = {
    "n_chosen": Coalesce(Sum("referrals", filter=CHOSEN), 0),
    **{f"n_{name}": Sum(name) for name in OUTCOME_NAMES if name != "chosen"},
}


@dataclass(frozen=True)
class Scope:
    """The referrals a dashboard counts: those the user may see, of a period (first
    and last day, either open), narrowed by counsellor, chosen group and country."""

    user: User
    since: datetime.date | None = None
    until: datetime.date | None = None
    counsellor: User | None = None
    group: str = ""
    country: str = ""

    @classmethod
    def of(cls, filterset: ReferralFilter) -> Scope:
        """The scope of a bound, valid filter set, read as its filters read."""
        data = filterset.form.cleaned_data
        since, until = data.get("since"), data.get("until")
        months = PERIOD_MONTHS.get(data.get("period") or "")
        if not since and not until and months:
            since = months_back(filterset.today, months)
        return cls(
            filterset.user,
            since,
            until,
            data.get("counsellor"),
            data.get("group") or "",
            data.get("country") or "",
        )

    def tallies(self, model: type[Tally] | type[ReasonTally]) -> QuerySet[Any]:
        """The tallies that add up to the scope: of its whole months, and of its days
        outside them."""
        rows = model.objects.visible_to(self.user)
        if self.counsellor is not None:
            rows = rows.filter(counsellor=self.counsellor)
        if self.group:
            rows = rows.filter(chosen_group=self.group)
        if self.country:
            rows = rows.filter(country=self.country)
        # Rows counted down to zero by later writes add nothing, and would show a group
        # or a counsellor with no referrals.
        return rows.filter(self._periods(), referrals__gt=0).order_by()

    def _periods(self) -> Q:
        since, until = self.since, self.until
        # The whole months: from `first` to before `after`.
        first = since if since is None or since.day == 1 else next_month(since)
        after = None if until is None else (until + datetime.timedelta(days=1)).replace(day=1)
        if first is not None and after is not None and first >= after:
            return _days(since, until)
        months = Q(grain=Grain.MONTH)
        if first is not None:
            months &= Q(start__gte=first)
        if after is not None:
            months &= Q(start__lt=after)
        if since is not None and first is not None and since < first:
            months |= _days(since, first - datetime.timedelta(days=1))
        if until is not None and after is not None and after <= until:
            months |= _days(after, until)
        return months


def _days(first: datetime.date | None, last: datetime.date | None) -> Q:
    return Q(grain=Grain.DAY, start__gte=first, start__lte=last)


def listed(filterset: ReferralFilter) -> int | None:
    """How many referrals a list with these filters holds, from the tallies, where they
    can tell: the dashboard's filters and the facets of its numbers (a list of a million
    referrals counts itself slowly). None where they cannot: a search by reference,
    follow-ups due, or facets the tallies do not cross."""
    if not filterset.is_bound:
        return _sum(Scope(filterset.user).tallies(Tally), "referrals")
    data = filterset.form.cleaned_data
    scope = Scope.of(filterset)
    if data.get("month"):
        first = data["month"].replace(day=1)
        last = next_month(first) - datetime.timedelta(days=1)
        since = max(first, scope.since) if scope.since else first
        until = min(last, scope.until) if scope.until else last
        if since > until:
            return 0
        scope = replace(scope, since=since, until=until)
    first_ranked, offered = data.get("first_ranked"), data.get("offered_non_twelve_step")
    outcome, theme, reason = data.get("outcome"), data.get("theme"), data.get("reason")
    if data.get("q") or outcome == "due" or data.get("voided") is not None:
        return None
    if theme or reason:
        if first_ranked or offered is not None or outcome not in (None, "", "disengaged"):
            return None
        if theme and reason and THEME_OF[reason] != theme:
            return 0
        reasons = scope.tallies(ReasonTally)
        if reason:
            return _sum(reasons.filter(code=reason), "referrals")
        return _sum(reasons.filter(theme=theme, code=""), "referrals")
    rows = scope.tallies(Tally)
    if first_ranked:
        rows = rows.filter(first_ranked=first_ranked)
    if offered is not None:
        if outcome:
            return None
        with_one = _sum(rows, "offered_non_twelve_step")
        return with_one if offered else _sum(rows, "referrals") - with_one
    if outcome == "no_choice":
        return _sum(rows.filter(chosen_group=""), "referrals")
    return _sum(rows, outcome or "referrals")


def _sum(rows: QuerySet[Any], name: str) -> int:
    return int(rows.aggregate(n=Coalesce(Sum(name), 0))["n"])


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def concentration(counts: Iterable[int]) -> int | None:
    """The Herfindahl-Hirschman index (HHI): the sum of squared percentage shares, from
    near 0 (spread over many) to 10,000 (all in one)."""
    counts = [c for c in counts if c]
    total = sum(counts)
    if not total:
        return None
    return round(sum((100 * c / total) ** 2 for c in counts))


def equivalent_number(hhi: int | None) -> float | None:
    """As many groups, equally used, as would give this concentration."""
    return round(10_000 / hhi, 1) if hhi else None


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    count: int
    total: int
    url: str

    @property
    def share(self) -> float | None:
        return share(self.count, self.total)


@dataclass(frozen=True)
class Month:
    month: datetime.date
    referrals: int
    offered_non_twelve_step: int
    chosen: int
    url: str


@dataclass
class Outcomes:
    """Counts of one group (or counsellor) by how the referrals turned out."""

    chosen: int = 0
    awaiting: int = 0
    attended: int = 0
    not_attended: int = 0
    engaged_one_month: int = 0
    engaged_three_months: int = 0
    disengaged: int = 0

    def add(self, row: dict[str, Any]) -> None:
        """Add a row of OUTCOME_COUNTS."""
        for name in OUTCOME_NAMES:
            setattr(self, name, getattr(self, name) + row[f"n_{name}"])

    def __iadd__(self, other: Outcomes) -> Outcomes:
        for name in OUTCOME_NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def followed_up(self) -> int:
        return self.chosen - self.awaiting

    @property
    def segments(self) -> list[Segment]:
        return segments(self)


@dataclass
class GroupOutcomes:
    slug: str
    name: str
    twelve_step: bool
    outcomes: Outcomes
    urls: dict[str, str]


@dataclass
class ThemeRow:
    key: str
    label: str
    count: int
    url: str
    by_group: dict[str, int]
    reasons: list[Bar] = field(default_factory=list)


@dataclass
class CounsellorRow:
    id: int
    name: str
    referrals: int = 0
    offered_non_twelve_step: int = 0
    chose_twelve_step: int = 0
    outcomes: Outcomes = field(default_factory=Outcomes)
    by_group: dict[str, int] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def hhi(self) -> int | None:
        return concentration(self.by_group.values())

    @property
    def top_group(self) -> str | None:
        return max(self.by_group, key=lambda slug: self.by_group[slug]) if self.by_group else None


@dataclass(frozen=True)
class Catalog:
    """Names and kinds of the catalog's groups, read once per page."""

    names: dict[str, str]
    twelve_step: frozenset[str]

    def name(self, slug: str) -> str:
        return self.names.get(slug, slug)


def monthly(scope: Scope, drill: Drill) -> list[Month]:
    """Referrals per month, with a row for every month of the period, empty or not."""
    rows = (
        scope.tallies(Tally)
        .values(month=TruncMonth("start"))
        .annotate(
            n=Sum("referrals"),
            offered=Sum("offered_non_twelve_step"),
            chosen=OUTCOME_COUNTS["n_chosen"],
        )
    )
    found = {row["month"]: row for row in rows}
    since = scope.since
    if not found and since is None:
        return []
    first = min([*found, *([since.replace(day=1)] if since else [])])
    # To the period's last month, or this month if the period is open or goes on.
    end = timezone.localdate()
    if scope.until is not None:
        end = min(end, scope.until)
    last = max([*found, end.replace(day=1)])
    months = []
    month = first
    while month <= last:
        row = found.get(month, {"n": 0, "offered": 0, "chosen": 0})
        months.append(
            Month(month, row["n"], row["offered"], row["chosen"], drill(month=f"{month:%Y-%m}"))
        )
        month = next_month(month)
    return months


FACT_COLUMNS = (
    "counsellor_id",
    "counsellor__username",
    "counsellor__first_name",
    "counsellor__last_name",
    "first_ranked",
    "chosen_group",
)


def facts(scope: Scope) -> Rows:
    """The counts behind the shares, outcomes and counsellors, grouped by counsellor,
    first-ranked and chosen group. The charts add these rows up (a few hundred, not
    the referrals)."""
    return list(
        scope.tallies(Tally)
        .values(*FACT_COLUMNS)
        .annotate(n=Sum("referrals"), offered=Sum("offered_non_twelve_step"), **OUTCOME_COUNTS)
    )


def by_first_ranked(rows: list[dict[str, Any]], catalog: Catalog, drill: Drill) -> list[Bar]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["first_ranked"]] += row["n"]
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [
        Bar(slug, catalog.name(slug) or _("No group"), n, total, drill(first_ranked=slug))
        for slug, n in ordered
    ]


def by_chosen(rows: list[dict[str, Any]], catalog: Catalog, drill: Drill) -> list[GroupOutcomes]:
    outcomes: dict[str, Outcomes] = defaultdict(Outcomes)
    for row in rows:
        if row["chosen_group"]:
            outcomes[row["chosen_group"]].add(row)
    ordered = sorted(outcomes.items(), key=lambda item: (-item[1].chosen, item[0]))
    return [
        GroupOutcomes(
            slug,
            catalog.name(slug),
            slug in catalog.twelve_step,
            counts,
            {
                name: drill(group=slug, **({"outcome": name} if name != "chosen" else {}))
                for name in OUTCOME_NAMES
            },
        )
        for slug, counts in ordered
    ]


def by_theme(scope: Scope, drill: Drill) -> list[ThemeRow]:
    """Disengaged referrals per reason theme and chosen group; a referral with two
    reasons in one theme counts once there."""
    rows = (
        scope.tallies(ReasonTally)
        .filter(code="")
        .values("chosen_group", "theme")
        .annotate(n=Sum("referrals"))
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        if row["n"]:
            counts[row["theme"]][row["chosen_group"]] = row["n"]
    return [
        ThemeRow(
            theme.key,
            str(theme.label),
            sum(counts[theme.key].values()),
            drill(theme=theme.key),
            counts[theme.key],
        )
        for theme in REASON_THEMES
        if counts.get(theme.key)
    ]


def by_reason(scope: Scope, drill: Drill, disengaged: int) -> list[Bar]:
    rows = scope.tallies(ReasonTally).exclude(code="").values("code").annotate(n=Sum("referrals"))
    counts = {row["code"]: row["n"] for row in rows}
    return [
        Bar(code, str(REASON_LABELS[code]), counts[code], disengaged, drill(reason=code))
        for theme in REASON_THEMES
        for code, _label in theme.codes
        if counts.get(code)
    ]


def by_counsellor(
    rows: list[dict[str, Any]], catalog: Catalog, drill: Drill
) -> list[CounsellorRow]:
    counsellors: dict[int, CounsellorRow] = {}
    for row in sorted(rows, key=lambda row: row["counsellor__username"]):
        pk = row["counsellor_id"]
        if pk not in counsellors:
            full_name = f"{row['counsellor__first_name']} {row['counsellor__last_name']}".strip()
            counsellors[pk] = CounsellorRow(
                pk,
                full_name or row["counsellor__username"],
                urls={
                    "referrals": drill(counsellor=pk),
                    "offered_non_twelve_step": drill(counsellor=pk, offered_non_twelve_step="true"),
                    **{
                        name: drill(counsellor=pk, outcome=name)
                        for name in ("attended", "engaged_three_months", "disengaged")
                    },
                },
            )
        counsellor = counsellors[pk]
        counsellor.referrals += row["n"]
        counsellor.offered_non_twelve_step += row["offered"]
        counsellor.outcomes.add(row)
        if row["chosen_group"]:
            slug = row["chosen_group"]
            counsellor.by_group[slug] = counsellor.by_group.get(slug, 0) + row["n_chosen"]
            if slug in catalog.twelve_step:
                counsellor.chose_twelve_step += row["n_chosen"]
    return list(counsellors.values())


@dataclass
class Dashboard:
    months: list[Month]
    first_ranked: list[Bar]
    chosen: list[GroupOutcomes]
    themes: list[ThemeRow]
    reasons: list[Bar]
    counsellors: list[CounsellorRow] | None
    catalog: Catalog

    @property
    def referrals(self) -> int:
        return sum(m.referrals for m in self.months)

    @property
    def offered_non_twelve_step(self) -> int:
        return sum(m.offered_non_twelve_step for m in self.months)

    @property
    def offered_share(self) -> float | None:
        return share(self.offered_non_twelve_step, self.referrals)

    @property
    def first_non_twelve_step(self) -> int:
        """Menus that ranked a group other than a twelve-step fellowship first: every
        menu offers one (the matcher sees to it), so what informs is whether it leads."""
        return sum(
            bar.count
            for bar in self.first_ranked
            if bar.key and bar.key not in self.catalog.twelve_step
        )

    @property
    def first_non_twelve_step_share(self) -> float | None:
        return share(self.first_non_twelve_step, self.referrals)

    @property
    def totals(self) -> Outcomes:
        totals = Outcomes()
        for group in self.chosen:
            totals += group.outcomes
        return totals

    @property
    def chose_non_twelve_step(self) -> int:
        return sum(g.outcomes.chosen for g in self.chosen if not g.twelve_step)

    @property
    def chose_non_twelve_step_share(self) -> float | None:
        return share(self.chose_non_twelve_step, self.totals.chosen)

    @property
    def hhi_chosen(self) -> int | None:
        return concentration(g.outcomes.chosen for g in self.chosen)

    @property
    def hhi_first_ranked(self) -> int | None:
        return concentration(bar.count for bar in self.first_ranked if bar.key)

    @property
    def equivalent_chosen(self) -> float | None:
        return equivalent_number(self.hhi_chosen)

    @property
    def top_chosen(self) -> GroupOutcomes | None:
        return self.chosen[0] if self.chosen else None

    @property
    def top_chosen_share(self) -> float | None:
        top = self.top_chosen
        return share(top.outcomes.chosen, self.totals.chosen) if top else None

    @property
    def max_month(self) -> int:
        return max((m.referrals for m in self.months), default=0)

    @property
    def columns(self) -> list[Column]:
        return columns(self.months)

    @property
    def chart_width(self) -> int:
        return 10 * len(self.months)

    @property
    def last_month(self) -> datetime.date | None:
        return self.months[-1].month if self.months else None


def build(scope: Scope, *, catalog: Catalog, drill: Drill, per_counsellor: bool) -> Dashboard:
    rows = facts(scope)
    chosen = by_chosen(rows, catalog, drill)
    disengaged = sum(g.outcomes.disengaged for g in chosen)
    themes = by_theme(scope, drill)
    reasons = by_reason(scope, drill, disengaged)
    for theme in themes:
        theme.reasons = [r for r in reasons if THEME_OF[r.key] == theme.key]
    return Dashboard(
        months=monthly(scope, drill),
        first_ranked=by_first_ranked(rows, catalog, drill),
        chosen=chosen,
        themes=themes,
        reasons=reasons,
        counsellors=by_counsellor(rows, catalog, drill) if per_counsellor else None,
        catalog=catalog,
    )


@dataclass(frozen=True)
class Segment:
    name: str
    count: int
    x: float
    width: float


# Mutually exclusive outcomes of a chosen group, left to right, summing to `chosen`.
SEGMENTS = ("engaged_three_months", "in_follow_up", "disengaged", "not_attended", "awaiting")


def segments(outcomes: Outcomes) -> list[Segment]:
    """The parts of a 100-wide stacked bar."""
    counts = {
        "engaged_three_months": outcomes.engaged_three_months,
        "in_follow_up": outcomes.attended - outcomes.engaged_three_months - outcomes.disengaged,
        "disengaged": outcomes.disengaged,
        "not_attended": outcomes.not_attended,
        "awaiting": outcomes.awaiting,
    }
    parts, x = [], 0.0
    for name in SEGMENTS:
        width = 100 * counts[name] / outcomes.chosen if outcomes.chosen else 0.0
        parts.append(Segment(name, counts[name], round(x, 2), round(width, 2)))
        x += width
    return parts


@dataclass(frozen=True)
class Column:
    month: Month
    x: float
    height: float

    @property
    def y(self) -> float:
        return round(100 - self.height, 2)


def columns(months: list[Month]) -> list[Column]:
    """Columns of a chart 10 units wide per month and 100 high."""
    top = max((m.referrals for m in months), default=0)
    return [
        Column(m, 10 * i + 1, round(100 * m.referrals / top, 2) if top else 0.0)
        for i, m in enumerate(months)
    ]
