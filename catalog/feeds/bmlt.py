"""BMLT, the Basic Meeting List Toolbox of Narcotics Anonymous: the JSON its semantic
interface answers to ``switcher=GetSearchResults`` (a list of meetings, or, with
``get_used_formats=1``, ``{"meetings": [...], "formats": [...]}``). Every value is a
string.

Each meeting: ``id_bigint`` (the identifier), ``meeting_name``, ``weekday_tinyint``
(1 = Sunday … 7 = Saturday), ``start_time`` and ``duration_time`` (HH:MM:SS),
``time_zone`` (may be empty: then the feed's), ``venue_type`` (1 in person, 2
virtual, 3 hybrid; servers that leave it out are read like Meeting Guide: a link or
telephone number makes a meeting online, hybrid with a place), ``formats`` (the
server's format keys, comma-separated), ``lang_enum``, ``location_*``,
``latitude``/``longitude`` (0, 0 for none), ``virtual_meeting_link``,
``virtual_meeting_additional_info``, ``phone_meeting_number``, ``comments``,
``published``. Contacts are never read.

A server's format keys are its own ("WC" on one, "WCHR" on another); what they mean
is the NAWS world id each format carries in the response's ``formats``: ``OPEN``,
``CLOSED``, ``W`` (women), ``WCHR`` (wheelchair access), ``LANG`` (the meeting's
language: the format's key, when it is an ISO 639-1 code) and ``TC`` (temporarily
closed: the place is not offered now). Without that list the usual English keys are
read (``O``, ``C``, ``W``, ``WC``/``WCHR``, ``TC``) and a note says so. Unpublished
meetings are left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from catalog.feeds.base import (
    MAX_FEED_BYTES,
    Collector,
    FeedMeeting,
    NotOffered,
    Parsed,
    RowError,
    attendance,
    language,
    parse_coordinates,
    parse_country,
    parse_link,
    parse_time,
    parse_timezone,
    text,
    where,
)
from curation.documents import read_json
from curation.imports import ImportRefused, Problem

VENUES = {"1": "in_person", "2": "online", "3": "hybrid"}
# The usual English keys of a root server's formats, and the NAWS world id of each.
USUAL_KEYS = {
    "O": "OPEN",
    "OPEN": "OPEN",
    "C": "CLOSED",
    "CLOSED": "CLOSED",
    "W": "W",
    "WC": "WCHR",
    "WCHR": "WCHR",
    "TC": "TC",
}


def _duration(value: Any) -> dt.timedelta | None:
    written = text(value)
    if not written:
        return None
    parts = written.split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise RowError(_("duration “%(value)s” is not HH:MM:SS") % {"value": written})
    hours, minutes, *rest = (int(p) for p in parts)
    return dt.timedelta(hours=hours, minutes=minutes, seconds=rest[0] if rest else 0)


class _Formats:
    """What a server's format keys mean, from the response's own list when it has one."""

    def __init__(self, listed: Any) -> None:
        self.listed = isinstance(listed, list) and bool(listed)
        self.world_ids: dict[str, str] = {}
        for entry in listed if isinstance(listed, list) else []:
            if isinstance(entry, dict) and text(entry.get("key_string"), 20):
                key = text(entry.get("key_string"), 20)
                self.world_ids[key] = text(entry.get("world_id"), 20).upper()

    def world_id(self, key: str) -> str | None:
        """The key's NAWS world id ("" when it has none), None when it is not listed."""
        if self.listed:
            return self.world_ids.get(key)
        return USUAL_KEYS.get(key.upper(), "")


