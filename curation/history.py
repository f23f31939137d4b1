"""Change histories for curators, gathered from django-simple-history's records.

An app gathers the records of one subject (a group and its facts, a study and its
parts, a meeting and its times) with ``entries`` and merges them ``newest_first``.
Each entry can be undone: a change goes back to the state before it, a creation of
a fact is undone by removing the fact, and a deletion by restoring what was
deleted. An undo is itself a new entry. Models take part through ``register``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

UNDO_REASON = gettext_noop("Undone from the history")
# Columns that say nothing to a reader of the history.
HIDDEN = {"id", "group", "study", "position", "meeting"}


@dataclass(frozen=True)
class Tracked:
    """How a model takes part in histories.

    ``natural_key``: fields that identify a row apart from its id, for rows deleted
    and entered anew. ``undoable_rows``: its creation can be undone (by removing the
    row) and its deletion (by restoring it), because nothing else depends on it.
    ``display``: how a field's stored value reads, where its type does not say.
    """

    natural_key: tuple[str, ...] = ()
    undoable_rows: bool = False
    hidden: frozenset[str] = frozenset()
    display: dict[str, Callable[[Any], str]] = field(default_factory=dict)


_REGISTRY: dict[type[models.Model], Tracked] = {}


def register(model: type[models.Model], **options: Any) -> None:
    _REGISTRY[model] = Tracked(**options)


def tracked(model: type[models.Model]) -> Tracked:
    return _REGISTRY.get(model, Tracked())


class UndoError(Exception):
    """The entry cannot be undone; the message says why."""


@dataclass(frozen=True)
class FieldChange:
    field: str  # the label shown
    old: str
    new: str
    name: str = ""  # the model field


@dataclass(frozen=True)
class HistoryEntry:
    kind: str  # the model's name, in addresses
    model: type[models.Model]
    record: Any
    before: Any  # the object's previous record, or None
    subject: str
    changes: tuple[FieldChange, ...]

    @property
    def date(self) -> Any:
        return self.record.history_date

    @property
    def action(self) -> str:
        actions = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
        return str(actions[self.record.history_type])

    @property
    def can_undo(self) -> bool:
        action = self.record.history_type
        if action == "~":
            # A change with no field of its own (e.g. only a quote's themes) has nothing
            # this page can set back.
            return bool(self.changes)
        # Creating or removing a group, a study or a part of a study's structure is not
        # an undo: other rows hang on them. Facts and trait links come and go freely.
        return tracked(self.model).undoable_rows

    @property
    def undo_label(self) -> str:
        if self.record.history_type == "-":
            return gettext("Restore")
        if self.record.history_type == "+":
            return gettext("Remove")
        return gettext("Undo")


def _display(record: Any, name: str) -> str:
    model = record.instance_type
    field = model._meta.get_field(name)
    value = getattr(record, field.attname)
    shown = tracked(model).display.get(name)
    if shown is not None:
        return shown(record) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dt.datetime):
        return date_format(value, "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if name == "trait":
        return gettext(record.trait.label)
    if field.is_relation:
        related = getattr(record, name, None)
        return str(related) if related is not None else str(value)
    return str(value)


def _fields(model: type[models.Model]) -> list[str]:
    hidden = HIDDEN | tracked(model).hidden
    return [f.name for f in model._meta.concrete_fields if f.name not in hidden]


def entries(model: type[models.Model], records: Iterable[Any], subject: Any) -> list[HistoryEntry]:
    """History entries of one model's records, each with the fields it changed."""
    kind = model._meta.model_name or ""
    names = _fields(model)
    found = []
    previous: dict[Any, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        before = previous.get(record.id)
        changes = []
        for name in names:
            label = str(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
            if record.history_type == "-":
                # What was removed: the last state, going to nothing.
                old = _display(record, name)
                if old != "—":
                    changes.append(FieldChange(label, old, "—", name))
                continue
            new = _display(record, name)
            old = _display(before, name) if before is not None else "—"
            if old != new:
                changes.append(FieldChange(label, old, new, name))
        found.append(HistoryEntry(kind, model, record, before, subject(record), tuple(changes)))
        previous[record.id] = record
    return found


def newest_first(*histories: list[HistoryEntry]) -> list[HistoryEntry]:
    merged = [entry for history in histories for entry in history]
    merged.sort(key=lambda entry: (entry.date, entry.record.history_id), reverse=True)
    return merged


def find_entry(history: list[HistoryEntry], kind: str, history_id: int) -> HistoryEntry | None:
    for entry in history:
        if entry.kind == kind and entry.record.history_id == history_id:
            return entry
    return None


def _current(model: Any, instance: models.Model) -> models.Model | None:
    """The live row the record is about: by id, or by its natural key if entered anew."""
    current = model.objects.filter(pk=instance.pk).first()
    natural_key = tracked(model).natural_key
    if current is None and natural_key:
        lookup = {name: getattr(instance, name) for name in natural_key}
        current = model.objects.filter(**lookup).first()
    return current  # type: ignore[no-any-return]


@transaction.atomic
def undo(entry: HistoryEntry, *, reason: str = UNDO_REASON) -> None:
    if not entry.can_undo:
        raise UndoError(gettext("This entry cannot be undone here."))
    model: Any = entry.model
    record = entry.record
    if record.history_type == "+":
        current = _current(model, record.instance)
        if current is None:
            raise UndoError(gettext("Nothing to undo: it has already been removed."))
        current._change_reason = reason  # type: ignore[attr-defined]
        try:
            current.delete()
        except ProtectedError as error:
            raise UndoError(gettext("Other records depend on it; it cannot be removed.")) from error
        return
    if record.history_type == "-":
        # Bring back the state the deletion removed.
        target = record.instance
        if _current(model, target) is not None:
            raise UndoError(gettext("Nothing to undo: it exists again."))
    else:
        # Set back only the fields this change changed, so later changes stay.
        if entry.before is None:
            raise UndoError(gettext("The state before this change was not recorded."))
        target = _current(model, record.instance)
        if target is None:
            raise UndoError(gettext("Nothing to undo: it has been removed since."))
        names = [change.name for change in entry.changes]
        previous = entry.before.instance
        if all(
            getattr(target, _attname(model, n)) == getattr(previous, _attname(model, n))
            for n in names
        ):
            raise UndoError(gettext("Nothing to undo: it is already in that state."))
        for name in names:
            setattr(target, _attname(model, name), getattr(previous, _attname(model, name)))
    try:
        target.full_clean()
    except ValidationError as error:
        raise UndoError(" ".join(error.messages)) from error
    target._change_reason = reason
    target.save()


def _attname(model: Any, name: str) -> str:
    return str(model._meta.get_field(name).attname)
