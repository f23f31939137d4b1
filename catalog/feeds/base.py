"""What every feed parser shares: the meeting record, the row checks and the collector
that names each row's problems and notes by position, name and identifier."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import get_language, gettext_noop, ngettext
from django.utils.translation import gettext as _
from django_countries import countries

from curation.imports import Problem

# The largest feed read or fetched: 50,000 meetings of Meeting Guide JSON take 12 MB.
MAX_FEED_BYTES = 64 * 1024 * 1024

# (weekday 0=Monday..6=Sunday, starts, ends or None, IANA time zone)
Slot = tuple[int, dt.time, dt.time | None, str]


@dataclass
class FeedMeeting:
    """One meeting as a feed lists it, in the catalog's terms."""

    external_id: str
    name: str
    group: str = ""  # a group's slug when the row names one (CSV); else the feed's group
    slots: list[Slot] = field(default_factory=list)
    attendance: str = "in_person"
    location: str = ""
    address: str = ""
    municipality: str = ""
    postcode: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None
    location_notes: str = ""
    online_url: str = ""
    online_notes: str = ""
    phone: str = ""
    phone_notes: str = ""
    languages: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    openness: str = ""
    women_only: bool = False
    secular: bool = False
    wheelchair_access: bool | None = None
    notes: str = ""
    source_updated: dt.datetime | None = None
    where: str = ""  # its place in the document, for problems found later

    @property
    def in_person(self) -> bool:
        return self.attendance != "online"

    @property
    def has_place(self) -> bool:
        return bool(self.address or self.municipality or self.latitude is not None)

    @property
    def label(self) -> str:
        """How a preview or a report names it: "Tweed Group (id 8)"."""
        return meeting_label(self.name, self.external_id)


@dataclass
class Parsed:
    """A document read: its meetings, the rows left out, and what else to know."""

    meetings: list[FeedMeeting]
    skipped: list[Problem]
    notes: list[Problem]


class RowError(Exception):
    """What is wrong with one row; the row is left out."""


class NotOffered(Exception):
    """A row that is well formed but lists nothing to attend (a location temporarily
    closed without an online part): left out as a note, so its meeting is retired."""


# Labels formatted for each row of a feed, translated once per language rather than
# once a row (gettext_noop marks them for translation).
_MEETING = gettext_noop("meeting %(position)d")
_ID = gettext_noop("id %(id)s")
_LABEL = gettext_noop("%(name)s (id %(id)s)")


@cache
def _translated(message: str, language: str | None) -> str:
    return _(message)


def translated(message: str) -> str:
    """``gettext(message)``, remembered for the active language."""
    return _translated(message, get_language())


def meeting_label(name: str, external_id: str) -> str:
    return translated(_LABEL) % {"name": name, "id": external_id}


def where(position: int, name: str, external_id: str) -> str:
    """ "meeting 12 (“Tweed Group”, id 8)": the row's place in the document and what it
    calls itself, as much as the row gives."""
    parts = [f"“{name}”"] if name else []
    if external_id:
        parts.append(translated(_ID) % {"id": external_id})
    label = translated(_MEETING) % {"position": position}
    return f"{label} ({', '.join(parts)})" if parts else label


def text(value: Any, limit: int = 255) -> str:
    """A cell as text: numbers as written, nothing for null, lists or objects."""
    if value is None or isinstance(value, bool | list | dict):
        return ""
    return str(value).strip()[:limit]


def parse_time(value: Any) -> dt.time:
    """ "19:30", "7:30" or "19:30:00"."""
    written = text(value)
    parts = written.split(":")
    if len(parts) in (2, 3) and all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        numbers = [int(p) for p in parts] + [0]
        try:
            return dt.time(numbers[0], numbers[1], numbers[2])
        except ValueError:
            pass
    raise RowError(_("time “%(value)s” is not a time HH:MM") % {"value": written})


@cache
def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_timezone(value: Any, default: str) -> str:
    name = text(value, 60) or default
    if not name:
        raise RowError(_("no time zone: give one on the row, for the feed, or with --timezone"))
    if not _known_zone(name):
        raise RowError(_("time zone “%(value)s” is unknown") % {"value": name})
    return name


