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
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Model, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

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
    """A pure function of the referral's columns and its reasons for disengaging."""
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


def contributions(referrals: QuerySet[Referral]) -> list[Contribution]:
    """What each of these referrals contributes, in two queries."""
    rows = list(referrals)
    codes: dict[int, list[str]] = defaultdict(list)
    for referral_id, code in FollowUpReason.objects.filter(
        follow_up__referral__in=[r.pk for r in rows if r.disengaged]
    ).values_list("follow_up__referral_id", "code"):
        codes[referral_id].append(code)
    return [contribution(r, codes[r.pk]) for r in rows]


def move(before: Contribution | None, after: Contribution | None) -> None:
    """Take away what a referral contributed before a write, add what it does after.

    None stands for a referral not there (before it was created, after it was erased).
    Must run in the transaction of the write.
    """
    counts: dict[Key, list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    reasons: dict[Key, int] = defaultdict(int)
    for sign, part in ((-1, before), (1, after)):
        if part is None:
            continue
        for period in periods(part.day):
            row = counts[(*period, *part.grouping)]
            for i, value in enumerate(part.counts):
                row[i] += sign * value
            for reason in part.reasons:
                reasons[(*period, *part.reason_grouping, *reason)] += sign
    for key, deltas in counts.items():
        changed = {name: delta for name, delta in zip(MEASURES, deltas, strict=True) if delta}
        if changed:
            _add(Tally, dict(zip((*PERIOD, *GROUPING), key, strict=True)), changed)
    for key, delta in reasons.items():
        if delta:
            fields = dict(zip((*PERIOD, *REASON_GROUPING, "theme", "code"), key, strict=True))
            _add(ReasonTally, fields, {"referrals": delta})


def _add(model: type[Model], key: dict[str, Any], deltas: dict[str, int]) -> None:
    rows = model._default_manager.filter(**key)
    change = {name: F(name) + delta for name, delta in deltas.items()}
    if rows.update(**change):
        return
    if any(delta < 0 for delta in deltas.values()):
        raise TallyMismatch(model, key)
    try:
        with transaction.atomic():
            model._default_manager.create(**key, **deltas)
    except IntegrityError:
        # Another write created the row since the update above.
        if not rows.update(**change):
            raise


class TallyMismatch(RuntimeError):
    """A count would go below zero: referrals were written around the services."""

    def __init__(self, model: type[Model], key: dict[str, Any]) -> None:
        super().__init__(
            f"{model._meta.label} has no row for {key} to take a referral from; "
            "referrals were changed around referrals.services: run manage.py rebuild_tallies."
        )


@transaction.atomic
def rebuild(organisation_ids: Iterable[int] | None = None) -> tuple[int, int]:
    """Count the tallies afresh from the referrals (of some organisations, or all).
    Returns how many rows of Tally and of ReasonTally there are now."""
    referrals = Referral.objects.order_by()
    reasons = FollowUpReason.objects.filter(follow_up__referral__disengaged=True).order_by()
    tallies, reason_tallies = Tally.objects.all(), ReasonTally.objects.all()
    if organisation_ids is not None:
        ids = list(organisation_ids)
        referrals = referrals.filter(organisation_id__in=ids)
        reasons = reasons.filter(follow_up__referral__organisation_id__in=ids)
        tallies = tallies.filter(organisation_id__in=ids)
        reason_tallies = reason_tallies.filter(organisation_id__in=ids)
    if connection.vendor == "postgresql":
        # Writes of referrals wait until the new counts are in; none is lost or
        # counted twice (SQLite serialises writes anyway).
        names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Tally, ReasonTally))
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
    tallies.delete()
    reason_tallies.delete()

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
    made = _save(
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
    distinct = Count(f"{of}id", distinct=True)
    per_code = reasons.values(**columns, day=day, reason=F("code")).annotate(n=distinct)
    # Two reasons of one theme count the referral once under the theme.
    per_theme = reasons.values(**columns, day=day, group=theme_expression("code")).annotate(
        n=distinct
    )
    reason_rows = [
        (
            row["day"],
            {
                **{name: row[name] for name in REASON_GROUPING},
                "theme": THEME_OF[row["reason"]],
                "code": row["reason"],
            },
            {"referrals": row["n"]},
        )
        for row in per_code.iterator()
    ] + [
        (
            row["day"],
            {**{name: row[name] for name in REASON_GROUPING}, "theme": row["group"], "code": ""},
            {"referrals": row["n"]},
        )
        for row in per_theme.iterator()
    ]
    return made, _save(ReasonTally, reason_rows)


def _save(
    model: type[Tally] | type[ReasonTally],
    rows: Iterable[tuple[datetime.date, dict[str, Any], dict[str, int]]],
) -> int:
    """Save the tallies of days as they come, and those of months added up from them.
    Returns how many rows were saved."""
    months: dict[tuple[Any, ...], dict[str, Any]] = {}

    def every() -> Iterator[Tally | ReasonTally]:
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

    made = 0
    batch: list[Any] = []
    for row in every():
        batch.append(row)
        if len(batch) == 2000:
            made += len(model.objects.bulk_create(batch))
            batch = []
    return made + len(model.objects.bulk_create(batch))


def counted(organisation_ids: Iterable[int] | None = None) -> set[tuple[Any, ...]]:
    """The tallies as they stand, as comparable rows, leaving out rows counted down to
    zero (moves leave them behind; they add nothing)."""
    tallies = Tally.objects.filter(referrals__gt=0)
    reasons = ReasonTally.objects.filter(referrals__gt=0)
    if organisation_ids is not None:
        ids = list(organisation_ids)
        tallies, reasons = (
            tallies.filter(organisation_id__in=ids),
            reasons.filter(organisation_id__in=ids),
        )
    return {("tally", *row) for row in tallies.values_list(*PERIOD, *GROUPING, *MEASURES)} | {
        ("reason", *row)
        for row in reasons.values_list(*PERIOD, *REASON_GROUPING, "theme", "code", "referrals")
    }


def mismatches(organisation_ids: Iterable[int] | None = None) -> int:
    """How many rows of the tallies differ from a count afresh; writes nothing."""
    ids = None if organisation_ids is None else list(organisation_ids)
    with transaction.atomic():
        kept = counted(ids)
        rebuild(ids)
        fresh = counted(ids)
        transaction.set_rollback(True)
    return len(kept ^ fresh)
