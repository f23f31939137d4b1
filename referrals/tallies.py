"""The counts the dashboard reads (Tally, ReasonTally), kept in step with the referrals.

A referral contributes one to the tally of its month and to that of its day, for its
counsellor, country, first-ranked and chosen group, in each count its state fits
(offered a non-twelve-step group, attended, disengaged...), and, once disengaged, one
per reason and per theme of its reasons. Every write of a referral in
referrals.services takes away what the referral contributed before and adds what it
contributes after, in the write's transaction, so the tallies are as current as the
referrals. `rebuild` counts them afresh, for data written around the services (bulk
loads, SQL).
"""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Model, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Organisation
from referrals.followup import THEME_OF, theme_expression
from referrals.models import FollowUpReason, Grain, ReasonTally, Referral, Tally

MEASURES = (
    "referrals",
    "offered_non_twelve_step",
    "awaiting",
    "attended",
    "not_attended",
    "engaged_one_month",
    "engaged_three_months",
    "disengaged",
)
# What a referral is counted by, besides its period.
GROUPING = ("organisation_id", "counsellor_id", "country", "first_ranked", "chosen_group")
REASON_GROUPING = ("organisation_id", "counsellor_id", "country", "chosen_group")
PERIOD = ("grain", "start")

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Contribution:
    """What one referral adds to the tallies."""

    day: datetime.date
    grouping: Key  # values of GROUPING
    counts: tuple[int, ...]  # 0 or 1 per MEASURES
    reasons: frozenset[tuple[str, str]]  # (theme, code), and (theme, "") once per theme

    @property
    def reason_grouping(self) -> Key:
        organisation, counsellor, country, _first_ranked, chosen = self.grouping
        return (organisation, counsellor, country, chosen)


def periods(day: datetime.date) -> tuple[tuple[str, datetime.date], ...]:
    """The tallies' periods a day counts in: its month and itself."""
    return ((Grain.MONTH, day.replace(day=1)), (Grain.DAY, day))


def contribution(referral: Referral, codes: Iterable[str]) -> Contribution:
    """A pure function of the referral's columns and its reasons for disengaging.

    Its day is the day of the site's time zone (TIME_ZONE, never activated per user or
    organisation), as in the filters of the drill-down list (filters.start_of_day).
    """
    chosen = bool(referral.chosen_group)
    state = {
        "referrals": True,
        "offered_non_twelve_step": referral.offered_non_twelve_step,
        "awaiting": chosen and referral.attended is None and not referral.disengaged,
        "attended": referral.attended is True,
        "not_attended": referral.attended is False,
        "engaged_one_month": referral.engaged_one_month is True,
        "engaged_three_months": referral.engaged_three_months is True,
        "disengaged": referral.disengaged,
    }
    reasons: set[tuple[str, str]] = set()
    if referral.disengaged:
        for code in codes:
            reasons.add((THEME_OF[code], code))
            reasons.add((THEME_OF[code], ""))
    return Contribution(
        day=timezone.localdate(referral.created_at),
        grouping=(
            referral.organisation_id,
            referral.counsellor_id,
            referral.country,
            referral.first_ranked,
            referral.chosen_group,
        ),
        counts=tuple(int(state[name]) for name in MEASURES),
        reasons=frozenset(reasons),
    )


def current(referral: Referral) -> Contribution:
    """What the referral contributes as it is now saved (one query when disengaged)."""
    codes: list[str] = []
    if referral.disengaged:
        codes = list(
            FollowUpReason.objects.filter(follow_up__referral=referral).values_list(
                "code", flat=True
            )
        )
    return contribution(referral, codes)


def contributions(rows: Sequence[Referral]) -> list[Contribution]:
    """What each of these referrals contributes, with one query for their reasons."""
    codes: dict[int, list[str]] = defaultdict(list)
    for referral_id, code in FollowUpReason.objects.filter(
        follow_up__referral__in=[r.pk for r in rows if r.disengaged]
    ).values_list("follow_up__referral_id", "code"):
        codes[referral_id].append(code)
    return [contribution(r, codes[r.pk]) for r in rows]


def move(before: Contribution | None, after: Contribution | None) -> None:
    """Take away what a referral contributed before a write, add what it does after.

    None stands for a referral not there (before it was created, after it was erased).
    Must run in the transaction of the write, with the referral locked.
    """
    _apply([(-1, before), (1, after)])


