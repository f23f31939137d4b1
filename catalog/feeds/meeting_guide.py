"""Meeting Guide JSON (Code4Recovery's format, TSML's feeds): a list of meetings.

Each meeting: ``slug`` (the identifier), ``name``, ``day`` (0 = Sunday … 6 =
Saturday, or a list: one weekly time per day), ``time`` and ``end_time`` (HH:MM),
``timezone`` (else the feed's), where (``location``, ``address`` or
``formatted_address``, ``city``, ``postal_code``, ``country``, ``latitude``,
``longitude``, ``location_notes``), how to join at a distance (``conference_url``,
``conference_phone`` and their notes), ``types`` (the format's codes), ``notes``,
``updated``.

Attendance follows TSML's ``attendance_option`` when the feed gives it, otherwise
the fields: a link or telephone number makes a meeting online, hybrid with a place.

Types the catalog knows are mapped onto its fields: ``O`` open, ``C`` closed, ``W``
women only, ``A`` secular, ``X`` wheelchair access, the language codes (``EN``,
``NO``, ``NL``, ``FR``, ``S`` for Spanish, ``DE`` …) meeting languages. ``TC``
(location temporarily closed) means the place is not offered now: a meeting with an
online part becomes online only; one without is left out with a note, so a meeting
imported before is retired until the feed lists it open again. ``ONL`` (TSML's own
"online" code, not the format's) adds nothing: only a link or a telephone number
makes a meeting joinable online. Every code is kept as the feed spells it; one that
is not a reserved code of the format is kept too, and named in a note.
"""

from __future__ import annotations

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
    parse_coordinates,
    parse_country,
    parse_link,
    parse_time,
    parse_timezone,
    parse_updated,
    text,
    where,
)
from catalog.openformats import meeting_guide_types
from curation.documents import read_json
from curation.imports import ImportRefused, Problem

# The reserved language types (data/types.json) and their ISO 639-1 codes.
LANGUAGES = {
    "AF": "af", "AM": "am", "AR": "ar", "BG": "bg", "DA": "da", "DE": "de", "EL": "el",
    "EN": "en", "FA": "fa", "FI": "fi", "FR": "fr", "HE": "he", "HI": "hi", "HR": "hr",
    "HU": "hu", "IS": "is", "ITA": "it", "JA": "ja", "KA": "ka", "KOR": "ko", "LT": "lt",
    "ML": "ml", "MT": "mt", "NE": "ne", "NL": "nl", "NO": "nb", "POL": "pl", "POR": "pt",
    "PUN": "pa", "RUS": "ru", "S": "es", "SK": "sk", "SL": "sl", "SV": "sv", "TH": "th",
    "TL": "tl", "TUR": "tr", "UK": "uk",
}  # fmt: skip
OPEN, CLOSED, WOMEN, SECULAR, WHEELCHAIR = "O", "C", "W", "A", "X"
TEMPORARILY_CLOSED = "TC"
# TSML's codes beside the format's reserved ones.
TSML_CODES = frozenset({"ONL"})
ATTENDANCE_OPTIONS = {"in_person": "in_person", "hybrid": "hybrid", "online": "online"}


def _days(value: Any) -> list[int]:
    """Meeting Guide's days (0 = Sunday) as the catalog's weekdays (0 = Monday)."""
    days = value if isinstance(value, list) else [value]
    if not days or days == [None] or days == [""]:
        raise RowError(_("no day"))
    weekdays = []
    for day in days:
        if isinstance(day, str) and day.strip().isdigit():
            day = int(day)
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
            raise RowError(_("day “%(value)s” is not 0 (Sunday) to 6 (Saturday)") % {"value": day})
        weekdays.append((day - 1) % 7)
    return weekdays


def _codes(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(code for item in value if (code := text(item, 20))))


def _row(item: Any, *, timezone: str, country: str, unknown: Any, notes: list[str]) -> FeedMeeting:
    if not isinstance(item, dict):
        raise RowError(_("is not an object"))
    record = FeedMeeting(external_id=text(item.get("slug"), 100), name=text(item.get("name")))
    if not record.external_id:
        raise RowError(_("no slug (identifier)"))
    if not record.name:
        raise RowError(_("no name"))
    starts = parse_time(item.get("time"))
    ends = parse_time(item["end_time"]) if text(item.get("end_time")) else None
    zone = parse_timezone(item.get("timezone"), timezone)
    record.slots = [(day, starts, ends, zone) for day in _days(item.get("day"))]
    record.location = text(item.get("location"))
    record.address = text(item.get("address") or item.get("formatted_address"))
    record.municipality = text(item.get("city"), 120)
    record.postcode = text(item.get("postal_code"), 20)
    record.country = parse_country(item.get("country"), notes) or country
    record.latitude, record.longitude = parse_coordinates(
        item.get("latitude"), item.get("longitude")
    )
    record.location_notes = text(item.get("location_notes"), 500)
    record.online_url = parse_link(item.get("conference_url"), notes)
    record.online_notes = text(item.get("conference_url_notes"), 500)
    record.phone = text(item.get("conference_phone"), 40)
    record.phone_notes = text(item.get("conference_phone_notes"), 500)
    record.notes = text(item.get("notes"), 5000)
    record.source_updated = parse_updated(item.get("updated"))
    record.codes = _codes(item.get("types"))
    reserved = meeting_guide_types()
    for code in record.codes:
        if code not in reserved and code not in TSML_CODES:
            unknown[code] += 1
    codes = set(record.codes)
    if OPEN in codes and CLOSED in codes:
        notes.append(_("types say both open and closed: left unstated"))
    elif CLOSED in codes or OPEN in codes:
        record.openness = "closed" if CLOSED in codes else "open"
    record.women_only = WOMEN in codes
    record.secular = SECULAR in codes
    record.wheelchair_access = True if WHEELCHAIR in codes else None
    record.languages = sorted({LANGUAGES[code] for code in codes if code in LANGUAGES})
    record.attendance = _attendance(item, record, temporarily_closed=TEMPORARILY_CLOSED in codes)
    return record


def _attendance(item: dict[str, Any], record: FeedMeeting, *, temporarily_closed: bool) -> str:
    option = text(item.get("attendance_option"), 20).lower()
    if option == "inactive":
        raise NotOffered(_("inactive: not offered until the feed lists it again"))
    if option and option not in ATTENDANCE_OPTIONS:
        raise RowError(
            _("attendance_option “%(value)s” is not in_person, hybrid, online or inactive")
            % {"value": option}
        )
    declared = ATTENDANCE_OPTIONS.get(option, "")
    return attendance(record, declared, temporarily_closed=temporarily_closed)


def parse(data: bytes, *, name: str, timezone: str = "", country: str = "") -> Parsed:
    """Read a Meeting Guide feed (raises ``ImportRefused`` when it is not one)."""
    document = read_json(data, name=name, max_bytes=MAX_FEED_BYTES)
    if isinstance(document, dict) and isinstance(document.get("meetings"), list):
        document = document["meetings"]
    if not isinstance(document, list):
        raise ImportRefused([Problem(name, _("is not a list of meetings (Meeting Guide JSON)."))])
    rows = Collector()
    for position, item in enumerate(document, start=1):
        named = item if isinstance(item, dict) else {}
        label = where(position, text(named.get("name")), text(named.get("slug"), 100))
        rows.row(label, _row, item, timezone=timezone, country=country, unknown=rows.unknown_codes)
    return rows.result(vocabulary=_("the Meeting Guide format"))
