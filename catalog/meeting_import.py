"""Meetings from a fellowship's feed, planned and applied through the curation engine.

``plan_feed`` compares a feed's meetings (``catalog.feeds``) with the meetings it gave
before, by their identifier in the feed: new ones are created, changed ones updated
(only what changed), vanished ones retired (kept, not offered; one that comes back is
offered again), weekly times replaced when they differ. Applying the plan writes it in
one transaction with a history row (and so an audit entry) per changed row, then
derives the feed's availability per group and country. Importing the same data
again writes nothing.

The feed's own bookkeeping (when it was last refreshed, its last report) is written
without history: it is not a fact of the catalog.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Count
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from simple_history.signals import post_create_historical_record
from simple_history.utils import get_history_manager_for_model

from audit import log
from catalog.feeds import FeedMeeting, Parsed, parse
from catalog.feeds.base import meeting_label
from catalog.languages import join_languages, split_languages
from catalog.models import Availability, Group, Meeting, MeetingFeed, MeetingSlot, Source
from curation.imports import Change, Plan, Problem, create_with_history, update_with_history

IMPORT_REASON = "Meeting feed import"
# A feed's last report keeps at most this many lines of rows left out and notes.
REPORT_LINES = 200

# Meeting fields a feed sets, named as the record names them.
FIELDS = (
    "name", "attendance", "location", "address", "municipality", "postcode", "country",
    "latitude", "longitude", "location_notes", "online_url", "online_notes", "phone",
    "phone_notes", "languages", "codes", "openness", "women_only", "secular",
    "wheelchair_access", "notes", "source_updated",
)  # fmt: skip


@dataclass
class FeedReport:
    """What an import did, as the commands print it and the feed keeps it."""

    created: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    skipped: int = 0
    availability: int = 0  # derived availability rows created, updated or deleted
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return _(
            "%(created)d created, %(updated)d updated, %(retired)d retired, "
            "%(unchanged)d unchanged, %(skipped)d left out; "
            "availability by country: %(availability)d updated."
        ) % {
            "created": self.created,
            "updated": self.updated,
            "retired": self.retired,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "availability": self.availability,
        }


class FeedBusy(Exception):
    """Another process is importing the feed right now."""


# --- Planning ---------------------------------------------------------------------------


def _values(record: FeedMeeting) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in FIELDS}
    values["languages"] = join_languages(record.languages)
    return values


def _field_label(name: str) -> str:
    field = Meeting._meta.get_field(name.removesuffix("_id"))
    return str(getattr(field, "verbose_name", name))


def plan_feed(feed: MeetingFeed, parsed: Parsed, *, now: dt.datetime) -> Plan:
    """What importing ``parsed`` into ``feed`` would change.

    A row's group is the one its ``group`` cell names (CSV) or else the feed's; a row
    with neither, or naming a group the catalog lacks, is left out.
    """
    skipped = list(parsed.skipped)
    slugs = {record.group for record in parsed.meetings if record.group}
    groups = {group.slug: group for group in Group.objects.filter(slug__in=slugs)}
    existing = {meeting.external_id: meeting for meeting in Meeting.objects.filter(feed=feed)}
    # Weekly times read as tuples: a model instance for every slot of a large feed costs
    # more than the rest of the comparison.
    current_slots: dict[int, list[Any]] = defaultdict(list)
    for meeting_id, *slot in (
        MeetingSlot.objects.filter(meeting__feed=feed)
        .order_by("weekday", "starts")
        .values_list("meeting_id", "weekday", "starts", "ends", "timezone")
    ):
        current_slots[meeting_id].append(tuple(slot))
    changes: list[Change] = []
    creates: list[tuple[Meeting, FeedMeeting]] = []
    updates: list[tuple[Meeting, dict[str, Any]]] = []
    reslot: list[tuple[Meeting, FeedMeeting]] = []
    seen: set[str] = set()
    for record in parsed.meetings:
        group = groups.get(record.group) if record.group else feed.group
        if group is None:
            message = (
                _("no group “%(slug)s” in the catalog") % {"slug": record.group}
                if record.group
                else _("no group: name it in the group column or for the feed")
            )
            skipped.append(Problem(record.where, message))
            continue
        seen.add(record.external_id)
        values = _values(record)
        values.update(
            group_id=group.pk, code_namespace=f"{feed.format}:{group.slug}", retired_at=None
        )
        meeting = existing.get(record.external_id)
        if meeting is None:
            creates.append((Meeting(feed=feed, external_id=record.external_id, **values), record))
            changes.append(Change("create", "meeting", _described(record)))
            continue
        if not values["country"] and meeting.country:
            # A feed that does not say the country keeps the one given before (the
            # command's --country, say), rather than clearing it.
            values["country"] = str(meeting.country)
        changed = {name: value for name, value in values.items() if getattr(meeting, name) != value}
        slots_differ = current_slots.get(meeting.pk, []) != record.slots
        if changed:
            updates.append((meeting, changed))
        if slots_differ:
            reslot.append((meeting, record))
        if changed or slots_differ:
            labels = [_field_label(name) for name in changed]
            if slots_differ:
                labels.append(_("weekly times"))
            changes.append(Change("update", "meeting", _described(record), tuple(labels)))
        else:
            changes.append(Change("unchanged", "meeting", _described(record)))
    retire = [
        meeting
        for external_id, meeting in existing.items()
        if external_id not in seen and meeting.retired_at is None
    ]
    changes.extend(
        Change(
            "retire",
            "meeting",
            _described_meeting(meeting_label(meeting.name, meeting.external_id), meeting),
        )
        for meeting in retire
    )

    def write() -> FeedReport:
        with log.batch():
            create_with_history(Meeting, [meeting for meeting, _r in creates], reason=IMPORT_REASON)
            for meeting, changed in updates:
                for name, value in changed.items():
                    setattr(meeting, name, value)
                # update_with_history groups rows by their values, which must hash: the
                # codes go as a tuple, stored as the same JSON list.
                meeting.codes = tuple(meeting.codes)
            fields = {name.removesuffix("_id") for _m, changed in updates for name in changed}
            update_with_history(Meeting, [m for m, _c in updates], fields, reason=IMPORT_REASON)
            for meeting in retire:
                meeting.retired_at = now
            update_with_history(Meeting, retire, ["retired_at"], reason=IMPORT_REASON)
            old_slots = MeetingSlot.objects.filter(meeting__in=[m.pk for m, _r in reslot])
            delete_with_history(MeetingSlot, list(old_slots), reason=IMPORT_REASON)
            create_with_history(
                MeetingSlot,
                [
                    MeetingSlot(meeting=meeting, weekday=d, starts=s, ends=e, timezone=tz)
                    for meeting, record in (*creates, *reslot)
                    for d, s, e, tz in record.slots
                ],
                reason=IMPORT_REASON,
            )
            written, notes = derive_availability(feed, today=now.date())
        counts = plan.counts
        return FeedReport(
            created=counts["create"],
            updated=counts["update"],
            retired=counts["retire"],
            unchanged=counts["unchanged"],
            skipped=len(skipped),
            availability=written,
            notes=notes,
        )

    plan = Plan(
        changes=changes,
        write=write,
        skipped=skipped,
        notes=[str(note) for note in parsed.notes],
    )
    return plan


def delete_with_history(
    model: type[models.Model], objs: Sequence[models.Model], *, reason: str
) -> None:
    """Delete ``objs`` in bulk with a "deleted" history row each (and so an audit
    entry), as deleting them one by one would record."""
    if not objs:
        return
    history = get_history_manager_for_model(model).model
    stamp = dt.datetime.now(tz=dt.UTC)
    records = history.objects.bulk_create(
        [
            history(
                history_date=stamp,
                history_user=None,
                history_change_reason=reason,
                history_type="-",
                **{f.attname: getattr(obj, f.attname) for f in history.tracked_fields},
            )
            for obj in objs
        ],
        batch_size=500,
    )
    for instance, record in zip(objs, records, strict=True):
        post_create_historical_record.send(
            sender=history,
            instance=instance,
            history_instance=record,
            history_date=record.history_date,
            history_user=None,
            history_change_reason=reason,
            using=None,
        )
    # A raw delete: ``QuerySet.delete`` would send each row's delete signals, and
    # simple-history would record every row a second time, one query each. Neither
    # model deleted here has rows that depend on it.
    pks = [obj.pk for obj in objs]
    manager = model._default_manager
    for start in range(0, len(pks), 500):
        manager.filter(pk__in=pks[start : start + 500])._raw_delete(manager.db)


# --- Availability derived from a feed ---------------------------------------------------


def derive_availability(feed: MeetingFeed, *, today: dt.date) -> tuple[int, list[str]]:
    """The feed's own availability rows: one per group and country of its current
    meetings in person (or hybrid), with the weekly in-person times there, online
    meetings yes or no (any online or hybrid meeting of the group there or without a
    country), the languages, the feed's name as region, the feed's source, verified
    today. Rows of other sources are never touched; the feed's row for a group and
    country without such meetings any more is deleted.

    Returns the number of rows written or deleted, and notes (a row of another source
    in the way).
    """
    region = feed.name[: Availability._meta.get_field("region").max_length or 100]
    current = Meeting.objects.filter(feed=feed, retired_at__isnull=True)
    in_person = current.exclude(attendance=Meeting.Attendance.ONLINE).exclude(country="")
    per_week = {
        (group_id, country): count
        for group_id, country, count in MeetingSlot.objects.filter(meeting__in=in_person)
        .values_list("meeting__group_id", "meeting__country")
        .annotate(count=Count("id"))
        .order_by()
    }
    languages: dict[tuple[int, str], set[str]] = defaultdict(set)
    for group_id, country, spoken in (
        current.values_list("group_id", "country", "languages").distinct().order_by()
    ):
        languages[(group_id, country)].update(split_languages(spoken))
    remote = set(
        current.exclude(attendance=Meeting.Attendance.IN_PERSON)
        .values_list("group_id", "country")
        .distinct()
        .order_by()
    )
    own: dict[tuple[int, str], Availability] = {}
    extra: list[Availability] = []
    for row in Availability.objects.filter(source=feed.source).order_by("pk"):
        key = (row.group_id, str(row.country))
        if key in own:
            extra.append(row)  # left by an earlier name of the feed
        else:
            own[key] = row
    groups = {group_id for group_id, _country in per_week}
    taken = set(
        Availability.objects.filter(group_id__in=groups, region=region)
        .exclude(source=feed.source)
        .values_list("group_id", "country")
    )
    notes = []
    create: list[Availability] = []
    update: list[Availability] = []
    fields: set[str] = set()
    for (group_id, country), count in sorted(per_week.items()):
        if (group_id, country) in taken:
            notes.append(
                _(
                    "availability in %(country)s, region “%(region)s”, is held by another "
                    "source: left as it is"
                )
                % {"country": country, "region": region}
            )
            continue
        online = (group_id, country) in remote or (group_id, "") in remote
        values = {
            "region": region,
            "in_person_per_week": count,
            "online": Availability.Online.YES if online else Availability.Online.NO,
            "languages": join_languages(languages[(group_id, country)] | languages[(group_id, "")]),
            "verified_on": today,
        }
        mine = own.get((group_id, country))
        if mine is None:
            create.append(
                Availability(group_id=group_id, country=country, source=feed.source, **values)
            )
            continue
        changed = {name for name, value in values.items() if getattr(mine, name) != value}
        if changed:
            for name in changed:
                setattr(mine, name, values[name])
            update.append(mine)
            fields |= changed
    gone = [row for key, row in own.items() if key not in per_week] + extra
    delete_with_history(Availability, gone, reason=IMPORT_REASON)
    create_with_history(Availability, create, reason=IMPORT_REASON)
    update_with_history(Availability, update, fields, reason=IMPORT_REASON)
    return len(create) + len(update) + len(gone), notes


# --- Feeds: creating one, importing its bytes -------------------------------------------


def _source_key(feed: MeetingFeed) -> str:
    """ "feed-<key>", or with a number when a source has that key already."""
    base = f"feed-{feed.key}"[:46]
    key, number = base, 1
    while Source.objects.filter(key=key).exists():
        number += 1
        key = f"{base}-{number}"
    return key


def _described(record: FeedMeeting) -> str:
    """ "Tweed Group (id 8) — Mon 19:30, Belleville": enough to tell apart meetings of
    one name in a preview."""
    when = []
    if record.slots:
        weekday, starts = record.slots[0][0], record.slots[0][1]
        when.append(f"{WEEKDAYS_ABBR[weekday]} {starts:%H:%M}")
    if record.municipality:
        when.append(record.municipality)
    return f"{record.label} — {', '.join(when)}" if when else record.label


def _described_meeting(label: str, meeting: Meeting) -> str:
    return f"{label} — {meeting.municipality}" if meeting.municipality else label


def sync_feed_source(feed: MeetingFeed) -> Source:
    """The feed's own source, which its derived availability cites: created when the
    feed has none (title "<name> (meeting feed)", the feed's address, the
    organisation's own material), kept in step with the feed's name and address."""
    title = _("%(name)s (meeting feed)") % {"name": feed.name}
    if feed.source_id is None:
        source = Source.objects.create(
            key=_source_key(feed), title=title, url=feed.url, kind=Source.Kind.PRIMARY
        )
        feed.source = source
        return source
    source = feed.source
    if (source.title, source.url) != (title, feed.url):
        source.title, source.url = title, feed.url
        source.save(update_fields=["title", "url"])
    return source


@transaction.atomic
def ensure_feed(
    key: str,
    *,
    format: str,
    group: Group | None,
    url: str = "",
    timezone: str = "",
    name: str = "",
) -> MeetingFeed:
    """The feed with ``key``, created with its own source when new; a group or time
    zone given replaces the feed's."""
    feed = MeetingFeed.objects.select_related("group", "source").filter(key=key).first()
    if feed is None:
        feed = MeetingFeed(
            key=key,
            name=name or key,
            format=format,
            url=url,
            group=group,
            timezone=timezone,
        )
        sync_feed_source(feed)
        feed.full_clean()
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
        feed.full_clean()
        feed.save(update_fields=changed)
    return feed


def lock(feed: MeetingFeed) -> None:
    """Hold the feed's row until the transaction ends, so that two refreshes of the same
    feed (two cron runs overlapping) never apply it at once; raises ``FeedBusy`` when
    another process holds it. PostgreSQL only: SQLite writes one transaction at a time."""
    held = MeetingFeed.objects.select_for_update(skip_locked=True).filter(pk=feed.pk)
    if not list(held.values_list("pk", flat=True)):
        raise FeedBusy(feed.key)


def plan_bytes(
    feed: MeetingFeed, data: bytes, *, now: dt.datetime, name: str = "", country: str = ""
) -> Plan:
    """Parse ``data`` in the feed's format and plan it (raises ``ImportRefused``)."""
    parsed = parse(
        feed.format, data, name=name or feed.key, timezone=feed.timezone, country=country
    )
    return plan_feed(feed, parsed, now=now)


def report_lines(plan: Plan, report: FeedReport | None = None) -> list[str]:
    """The rows left out and the notes, as a report lists them."""
    lines = [
        *(_("left out: %(problem)s") % {"problem": problem} for problem in plan.skipped),
        *(_("note: %(note)s") % {"note": note} for note in plan.notes),
        *(_("note: %(note)s") % {"note": note} for note in (report.notes if report else [])),
    ]
    return lines


def record_refresh(
    feed: MeetingFeed, lines: list[str], *, refreshed_at: dt.datetime | None
) -> None:
    """Keep the feed's last report (and when it was last refreshed, if it was), without
    a history row: a feed refreshed nightly is not edited nightly."""
    if len(lines) > REPORT_LINES + 1:
        more = len(lines) - REPORT_LINES
        lines = [*lines[:REPORT_LINES], _("… and %(count)d more lines.") % {"count": more}]
    values: dict[str, Any] = {"last_report": "\n".join(lines)}
    if refreshed_at is not None:
        values["refreshed_at"] = refreshed_at
    MeetingFeed.objects.filter(pk=feed.pk).update(**values)
    for name, value in values.items():
        setattr(feed, name, value)