def remove(parts: Iterable[Contribution]) -> None:
    """Take away what referrals about to be deleted contributed."""
    _apply([(-1, part) for part in parts])


def _apply(signed: Iterable[tuple[int, Contribution | None]]) -> None:
    counts: dict[Key, list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    reasons: dict[Key, int] = defaultdict(int)
    for sign, part in signed:
        if part is None:
            continue
        for period in periods(part.day):
            row = counts[(*period, *part.grouping)]
            for i, value in enumerate(part.counts):
                row[i] += sign * value
            for reason in part.reasons:
                reasons[(*period, *part.reason_grouping, *reason)] += sign
    # In one order whatever the write, so that writes sharing rows lock them in the
    # same order and cannot deadlock.
    for key in sorted(counts):
        changed = {n: delta for n, delta in zip(MEASURES, counts[key], strict=True) if delta}
        if changed:
            _add(Tally, dict(zip((*PERIOD, *GROUPING), key, strict=True)), changed)
    for key in sorted(reasons):
        if reasons[key]:
            fields = dict(zip((*PERIOD, *REASON_GROUPING, "theme", "code"), key, strict=True))
            _add(ReasonTally, fields, {"referrals": reasons[key]})


def _add(
    model: type[Tally] | type[ReasonTally], key: dict[str, Any], deltas: dict[str, int]
) -> None:
    rows = model.objects.filter(**key)
    change = {name: F(name) + delta for name, delta in deltas.items()}
    # A count taken below zero means the tallies are out of step with the referrals.
    enough = {f"{name}__gte": -delta for name, delta in deltas.items() if delta < 0}
    if rows.filter(**enough).update(**change):
        if deltas.get("referrals", 0) < 0:
            rows.filter(referrals=0).delete()  # a row that counts no referral any more
        return
    if enough:
        raise TallyMismatch(model, key)
    try:
        with transaction.atomic():
            model.objects.create(**key, **deltas)
    except IntegrityError:
        # Another write created the row since the update above.
        if not rows.update(**change):
            raise


class TallyMismatch(RuntimeError):
    """A count would go below zero: referrals were written around the services."""

    def __init__(self, model: type[Model], key: dict[str, Any]) -> None:
        super().__init__(
            f"{model._meta.label} has too few referrals counted for {key}: referrals were "
            "written around referrals.services; run manage.py rebuild_tallies."
        )


def _lock() -> None:
    """Writes of referrals wait until new counts are in, so none is lost or counted
    twice (SQLite serialises writes anyway)."""
    if connection.vendor == "postgresql":
        names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Tally, ReasonTally))
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def afresh(organisation_ids: Iterable[int] | None = None) -> Iterator[Tally | ReasonTally]:
    """The tallies counted from the referrals themselves (unsaved): those of days from
    queries grouped by day, and those of months added up from them."""
    referrals = Referral.objects.counted().order_by()
    reasons = FollowUpReason.objects.filter(
        follow_up__referral__in=referrals.filter(disengaged=True)
    ).order_by()
    if organisation_ids is not None:
        ids = list(organisation_ids)
        referrals = referrals.filter(organisation_id__in=ids)
        reasons = reasons.filter(follow_up__referral__organisation_id__in=ids)

    chosen = ~Q(chosen_group="")
    per_day = referrals.values(*GROUPING, day=TruncDate("created_at")).annotate(
        n_referrals=Count("pk"),
        n_offered_non_twelve_step=Count("pk", filter=Q(offered_non_twelve_step=True)),
        n_awaiting=Count("pk", filter=chosen & Q(attended__isnull=True, disengaged=False)),
        n_attended=Count("pk", filter=Q(attended=True)),
        n_not_attended=Count("pk", filter=Q(attended=False)),
        n_engaged_one_month=Count("pk", filter=Q(engaged_one_month=True)),
        n_engaged_three_months=Count("pk", filter=Q(engaged_three_months=True)),
        n_disengaged=Count("pk", filter=Q(disengaged=True)),
    )
    yield from _with_months(
        Tally,
        (
            (
                row["day"],
                {name: row[name] for name in GROUPING},
                {name: row[f"n_{name}"] for name in MEASURES},
            )
            for row in per_day.iterator()
        ),
    )

    of = "follow_up__referral__"
    columns = {name: F(f"{of}{name}") for name in REASON_GROUPING}
    day = TruncDate(f"{of}created_at")
    # Referrals, not reasons: a referral has one disengaged follow-up and gives a reason
    # once; under a theme it counts once however many of the theme's reasons it gave.
    distinct = Count(f"{of}id", distinct=True)
    per_code = reasons.values(**columns, day=day, reason=F("code")).annotate(n=distinct)
    per_theme = reasons.values(**columns, day=day, group=theme_expression("code")).annotate(
        n=distinct
    )

    def reason_rows() -> Iterator[tuple[datetime.date, dict[str, Any], dict[str, int]]]:
        for row in per_code.iterator():
            grouping = {name: row[name] for name in REASON_GROUPING}
            theme = THEME_OF[row["reason"]]
            yield (
                row["day"],
                {**grouping, "theme": theme, "code": row["reason"]},
                {"referrals": row["n"]},
            )
        for row in per_theme.iterator():
            grouping = {name: row[name] for name in REASON_GROUPING}
            yield (
                row["day"],
                {**grouping, "theme": row["group"], "code": ""},
                {"referrals": row["n"]},
            )

    yield from _with_months(ReasonTally, reason_rows())