def _row(
    item: Any, *, timezone: str, country: str, formats: _Formats, unknown: Any, notes: list[str]
) -> FeedMeeting:
    if not isinstance(item, dict):
        raise RowError(_("is not an object"))
    record = FeedMeeting(
        external_id=text(item.get("id_bigint"), 100), name=text(item.get("meeting_name"))
    )
    if not record.external_id:
        raise RowError(_("no id_bigint (identifier)"))
    if not record.name:
        raise RowError(_("no name"))
    if text(item.get("published")) == "0":
        raise NotOffered(_("not published on its server: left out"))
    day = text(item.get("weekday_tinyint"))
    if day not in {"1", "2", "3", "4", "5", "6", "7"}:
        raise RowError(_("weekday “%(value)s” is not 1 (Sunday) to 7 (Saturday)") % {"value": day})
    starts = parse_time(item.get("start_time"))
    duration = _duration(item.get("duration_time"))
    ends = None
    if duration:
        ends = (dt.datetime.combine(dt.date(2000, 1, 1), starts) + duration).time()
    zone = parse_timezone(item.get("time_zone"), timezone)
    record.slots = [((int(day) - 2) % 7, starts, ends, zone)]
    record.location = text(item.get("location_text"))
    record.address = text(item.get("location_street"))
    record.municipality = text(item.get("location_municipality"), 120)
    record.postcode = text(item.get("location_postal_code_1"), 20)
    record.country = parse_country(item.get("location_nation"), notes) or country
    record.location_notes = text(item.get("location_info"), 500)
    record.latitude, record.longitude = parse_coordinates(
        item.get("latitude"), item.get("longitude")
    )
    record.online_url = parse_link(item.get("virtual_meeting_link"), notes)
    record.online_notes = text(item.get("virtual_meeting_additional_info"), 500)
    record.phone = text(item.get("phone_meeting_number"), 40)
    record.notes = text(item.get("comments"), 5000)
    keys = (part.strip() for part in text(item.get("formats"), 1000).split(","))
    record.codes = list(dict.fromkeys(key for key in keys if key))
    world_ids = set()
    languages = set()
    for key in record.codes:
        world_id = formats.world_id(key)
        if world_id is None:
            unknown[key] += 1
            continue
        world_ids.add(world_id)
        if world_id == "LANG" and (spoken := language(key)):
            languages.add(spoken)
    if "OPEN" in world_ids and "CLOSED" in world_ids:
        notes.append(_("formats say both open and closed: left unstated"))
    elif world_ids & {"OPEN", "CLOSED"}:
        record.openness = "closed" if "CLOSED" in world_ids else "open"
    record.women_only = "W" in world_ids
    record.wheelchair_access = True if "WCHR" in world_ids else None
    if spoken := language(text(item.get("lang_enum"), 10)):
        languages.add(spoken)
    record.languages = sorted(languages)
    record.attendance = _attendance(item, record, temporarily_closed="TC" in world_ids)
    if record.attendance == "online":
        # A virtual meeting keeps its service body's position, not a place to go to.
        record.latitude = record.longitude = None
    return record


def _attendance(item: dict[str, Any], record: FeedMeeting, *, temporarily_closed: bool) -> str:
    venue = text(item.get("venue_type"))
    if venue and venue not in VENUES:
        raise RowError(_("venue type “%(value)s” is not 1, 2 or 3") % {"value": venue})
    return attendance(record, VENUES.get(venue, ""), temporarily_closed=temporarily_closed)


def parse(data: bytes, *, name: str, timezone: str = "", country: str = "") -> Parsed:
    """Read a BMLT ``GetSearchResults`` response (raises ``ImportRefused`` when it is
    not one)."""
    document = read_json(data, name=name, max_bytes=MAX_FEED_BYTES)
    listed: Any = None
    if isinstance(document, dict) and isinstance(document.get("meetings"), list):
        listed = document.get("formats")
        document = document["meetings"]
    if not isinstance(document, list):
        raise ImportRefused(
            [Problem(name, _("is not a list of meetings (BMLT GetSearchResults)."))]
        )
    formats = _Formats(listed)
    rows = Collector()
    for position, item in enumerate(document, start=1):
        named = item if isinstance(item, dict) else {}
        label = where(position, text(named.get("meeting_name")), text(named.get("id_bigint"), 100))
        rows.row(
            label,
            _row,
            item,
            timezone=timezone,
            country=country,
            formats=formats,
            unknown=rows.unknown_codes,
        )
    parsed = rows.result(vocabulary=_("the formats this response lists"))
    if document and not formats.listed:
        parsed.notes.append(
            Problem(
                _("format codes"),
                _(
                    "the response lists no formats (ask the server with get_used_formats=1): "
                    "only the usual English keys O, C, W, WC, WCHR and TC were read"
                ),
            )
        )
    return parsed
