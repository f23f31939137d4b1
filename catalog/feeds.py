"""Meetings as the fellowships publish them: Meeting Guide JSON, BMLT JSON and our CSV.

Each parser reads a whole document into ``FeedMeeting`` records and the problems of
single rows. A bad row (a time that is not a time, a repeated identifier) is named by
its position, name and identifier and left out; the other rows are kept. A document
that cannot be read at all (not UTF-8, not JSON, a CSV without its header) raises
``ImportRefused``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf.locale import LANG_INFO
from django.utils.translation import gettext as _

from curation.documents import decode_text, read_csv, read_json
from curation.imports import ImportRefused, Problem

MAX_FEED_BYTES = 64 * 1024 * 1024

# (weekday 0=Monday..6=Sunday, starts, ends or None, IANA time zone)
Slot = tuple[int, dt.time, dt.time | None, str]


@dataclass
class FeedMeeting:
    """One meeting as a feed lists it, in the catalog's terms."""

    external_id: str
    name: str
    slots: list[Slot] = field(default_factory=list)
    attendance: str = "in_person"
    location: str = ""
    address: str = ""
    municipality: str = ""
    postcode: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = ""
    online_notes: str = ""
    phone: str = ""
    languages: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    openness: str = ""
    women_only: bool = False
    secular: bool = False
    wheelchair_access: bool | None = None
    notes: str = ""
    source_updated: dt.datetime | None = None


class RowError(Exception):
    """What is wrong with one row; the row is left out."""


# --- Shared helpers ------------------------------------------------------------------


def _where(position: int, name: str, external_id: str) -> str:
    parts = [f"“{name}”"] if name else []
    if external_id:
        parts.append(_("id %(id)s") % {"id": external_id})
    label = _("meeting %(position)d") % {"position": position}
    return f"{label} ({', '.join(parts)})" if parts else label


def _text(value: Any, limit: int = 255) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    return str(value).strip()[:limit]


def _time(value: Any, *, seconds: bool = False) -> dt.time:
    text = _text(value)
    parts = text.split(":")
    ok = len(parts) in ((2, 3) if seconds else (2,)) and all(
        p.isdigit() and len(p) <= 2 for p in parts
    )
    if ok:
        try:
            numbers = [int(p) for p in parts] + [0]
            return dt.time(numbers[0], numbers[1], numbers[2])
        except ValueError:
            pass
    raise RowError(_("time “%(value)s” is not a time HH:MM") % {"value": text})


def _timezone(value: Any, default: str) -> str:
    name = _text(value) or default
    if not name:
        raise RowError(_("no time zone: give one on the row or for the whole feed"))
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RowError(_("time zone “%(value)s” is unknown") % {"value": name}) from None
    return name