def parse_coordinates(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    """Both or neither; 0, 0 (how BMLT leaves a virtual meeting's) is none."""
    if text(lat) == "" or text(lon) == "":
        return None, None
    try:
        latitude, longitude = float(text(lat)), float(text(lon))
    except ValueError:
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


_LINK = URLValidator(schemes=["http", "https"])


def parse_link(value: Any, notes: list[str]) -> str:
    """An http(s) address to join online; anything else (a "javascript:" link, a
    bare host) is a note and no link."""
    written = text(value, 500)
    if not written:
        return ""
    try:
        _LINK(written)
    except ValidationError:
        notes.append(_("link “%(value)s” is not an http(s) address: left out") % {"value": written})
        return ""
    return written


def language(code: str) -> str | None:
    """An ISO 639-1 code the catalog knows ("nb", "en"), or None."""
    code = code.strip().lower()
    return code if len(code) == 2 and code in LANG_INFO else None


def parse_country(value: Any, notes: list[str]) -> str:
    """ISO 3166 alpha-2 from a code ("CA", "CAN") or an English name ("Canada"); what
    cannot be read is a note and no country."""
    written = text(value, 100)
    if not written:
        return ""
    code = countries.alpha2(written) or countries.by_name(written)
    if not code:
        notes.append(_("country “%(value)s” is not known: left empty") % {"value": written})
    return str(code or "")


def parse_updated(value: Any) -> dt.datetime | None:
    """ "2016-05-06 15:38:25" (UTC, as Meeting Guide gives it) or ISO 8601 with a zone."""
    written = text(value, 40)
    if not written:
        return None
    try:
        parsed = dt.datetime.fromisoformat(written)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def attendance(record: FeedMeeting, declared: str, *, temporarily_closed: bool) -> str:
    """How a meeting is attended: what the feed declares (``in_person``, ``hybrid`` or
    ``online``), else from where it meets and its link or telephone number.

    A location the feed marks temporarily closed (``TC``) leaves only the online part;
    without one the meeting is not offered until the feed lists it open again.
    """
    remote = bool(record.online_url or record.phone)
    found = declared or (("hybrid" if record.has_place else "online") if remote else "in_person")
    if temporarily_closed and found != "online":
        if not remote:
            raise NotOffered(
                _(
                    "location temporarily closed (TC) and no online part: not offered "
                    "until the feed lists it open again"
                )
            )
        found = "online"
    return found


def check_row(record: FeedMeeting) -> None:
    if not record.slots:
        raise RowError(_("no day and time"))
    if record.in_person and not record.has_place:
        raise RowError(_("no address, town or coordinates for a meeting in person"))
    if record.attendance != "in_person" and not (record.online_url or record.phone):
        raise RowError(_("no link or telephone number for an online meeting"))


def unique_slots(slots: list[Slot]) -> list[Slot]:
    """One weekly time per day and start (a meeting cannot start twice at once)."""
    kept: dict[tuple[int, dt.time], Slot] = {}
    for slot in slots:
        kept.setdefault((slot[0], slot[1]), slot)
    return sorted(kept.values(), key=lambda s: (s[0], s[1]))


class Collector:
    """Reads rows one at a time: a bad row becomes a problem and is left out, the
    others are kept, each with its notes; a repeated identifier is a problem of the
    second row that uses it."""

    def __init__(self) -> None:
        self.meetings: list[FeedMeeting] = []
        self.skipped: list[Problem] = []
        self.notes: list[Problem] = []
        self.unknown_codes: Counter[str] = Counter()
        self._first: dict[str, str] = {}

    def row(self, label: str, build: Callable[..., FeedMeeting], *args: Any, **kwargs: Any) -> None:
        """``build(*args, **kwargs, notes=[...])`` reads the row, adding its notes."""
        notes: list[str] = []
        try:
            record = build(*args, **kwargs, notes=notes)
            record.slots = unique_slots(record.slots)
            check_row(record)
        except RowError as error:
            self.skipped.append(Problem(label, str(error)))
            return
        except NotOffered as reason:
            self.notes.append(Problem(label, str(reason)))
            return
        first = self._first.get(record.external_id)
        if first is not None:
            self.skipped.append(
                Problem(label, _("the identifier is already used by %(first)s") % {"first": first})
            )
            return
        self._first[record.external_id] = label
        record.where = label
        if record.in_person and record.latitude is None:
            notes.append(_("no coordinates: kept, but it cannot be found by distance"))
        self.notes.extend(Problem(label, note) for note in notes)
        self.meetings.append(record)

    def result(self, *, vocabulary: str) -> Parsed:
        notes = list(self.notes)
        if self.unknown_codes:
            listed = ", ".join(
                ngettext("“%(code)s” (%(count)d meeting)", "“%(code)s” (%(count)d meetings)", n)
                % {"code": code, "count": n}
                for code, n in sorted(self.unknown_codes.items())
            )
            notes.append(
                Problem(
                    _("format codes"),
                    _(
                        "%(codes)s: not codes of %(vocabulary)s; kept as the feed spells "
                        "them, not mapped to the catalog's traits"
                    )
                    % {"codes": listed, "vocabulary": vocabulary},
                )
            )
        return Parsed(meetings=self.meetings, skipped=self.skipped, notes=notes)
