"""A group's change history: the group, its trait values, availability and meetings.

The engine (entries, undo) is ``curation.history``; this module says how the
catalog's models take part and gathers a group's records.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Subquery
from django.utils.translation import gettext

from catalog.languages import language_name, split_languages
from catalog.models import (
    Availability,
    Group,
    Meeting,
    MeetingFeed,
    MeetingSlot,
    Source,
    TraitValue,
)
from curation.history import HistoryEntry, entries, newest_first, register


def _country(record: Any) -> str:
    # An availability row without a country reads "Worldwide"; a trait value's "—".
    return str(record.country.name)


def _languages(record: Any) -> str:
    return ", ".join(language_name(code) for code in split_languages(record.languages))


_SHOWN = {"country": _country, "languages": _languages}
register(Group, display={"languages": _languages})
register(Source)
register(
    TraitValue, natural_key=("group_id", "trait_id", "country"), undoable_rows=True, display=_SHOWN
)
register(
    Availability, natural_key=("group_id", "country", "region"), undoable_rows=True, display=_SHOWN
)
register(Meeting, display=_SHOWN, hidden=frozenset({"updated_at", "code_namespace"}))
register(MeetingSlot, undoable_rows=True)
register(MeetingFeed)


def group_version(group: Group) -> str:
    """Where the group's history stands: the newest record of the group, of its trait
    values and of its availability (one query). An edit form carries it, so that saving
    over a change made since the form was opened is refused
    (catalog.services.save_group)."""
    if not group.pk:
        return ""

    def newest(model: Any, field: str) -> Subquery:
        records = model.history.filter(**{field: group.pk}).order_by("-history_id")
        return Subquery(records.values("history_id")[:1])

    row = (
        Group.objects.filter(pk=group.pk)
        .annotate(
            g=newest(Group, "id"),
            t=newest(TraitValue, "group_id"),
            a=newest(Availability, "group_id"),
        )
        .values_list("g", "t", "a")
        .first()
    )
    return "-".join(str(n or 0) for n in row or ())


def group_history(group: Group) -> list[HistoryEntry]:
    """Every recorded change to the group and its facts, newest first.

    Three queries, however long the history: one per tracked table, with the
    users, traits and sources joined in.
    """
    group_records = Group.history.filter(id=group.pk).select_related("history_user")
    value_records = TraitValue.history.filter(group_id=group.pk).select_related(
        "history_user", "trait", "source"
    )
    place_records = Availability.history.filter(group_id=group.pk).select_related(
        "history_user", "source"
    )
    return newest_first(
        entries(Group, group_records, lambda record: gettext("Group details")),
        entries(TraitValue, value_records, _trait),
        entries(Availability, place_records, _place),
    )


def _trait(record: Any) -> str:
    label = gettext(record.trait.label)
    if not record.country:
        return label
    return gettext("%(trait)s in %(country)s") % {"trait": label, "country": record.country.name}


def _place(record: Any) -> str:
    place = str(record.country.name)
    if record.region:
        place = f"{place}, {record.region}"
    return gettext("Where it meets: %(place)s") % {"place": place}


def meeting_history(meeting: Meeting) -> list[HistoryEntry]:
    """Every recorded change to the meeting and its weekly times, newest first (two
    queries, however long the history)."""
    meeting_records = Meeting.history.filter(id=meeting.pk).select_related(
        "history_user", "group", "feed"
    )
    slot_records = MeetingSlot.history.filter(meeting_id=meeting.pk).select_related("history_user")
    return newest_first(
        entries(Meeting, meeting_records, lambda record: gettext("Meeting details")),
        entries(MeetingSlot, slot_records, _slot),
    )


def _slot(record: Any) -> str:
    return gettext("Weekly time: %(day)s %(time)s") % {
        "day": record.get_weekday_display(),
        "time": record.starts.strftime("%H:%M"),
    }