def _coordinates(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") or lon in (None, ""):
        return None, None
    try:
        latitude, longitude = float(lat), float(lon)
    except (TypeError, ValueError):
        raise RowError(
            _("coordinates “%(lat)s, %(lon)s” are not numbers") % {"lat": lat, "lon": lon}
        ) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise RowError(
            _("coordinates “%(lat)s, %(lon)s” are out of range") % {"lat": lat, "lon": lon}
        )
    if latitude == 0 and longitude == 0:
        return None, None
    return latitude, longitude


def _language(code: str) -> str | None:
    code = code.strip().lower()
    return code if code in LANG_INFO and "-" not in code and len(code) == 2 else None


def _updated(value: Any) -> dt.datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _check_row(record: FeedMeeting) -> None:
    if not record.slots:
        raise RowError(_("no day and time"))
    if record.attendance != "online" and not (
        record.address or record.municipality or record.latitude is not None
    ):
        raise RowError(_("no address, town or coordinates for a meeting in person"))
    if record.attendance != "in_person" and not (record.online_url or record.phone):
        raise RowError(_("no link or telephone number for an online meeting"))


def _duplicates(
    records: list[tuple[str, FeedMeeting]], problems: list[Problem]
) -> list[FeedMeeting]:
    seen: set[str] = set()
    kept = []
    for where, record in records:
        if record.external_id in seen:
            problems.append(Problem(where, _("the identifier is used by an earlier meeting")))
            continue
        seen.add(record.external_id)
        kept.append(record)
    return kept


# --- Meeting Guide -------------------------------------------------------------------

# Meeting Guide language codes (types.json) and ISO 639-1.
MEETING_GUIDE_LANGUAGES = {
    "AF": "af", "AM": "am", "AR": "ar", "BG": "bg", "DA": "da", "DE": "de", "EL": "el",
    "EN": "en", "FA": "fa", "FI": "fi", "FR": "fr", "HE": "he", "HI": "hi", "HR": "hr",
    "HU": "hu", "IS": "is", "ITA": "it", "JA": "ja", "KA": "ka", "KOR": "ko", "LT": "lt",
    "ML": "ml", "MT": "mt", "NE": "ne", "NL": "nl", "NO": "nb", "POL": "pl", "POR": "pt",
    "PUN": "pa", "RUS": "ru", "S": "es", "SK": "sk", "SL": "sl", "SV": "sv", "TH": "th",
    "TL": "tl", "TUR": "tr", "UK": "uk",
}  # fmt: skip


def _meeting_guide_row(item: Any, position: int, timezone: str) -> FeedMeeting:
    if not isinstance(item, dict):
        raise RowError(_("is not an object"))
    record = FeedMeeting(external_id=_text(item.get("slug"), 100), name=_text(item.get("name")))
    if not record.external_id:
        raise RowError(_("no slug (identifier)"))
    if not record.name:
        raise RowError(_("no name"))
    days = item.get("day")
    days = days if isinstance(days, list) else [days]
    weekdays = []
    for day in days:
        if isinstance(day, str) and day.strip().isdigit():
            day = int(day)
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
            raise RowError(_("day “%(value)s” is not 0 (Sunday) to 6 (Saturday)") % {"value": day})
        weekdays.append((day - 1) % 7)
    starts = _time(item.get("time"))
    ends = _time(item["end_time"]) if _text(item.get("end_time")) else None
    tz = _timezone(item.get("timezone"), timezone)
    record.slots = [(weekday, starts, ends, tz) for weekday in weekdays]
    record.location = _text(item.get("location"))
    record.address = _text(item.get("address") or item.get("formatted_address"))
    record.municipality = _text(item.get("city"), 120)
    record.postcode = _text(item.get("postal_code"), 20)
    record.country = _text(item.get("country"), 2).upper()
    record.latitude, record.longitude = _coordinates(item.get("latitude"), item.get("longitude"))
    record.online_url = _text(item.get("conference_url"), 500)
    record.online_notes = _text(item.get("conference_url_notes"), 500)
    record.phone = _text(item.get("conference_phone"), 40)
    phone_notes = _text(item.get("conference_phone_notes"), 500)
    if phone_notes:
        record.online_notes = "\n".join(p for p in (record.online_notes, phone_notes) if p)[:500]
    record.notes = _text(item.get("notes"), 5000)
    record.source_updated = _updated(item.get("updated"))
    types = item.get("types") or []
    if not isinstance(types, list):
        types = [types]
    record.codes = [_text(code, 20) for code in types if _text(code)]
    codes = set(record.codes)
    record.openness = "closed" if "C" in codes else "open" if "O" in codes else ""
    record.women_only = "W" in codes
    record.secular = "A" in codes
    record.wheelchair_access = True if "X" in codes else None
    record.languages = sorted(
        {MEETING_GUIDE_LANGUAGES[c] for c in codes if c in MEETING_GUIDE_LANGUAGES}
    )
    online = bool(record.online_url or record.phone)
    has_place = bool(record.address or record.municipality or record.latitude is not None)
    if "TC" in codes:
        if not online:
            raise RowError(_("temporarily closed"))
        record.attendance = "online"
    elif online:
        record.attendance = "hybrid" if has_place else "online"
    return record


def parse_meeting_guide(
    data: bytes, *, timezone: str, name: str
) -> tuple[list[FeedMeeting], list[Problem]]:
    document = read_json(data, name=name, max_bytes=MAX_FEED_BYTES)
    if isinstance(document, dict) and isinstance(document.get("meetings"), list):
        document = document["meetings"]
    if not isinstance(document, list):
        raise ImportRefused([Problem(name, _("is not a list of meetings (Meeting Guide JSON)."))])
    problems: list[Problem] = []
    rows = []
    for position, item in enumerate(document, start=1):
        label = _where(position, _text(item.get("name")) if isinstance(item, dict) else "",
                       _text(item.get("slug")) if isinstance(item, dict) else "")  # fmt: skip
        try:
            record = _meeting_guide_row(item, position, timezone)
            _check_row(record)
        except RowError as error:
            problems.append(Problem(label, str(error)))
            continue
        rows.append((label, record))
    return _duplicates(rows, problems), problems


# --- BMLT ----------------------------------------------------------------------------

BMLT_VENUES = {"1": "in_person", "2": "online", "3": "hybrid"}


def _duration(value: Any) -> dt.timedelta | None:
    text = _text(value)
    if not text:
        return None
    parts = text.split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise RowError(_("duration “%(value)s” is not HH:MM:SS") % {"value": text})
    hours, minutes, *rest = (int(p) for p in parts)
    return dt.timedelta(hours=hours, minutes=minutes, seconds=rest[0] if rest else 0)


def _bmlt_row(item: Any, timezone: str) -> FeedMeeting:
    if not isinstance(item, dict):
        raise RowError(_("is not an object"))
    record = FeedMeeting(
        external_id=_text(item.get("id_bigint"), 100), name=_text(item.get("meeting_name"))
    )
    if not record.external_id:
        raise RowError(_("no id_bigint (identifier)"))
    if not record.name:
        raise RowError(_("no name"))
    day = _text(item.get("weekday_tinyint"))
    if day not in {"1", "2", "3", "4", "5", "6", "7"}:
        raise RowError(_("weekday “%(value)s” is not 1 (Sunday) to 7 (Saturday)") % {"value": day})
    starts = _time(item.get("start_time"), seconds=True)
    duration = _duration(item.get("duration_time"))
    ends = None
    if duration:
        ends = (dt.datetime.combine(dt.date(2000, 1, 1), starts) + duration).time()
    tz = _timezone(item.get("time_zone"), timezone)
    record.slots = [((int(day) - 2) % 7, starts, ends, tz)]
    venue = _text(item.get("venue_type")) or "1"
    if venue not in BMLT_VENUES:
        raise RowError(_("venue type “%(value)s” is not 1, 2 or 3") % {"value": venue})
    record.attendance = BMLT_VENUES[venue]
    record.location = _text(item.get("location_text"))
    record.address = _text(item.get("location_street"))
    record.municipality = _text(item.get("location_municipality"), 120)
    record.postcode = _text(item.get("location_postal_code_1"), 20)
    nation = _text(item.get("location_nation")).upper()
    record.country = nation if len(nation) == 2 else ""
    if record.attendance != "online":
        record.latitude, record.longitude = _coordinates(
            item.get("latitude"), item.get("longitude")
        )
    record.online_url = _text(item.get("virtual_meeting_link"), 500)
    record.online_notes = _text(item.get("virtual_meeting_additional_info"), 500)
    record.phone = _text(item.get("phone_meeting_number"), 40)
    record.notes = _text(item.get("comments"), 5000)
    record.codes = [c.strip() for c in _text(item.get("formats"), 1000).split(",") if c.strip()]
    codes = {c.upper() for c in record.codes}
    record.openness = (
        "closed" if codes & {"C", "CLOSED"} else "open" if codes & {"O", "OPEN"} else ""
    )
    record.women_only = "W" in codes
    record.wheelchair_access = True if codes & {"WCHR", "WC"} else None
    language = _language(_text(item.get("lang_enum")))
    record.languages = [language] if language else []
    return record


def parse_bmlt(data: bytes, *, timezone: str, name: str) -> tuple[list[FeedMeeting], list[Problem]]:
    document = read_json(data, name=name, max_bytes=MAX_FEED_BYTES)
    if isinstance(document, dict) and isinstance(document.get("meetings"), list):
        document = document["meetings"]
    if not isinstance(document, list):
        raise ImportRefused(
            [Problem(name, _("is not a list of meetings (BMLT GetSearchResults)."))]
        )
    problems: list[Problem] = []
    rows = []
    for position, item in enumerate(document, start=1):
        label = _where(position, _text(item.get("meeting_name")) if isinstance(item, dict) else "",
                       _text(item.get("id_bigint")) if isinstance(item, dict) else "")  # fmt: skip
        try:
            record = _bmlt_row(item, timezone)
            _check_row(record)
        except RowError as error:
            problems.append(Problem(label, str(error)))
            continue
        rows.append((label, record))
    return _duplicates(rows, problems), problems


# --- CSV -----------------------------------------------------------------------------

CSV_COLUMNS = (
    "external_id", "name", "weekday", "starts", "ends", "timezone", "attendance", "venue",
    "address", "municipality", "postcode", "country", "latitude", "longitude", "online_url",
    "online_notes", "phone", "languages", "openness", "women_only", "secular", "wheelchair",
    "notes",
)  # fmt: skip
CSV_REQUIRED = ("external_id", "name", "weekday", "starts")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
YES = {"yes", "true", "1", "y", "x"}
NO = {"no", "false", "0", "n", ""}


def _yes_no(value: str, column: str) -> bool:
    text = value.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowError(
        _("%(column)s “%(value)s” is not yes or no") % {"column": column, "value": value}
    )


def _csv_row(cells: dict[str, str], timezone: str) -> FeedMeeting:
    def get(column: str) -> str:
        return (cells.get(column) or "").strip()

    record = FeedMeeting(external_id=get("external_id")[:100], name=get("name")[:255])
    if not record.external_id:
        raise RowError(_("no external_id"))
    if not record.name:
        raise RowError(_("no name"))
    weekdays = []
    for word in get("weekday").replace(",", " ").split():
        word = word.lower()
        if word.isdigit() and 0 <= int(word) <= 6:
            weekdays.append(int(word))
        elif word in WEEKDAY_NAMES:
            weekdays.append(WEEKDAY_NAMES.index(word))
        else:
            raise RowError(
                _("weekday “%(value)s” is not Monday to Sunday or 0-6") % {"value": word}
            )
    if not weekdays:
        raise RowError(_("no weekday"))
    starts = _time(get("starts"), seconds=True)
    ends = _time(get("ends"), seconds=True) if get("ends") else None
    tz = _timezone(get("timezone"), timezone)
    record.slots = [(day, starts, ends, tz) for day in weekdays]
    attendance = get("attendance").lower().replace("-", "_").replace(" ", "_") or "in_person"
    if attendance not in ("in_person", "online", "hybrid"):
        raise RowError(
            _("attendance “%(value)s” is not in_person, online or hybrid") % {"value": attendance}
        )
    record.attendance = attendance
    record.location = get("venue")[:255]
    record.address = get("address")[:255]
    record.municipality = get("municipality")[:120]
    record.postcode = get("postcode")[:20]
    record.country = get("country").upper()[:2]
    record.latitude, record.longitude = _coordinates(get("latitude"), get("longitude"))
    record.online_url = get("online_url")[:500]
    record.online_notes = get("online_notes")[:500]
    record.phone = get("phone")[:40]
    languages = []
    for code in get("languages").replace(",", " ").split():
        language = _language(code)
        if not language:
            raise RowError(_("language “%(value)s” is not an ISO 639-1 code") % {"value": code})
        languages.append(language)
    record.languages = sorted(set(languages))
    openness = get("openness").lower()
    if openness not in ("open", "closed", ""):
        raise RowError(_("openness “%(value)s” is not open or closed") % {"value": openness})
    record.openness = openness
    record.women_only = _yes_no(get("women_only"), "women_only")
    record.secular = _yes_no(get("secular"), "secular")
    record.wheelchair_access = True if _yes_no(get("wheelchair"), "wheelchair") else None
    record.notes = get("notes")
    return record


def parse_csv(data: bytes, *, timezone: str, name: str) -> tuple[list[FeedMeeting], list[Problem]]:
    text = decode_text(data, name=name)
    table = read_csv(
        text,
        name=name,
        required=CSV_REQUIRED,
        allowed=[c for c in CSV_COLUMNS if c not in CSV_REQUIRED],
    )
    problems: list[Problem] = []
    rows = []
    for position, (line, cells) in enumerate(table, start=1):
        label = _where(
            position, (cells.get("name") or "").strip(), (cells.get("external_id") or "").strip()
        )
        label = f"{label} — " + _("line %(line)d") % {"line": line}
        try:
            record = _csv_row(cells, timezone)
            _check_row(record)
        except RowError as error:
            problems.append(Problem(label, str(error)))
            continue
        rows.append((label, record))
    return _duplicates(rows, problems), problems


PARSERS = {"meeting-guide": parse_meeting_guide, "bmlt": parse_bmlt, "csv": parse_csv}


def parse(
    format: str, data: bytes, *, timezone: str, name: str
) -> tuple[list[FeedMeeting], list[Problem]]:
    return PARSERS[format](data, timezone=timezone, name=name)


__all__ = ["PARSERS", "FeedMeeting", "parse", "parse_bmlt", "parse_csv", "parse_meeting_guide"]
