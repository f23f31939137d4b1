"""One way to import: read within limits, find every problem in one pass, preview, apply.

Every importer (the catalog, the studies, the meeting feeds) goes through this
module:

1. *Read* the uploaded or fetched bytes into Python values within bounds on size,
   nesting depth and decompression (``read_json``, ``read_zip``, ``read_csv``).
2. *Check* every row, collecting ``Problem``s located by names a curator knows
   (a group, a trait, a meeting, a row number), never by JSON paths.
3. *Plan*: the ``Change``s the document would make, shown as a preview.
4. *Apply* the plan in one transaction.

A document that cannot be imported raises ``ImportRefused`` with all its problems.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import models, transaction
from simple_history.signals import post_create_historical_record
from simple_history.utils import get_history_manager_for_model


@dataclass(frozen=True)
class Problem:
    """What is wrong (``message``) and where, in a curator's words (``where``)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ImportRefused(Exception):
    """A document that cannot be imported; ``problems`` says every reason found."""

    def __init__(self, problems: Iterable[Problem | str]) -> None:
        self.problems = [p if isinstance(p, Problem) else Problem("", p) for p in problems]
        super().__init__("\n".join(self.errors))

    @property
    def errors(self) -> list[str]:
        return [str(problem) for problem in self.problems]


class Problems:
    """Collects problems while checking a whole document."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(Problem(where, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def refuse_if_any(self) -> None:
        if self.items:
            raise ImportRefused(self.items)


Action = Literal["create", "update", "retire", "delete", "unchanged"]


@dataclass(frozen=True)
class Change:
    """One row the plan creates, updates, retires or deletes, named for a curator."""

    action: Action
    kind: str  # e.g. "group", "trait value", "meeting" (translated when shown)
    name: str  # e.g. "Narcotics Anonymous — Sponsorship"
    fields: tuple[str, ...] = ()  # labels of the fields an update changes


@dataclass
class Plan:
    """What a document would change; ``apply`` makes it so in one transaction.

    ``skipped`` holds problems with single rows that did not stop the others (a
    meeting feed's bad row); a document with problems that stop it never becomes a
    plan: it raises ``ImportRefused`` instead.
    """

    changes: list[Change]
    write: Callable[[], Any]
    skipped: list[Problem] = field(default_factory=list)
    # What a curator should know before applying, beside the changes.
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(change.action for change in self.changes)

    @property
    def changing(self) -> list[Change]:
        return [change for change in self.changes if change.action != "unchanged"]

    @property
    def digest(self) -> str:
        """Identifies what the plan would change: a preview is applied only while the
        plan made again at that moment is the same as the one shown."""
        text = "\n".join("\t".join((c.action, c.kind, c.name, *c.fields)) for c in self.changing)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def apply(self) -> Any:
        with transaction.atomic():
            return self.write()


# --- Writing many rows with their history ---------------------------------------------
#
# django-simple-history's bulk writes record history rows but send no signal for them;
# these send ``post_create_historical_record`` for each, as a save would, so that what
# listens (the audit trail) sees a bulk import as it sees an edit.


def create_with_history(
    model: type[models.Model], objs: Sequence[models.Model], *, reason: str
) -> list[Any]:
    """Insert ``objs`` in bulk with a "created" history row each; returns them with ids."""
    if not objs:
        return []
    created = model._default_manager.bulk_create(objs, batch_size=500)
    _history(model, created, reason=reason, update=False)
    return created


def update_with_history(
    model: type[models.Model],
    objs: Sequence[models.Model],
    fields: Iterable[str],
    *,
    reason: str,
) -> None:
    """Update ``fields`` of ``objs`` in bulk with a "changed" history row each.

    Rows that take the same values are updated by one ``UPDATE … WHERE id IN …`` per
    set of values (an import that sets many rows to the same value); when nearly every
    row takes values of its own, by ``bulk_update``, whose ``CASE`` per row costs more
    to build than a shared ``UPDATE`` but less than one query per row.
    """
    names = sorted(set(fields))
    if not objs or not names:
        return
    manager = model._default_manager
    attnames = [model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
    alike: dict[tuple[Any, ...], list[Any]] = {}
    for obj in objs:
        values = tuple(getattr(obj, attname) for attname in attnames)
        alike.setdefault(values, []).append(obj.pk)
    if len(alike) * 4 <= len(objs):
        for values, pks in alike.items():
            for start in range(0, len(pks), 500):
                batch = pks[start : start + 500]
                manager.filter(pk__in=batch).update(**dict(zip(attnames, values, strict=True)))
    else:
        manager.bulk_update(objs, names, batch_size=500)
    _history(model, objs, reason=reason, update=True)


def _history(
    model: type[models.Model], objs: Sequence[models.Model], *, reason: str, update: bool
) -> None:
    manager = get_history_manager_for_model(model)
    records = manager.bulk_history_create(
        objs, batch_size=500, update=update, default_change_reason=reason
    )
    if records is None:  # history switched off (SIMPLE_HISTORY_ENABLED)
        return
    for instance, record in zip(objs, records, strict=True):
        post_create_historical_record.send(
            sender=manager.model,
            instance=instance,
            history_instance=record,
            history_date=record.history_date,
            history_user=record.history_user,
            history_change_reason=record.history_change_reason,
            using=None,
        )


# --- Preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """The changes of one kind of row, as a preview lists them."""

    kind: str
    counts: dict[str, int]  # by action, "unchanged" included
    shown: tuple[Change, ...]  # the changing rows, up to the preview's limit
    hidden: int  # changing rows beyond it

    @property
    def created(self) -> int:
        return self.counts.get("create", 0)

    @property
    def updated(self) -> int:
        return self.counts.get("update", 0)

    @property
    def removed(self) -> int:
        return self.retired + self.deleted

    @property
    def retired(self) -> int:
        return self.counts.get("retire", 0)

    @property
    def deleted(self) -> int:
        return self.counts.get("delete", 0)

    @property
    def unchanged(self) -> int:
        return self.counts.get("unchanged", 0)


ACTION_ORDER: tuple[Action, ...] = ("create", "update", "retire", "delete")


def sections(changes: Iterable[Change], *, limit: int = 100) -> list[Section]:
    """Changes grouped by kind, in the order kinds first appear; within a kind, what
    is created, then updated, retired and deleted, at most ``limit`` rows of each kind."""
    by_kind: dict[str, list[Change]] = {}
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change)
    result = []
    for kind, items in by_kind.items():
        counts: Counter[str] = Counter(change.action for change in items)
        changing = sorted(
            (change for change in items if change.action != "unchanged"),
            key=lambda change: ACTION_ORDER.index(change.action),
        )
        result.append(
            Section(
                kind=kind,
                counts=dict(counts),
                shown=tuple(changing[:limit]),
                hidden=max(0, len(changing) - limit),
            )
        )
    return result