def _with_months(
    model: type[Tally] | type[ReasonTally],
    rows: Iterable[tuple[datetime.date, dict[str, Any], dict[str, int]]],
) -> Iterator[Tally | ReasonTally]:
    """The tallies of these days, then those of their months, added up from them."""
    months: dict[tuple[Any, ...], dict[str, Any]] = {}
    for day, grouping, counts in rows:
        yield model(grain=Grain.DAY, start=day, **grouping, **counts)
        key = (day.replace(day=1), *grouping.values())
        if key not in months:
            months[key] = {"start": key[0], **grouping, **dict.fromkeys(counts, 0)}
        month = months[key]
        for name, count in counts.items():
            month[name] += count
    for month in months.values():
        yield model(grain=Grain.MONTH, **month)


@transaction.atomic
def rebuild(organisation_ids: Iterable[int] | None = None) -> tuple[int, int]:
    """Count the tallies afresh from the referrals (of some organisations, or all).
    Returns how many rows of Tally and of ReasonTally there are now."""
    ids = None if organisation_ids is None else list(organisation_ids)
    _lock()
    for model in (Tally, ReasonTally):
        stale = model.objects.all()
        (stale if ids is None else stale.filter(organisation_id__in=ids)).delete()
    made: dict[type[Model], int] = {Tally: 0, ReasonTally: 0}
    kind: type[Model]
    for kind, rows in itertools.groupby(afresh(ids), key=type):
        batch: list[Any]
        while batch := list(itertools.islice(rows, 2000)):
            made[kind] += len(kind._default_manager.bulk_create(batch))
    return made[Tally], made[ReasonTally]


def _comparable(row: Tally | ReasonTally) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    grouping: tuple[str, ...]
    measures: tuple[str, ...]
    if isinstance(row, Tally):
        grouping, measures = (*PERIOD, *GROUPING), MEASURES
    else:
        grouping, measures = (*PERIOD, *REASON_GROUPING, "theme", "code"), ("referrals",)
    key = (type(row).__name__, *(getattr(row, name) for name in grouping))
    return key, tuple(getattr(row, name) for name in measures)


def counted(organisation_ids: Iterable[int] | None = None) -> dict[Key, tuple[int, ...]]:
    """The tallies as stored, comparable with those counted afresh."""
    ids = None if organisation_ids is None else list(organisation_ids)
    counts: dict[Key, tuple[int, ...]] = {}
    for model in (Tally, ReasonTally):
        rows = model.objects.all()
        if ids is not None:
            rows = rows.filter(organisation_id__in=ids)
        counts.update(_comparable(row) for row in rows.iterator())
    return counts


def mismatches(organisation_ids: Iterable[int] | None = None) -> int:
    """How many tallies differ from a count afresh of the referrals (missing, extra or
    counting otherwise), an organisation at a time; writes nothing."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # Both counts from one snapshot, while writes go on.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if organisation_ids is None:
            organisation_ids = Organisation.objects.values_list("pk", flat=True)
        wrong = 0
        for organisation_id in list(organisation_ids):
            stored = counted([organisation_id])
            fresh = dict(_comparable(row) for row in afresh([organisation_id]))
            wrong += sum(
                1 for key in stored.keys() | fresh.keys() if stored.get(key) != fresh.get(key)
            )
    return wrong
