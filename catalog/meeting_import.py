"""Meetings from a fellowship's feed, planned and applied through the curation engine.

``plan_feed`` compares a feed's records (catalog.feeds) with the meetings it gave
before, by their identifier in the feed: new ones are created, changed ones updated
(only what changed), vanished ones retired (kept, not offered; one that comes back is
offered again), weekly times replaced when they differ. Applying the plan writes it in
one transaction with a history row per changed row, then derives the feed's
availability per country. An import of the same data again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit import log
from catalog.feeds import FeedMeeting, parse
from catalog.languages import join_languages, split_languages
from catalog.models import Availability, Group, Meeting, MeetingFeed, MeetingSlot, Source
from curation.imports import Change, Plan, Problem, create_with_history, update_with_history

IMPORT_REASON = "Meeting feed import"

# Meeting fields a feed sets, with the record attribute each comes from.
FIELDS = (
    "name", "attendance", "location", "address", "municipality", "postcode", "country",
    "latitude", "longitude", "online_url", "online_notes", "phone", "languages", "codes",
    "openness", "women_only", "secular", "wheelchair_access", "notes", "source_updated",
)  # fmt: skip


@dataclass
class FeedReport:
    created: int
    updated: int
    retired: int
    unchanged: int
    availability: int  # availability rows created, updated or deleted

    def __str__(self) -> str:
        return _(
            "%(created)d created, %(updated)d updated, %(retired)d retired, "
            "%(unchanged)d unchanged; %(availability)d availability rows written."
        ) % vars(self)


def _values(record: FeedMeeting) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in FIELDS}
    values["languages"] = join_languages(record.languages)
    return values


def _slot_key(slots: Any) -> list[tuple[int, dt.time, dt.time | None, str]]:
    return sorted(set(slots), key=lambda s: (s[0], s[1], s[2] or dt.time(0), s[3]))


def plan_feed(
    feed: MeetingFeed, records: list[FeedMeeting], problems: list[Problem], *, now: dt.datetime
) -> Plan:
    """What importing ``records`` into ``feed`` would change (feed.group must be set)."""
    group = feed.group
    if group is None:
        raise ValueError("the feed needs a group")
    namespace = f"{feed.format}:{group.slug}"
    existing = {meeting.external_id: meeting for meeting in Meeting.objects.filter(feed=feed)}
    # Weekly times read as tuples: model instances for every slot of a large feed cost
    # more than the rest of the comparison.
    current_slots: dict[int, list[Any]] = defaultdict(list)
    for meeting_id, *slot in MeetingSlot.objects.filter(meeting__feed=feed).values_list(
        "meeting_id", "weekday", "starts", "ends", "timezone"
    ):
        current_slots[meeting_id].append(tuple(slot))
    changes: list[Change] = []
    creates: list[tuple[Meeting, FeedMeeting]] = []
    updates: list[tuple[Meeting, dict[str, Any]]] = []
    reslot: list[tuple[Meeting, FeedMeeting]] = []
    seen: set[str] = set()
    for record in records:
        seen.add(record.external_id)
        values = _values(record)
        values.update(group_id=group.pk, code_namespace=namespace, retired_at=None)
        meeting = existing.get(record.external_id)
        if meeting is None:
            creates.append((Meeting(feed=feed, external_id=record.external_id, **values), record))
            changes.append(Change("create", "meeting", record.name))
            continue
        changed = {
            name: value
            for name, value in values.items()
            if getattr(meeting, name if name != "group_id" else "group_id") != value
        }
        current = _slot_key(current_slots.get(meeting.pk, []))
        slots_differ = current != _slot_key(record.slots)
        if changed:
            updates.append((meeting, changed))
        if slots_differ:
            reslot.append((meeting, record))
        if changed or slots_differ:
            labels = [
                str(getattr(Meeting._meta.get_field(n.removesuffix("_id")), "verbose_name", n))
                for n in changed
            ]
            if slots_differ:
                labels.append(_("weekly times"))
            changes.append(Change("update", "meeting", record.name, tuple(labels)))
        else:
            changes.append(Change("unchanged", "meeting", record.name))
    retire = [
        meeting
        for external_id, meeting in existing.items()
        if external_id not in seen and meeting.retired_at is None
    ]
    for meeting in retire:
        changes.append(Change("retire", "meeting", meeting.name))

    def write() -> FeedReport:
        with log.batch():
            new = [meeting for meeting, _record in creates]
            create_with_history(Meeting, new, reason=IMPORT_REASON)
            for meeting, changed in updates:
                for name, value in changed.items():
                    setattr(meeting, name, value)
            fields = {name.removesuffix("_id") for _m, changed in updates for name in changed}
            update_with_history(Meeting, [m for m, _c in updates], fields, reason=IMPORT_REASON)
            for meeting in retire:
                meeting.retired_at = now
            update_with_history(Meeting, retire, ["retired_at"], reason=IMPORT_REASON)
            for slot in MeetingSlot.objects.filter(meeting__in=[m.pk for m, _r in reslot]):
                slot._change_reason = IMPORT_REASON  # type: ignore[attr-defined]
                slot.delete()
            slots = [
                MeetingSlot(meeting=meeting, weekday=d, starts=s, ends=e, timezone=tz)
                for meeting, record in (*creates, *reslot)
                for d, s, e, tz in _slot_key(record.slots)
            ]
            create_with_history(MeetingSlot, slots, reason=IMPORT_REASON)
            written = derive_availability(feed, today=now.date())
        counts = dict.fromkeys(("create", "update", "retire", "unchanged"), 0)
        for change in changes:
            counts[change.action] += 1
        return FeedReport(
            created=counts["create"],
            updated=counts["update"],
            retired=counts["retire"],
            unchanged=counts["unchanged"],
            availability=written,
        )

    result = Plan(changes=changes, write=write, skipped=list(problems))
    unplaced = [
        record.name
        for record in records
        if record.attendance != "online" and record.latitude is None
    ]
    if unplaced:
        # Kept, but a search by distance cannot find them.
        result.notes.append(
            ngettext(
                "%(count)d meeting in person has no coordinates and cannot be found by distance.",
                "%(count)d meetings in person have no coordinates and cannot be found by distance.",
                len(unplaced),
            )
            % {"count": len(unplaced)}
        )
    return result


def derive_availability(feed: MeetingFeed, *, today: dt.date) -> int:
    """The feed's own availability rows, one per country of its current meetings in
    person: weekly in-person times there, online yes or no, the languages. Rows of
    other sources are never touched. Returns the number of rows written or deleted."""
    group = feed.group
    assert group is not None
    region = feed.name[:100]
    per_week: dict[str, int] = defaultdict(int)
    languages: dict[str, set[str]] = defaultdict(set)
    online: dict[str, bool] = defaultdict(bool)
    current = Meeting.objects.filter(feed=feed, retired_at__isnull=True)
    in_person = current.exclude(attendance="online").exclude(country="")
    any_online = current.exclude(attendance="in_person").exists()
    for country, spoken in in_person.values_list("country", "languages").distinct():
        languages[country].update(split_languages(spoken))
    slots = MeetingSlot.objects.filter(meeting__in=in_person).values_list("meeting__country")
    for country, count in slots.annotate(count=Count("id")).order_by():
        per_week[country] = count
    remote = current.exclude(attendance="in_person").exclude(country="")
    for country in remote.values_list("country", flat=True).distinct():
        online[country] = True
    own = {
        str(row.country): row
        for row in Availability.objects.filter(group=group, source=feed.source, region=region)
    }
    taken = set(
        Availability.objects.filter(group=group, region=region, country__in=list(per_week))
        .exclude(source=feed.source)
        .values_list("country", flat=True)
    )
    create, update, fields = [], [], set()
    for country, count in per_week.items():
        if country in taken:
            continue
        values = {
            "in_person_per_week": count,
            "online": "yes" if (online[country] or any_online) else "no",
            "languages": join_languages(languages[country]),
        }
        row = own.get(country)
        if row is None:
            create.append(
                Availability(
                    group=group,
                    country=country,
                    region=region,
                    source=feed.source,
                    verified_on=today,
                    **values,
                )
            )
            continue
        changed = {name for name, value in values.items() if getattr(row, name) != value}
        if row.verified_on != today:
            changed.add("verified_on")
        if changed:
            for name, value in values.items():
                setattr(row, name, value)
            row.verified_on = today
            update.append(row)
            fields |= changed
    create_with_history(Availability, create, reason=IMPORT_REASON)
    update_with_history(Availability, update, fields, reason=IMPORT_REASON)
    gone = [row for country, row in own.items() if country not in per_week]
    for row in gone:
        row._change_reason = IMPORT_REASON  # type: ignore[attr-defined]
        row.delete()
    return len(create) + len(update) + len(gone)


# --- Feeds: creating one, importing its bytes -------------------------------------------


def feed_source(feed: MeetingFeed) -> Source:
    """The feed's own source (created when missing): key "feed-<key>"."""
    source, _created = Source.objects.get_or_create(
        key=f"feed-{feed.key}"[:50],
        defaults={
            "title": _("%(name)s (meeting feed)") % {"name": feed.name},
            "url": feed.url,
            "kind": Source.Kind.PRIMARY,
        },
    )
    return source


def ensure_feed(
    key: str, *, format: str, group: Group | None, url: str = "", timezone: str = ""
) -> MeetingFeed:
    """The feed with ``key``, created with its own source when new."""
    feed = MeetingFeed.objects.select_related("group", "source").filter(key=key).first()
    if feed is None:
        feed = MeetingFeed(
            key=key,
            name=key.replace("-", " ").title(),
            format=format,
            url=url,
            group=group,
            timezone=timezone,
        )
        feed.source = feed_source(feed)
        feed.save()
        return feed
    changed = []
    if group is not None and feed.group_id != group.pk:
        feed.group = group
        changed.append("group")
    if timezone and feed.timezone != timezone:
        feed.timezone = timezone
        changed.append("timezone")
    if changed:
        feed.save(update_fields=changed)
    return feed


def plan_bytes(feed: MeetingFeed, data: bytes, *, now: dt.datetime, name: str = "") -> Plan:
    """Parse ``data`` in the feed's format and plan it (raises ``ImportRefused``)."""
    records, problems = parse(feed.format, data, timezone=feed.timezone, name=name or feed.key)
    return plan_feed(feed, records, problems, now=now)
