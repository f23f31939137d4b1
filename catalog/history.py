"""A group's change history, gathered from the group, its trait values and availability."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from catalog.models import Availability, Group, TraitValue

TRACKED: dict[str, type[models.Model]] = {
    "group": Group,
    "traitvalue": TraitValue,
    "availability": Availability,
}
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "traitvalue": ("group_id", "trait_id"),
    "availability": ("group_id", "country", "region"),
}
# Columns that say nothing to a reader of the history.
HIDDEN = {"id", "group"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    kind: str
    record: Any
    subject: str
    changes: tuple[FieldChange, ...]

    @property
    def date(self) -> Any:
        return self.record.history_date

    @property
    def action(self) -> str:
        actions = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
        return str(actions[self.record.history_type])


def _display(record: Any, name: str) -> str:
    field = record.instance_type._meta.get_field(name)
    value = getattr(record, field.attname)
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        related = getattr(record, name, None)
        return str(related) if related is not None else str(value)
    return str(value)


def _fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in HIDDEN]


def _entries(kind: str, records: Iterable[Any], subject: Any) -> list[HistoryEntry]:
    model = TRACKED[kind]
    names = _fields(model)
    entries = []
    previous: dict[Any, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        before = previous.get(record.id)
        changes = []
        for name in names:
            new = _display(record, name)
            old = _display(before, name) if before is not None else "—"
            if record.history_type == "-" or (before is not None and old == new):
                continue
            if before is None and new == "—":
                continue
            label = model._meta.get_field(name).verbose_name  # type: ignore[union-attr]
            changes.append(FieldChange(str(label), old, new))
        entries.append(HistoryEntry(kind, record, subject(record), tuple(changes)))
        previous[record.id] = record
    return entries


def group_history(group: Group) -> list[HistoryEntry]:
    """Every recorded change to the group and its facts, newest first.

    Four queries, however long the history: one per tracked table, with the
    users, traits and sources joined in.
    """
    group_records = Group.history.filter(id=group.pk).select_related("history_user")
    value_records = TraitValue.history.filter(group_id=group.pk).select_related(
        "history_user", "trait", "source"
    )
    place_records = Availability.history.filter(group_id=group.pk).select_related(
        "history_user", "source"
    )
    entries = [
        *_entries("group", group_records, lambda record: str(_("Group details"))),
        *_entries("traitvalue", value_records, lambda record: str(record.trait)),
        *_entries("availability", place_records, _place),
    ]
    entries.sort(key=lambda entry: (entry.date, entry.record.history_id), reverse=True)
    return entries


def _place(record: Any) -> str:
    name = str(record.country.name)
    return (
        f"{_('Availability')}: {name}, {record.region}"
        if record.region
        else f"{_('Availability')}: {name}"
    )


class RevertError(Exception):
    """The state a record holds can no longer be saved; the message says why."""


@transaction.atomic
def revert(kind: str, history_id: int, *, group: Group, reason: str) -> models.Model:
    """Bring one object back to the state a history record holds.

    A deleted trait value or availability row is restored; the revert is itself a
    new change in the history.
    """
    model: Any = TRACKED[kind]
    owner = {"id": group.pk} if kind == "group" else {"group_id": group.pk}
    record = get_object_or_404(model.history, history_id=history_id, **owner)
    # A deletion record holds the last state before the delete, so restoring any
    # record is the same: save the state it holds.
    instance = record.instance
    natural_key = NATURAL_KEYS.get(kind)
    if natural_key:
        # The fact may have been deleted and entered again since, under a new id.
        current = model.objects.filter(**{f: getattr(instance, f) for f in natural_key}).first()
        if current is not None:
            instance.pk = current.pk
    # Saving over a row that exists is an update, whichever record restored it.
    instance._state.adding = not model.objects.filter(pk=instance.pk).exists()
    try:
        instance.full_clean()
    except ValidationError as error:
        raise RevertError(" ".join(error.messages)) from error
    instance._change_reason = reason
    instance.save()
    return instance  # type: ignore[no-any-return]
