"""Meetings of groups without a feed of their own, in the catalog's CSV template
(``catalog/data/meeting-template.csv``; README, "CSV template", names every column).

UTF-8, comma-separated, a header row; a line starting with ``#`` is a comment (the
template's example rows are comments). One meeting a row. The template has no codes
of its own: its columns are the catalog's fields (``openness``, ``women_only``,
``secular``, ``wheelchair``, ``languages``). A ``group`` column names each row's
fellowship by its catalog slug, for a file that lists several.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.feeds.base import (
    Collector,
    FeedMeeting,
    Parsed,
    RowError,
    language,
    parse_coordinates,
    parse_country,
    parse_link,
    parse_time,
    parse_timezone,
    translated,
    where,
)
from curation.documents import decode_text, read_csv

_AT_LINE = gettext_noop("%(meeting)s, line %(line)d")
REQUIRED = ("external_id", "name", "weekday", "starts")
OPTIONAL = (
    "group", "ends", "timezone", "attendance", "venue", "address", "municipality", "postcode",
    "country", "latitude", "longitude", "online_url", "online_notes", "phone", "languages",
    "openness", "women_only", "secular", "wheelchair", "notes",
)  # fmt: skip
COLUMNS = (*REQUIRED, *OPTIONAL)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
YES = frozenset({"yes", "y", "true", "1", "x"})
NO = frozenset({"no", "n", "false", "0"})
ATTENDANCE = ("in_person", "online", "hybrid")


def _weekdays(value: str) -> list[int]:
    """ "Monday", "mon", "0" (0 = Monday … 6 = Sunday); several separated by spaces."""
    days = []
    for word in value.replace(",", " ").lower().split():
        if word.isdigit() and int(word) <= 6:
            days.append(int(word))
        elif len(word) >= 3 and (found := [d for d in WEEKDAYS if d.startswith(word)]):
            days.append(WEEKDAYS.index(found[0]))
        else:
            raise RowError(
                _("weekday “%(value)s” is not Monday to Sunday or 0 (Monday) to 6 (Sunday)")
                % {"value": word}
            )
    if not days:
        raise RowError(_("no weekday"))
    return days


def _yes_no(value: str, column: str) -> bool | None:
    """True, False, or None when the cell is empty (not stated)."""
    written = value.strip().lower()
    if not written:
        return None
    if written in YES:
        return True
    if written in NO:
        return False
    raise RowError(
        _("%(column)s “%(value)s” is not yes or no") % {"column": column, "value": value}
    )


def _row(cells: dict[str, str], *, timezone: str, country: str, notes: list[str]) -> FeedMeeting:
    def get(column: str, limit: int = 255) -> str:
        return (cells.get(column) or "").strip()[:limit]

    record = FeedMeeting(
        external_id=get("external_id", 100), name=get("name"), group=get("group", 50)
    )
    if not record.external_id:
        raise RowError(_("no external_id"))
    if not record.name:
        raise RowError(_("no name"))
    starts = parse_time(get("starts"))
    ends = parse_time(get("ends")) if get("ends") else None
    zone = parse_timezone(get("timezone"), timezone)
    record.slots = [(day, starts, ends, zone) for day in _weekdays(get("weekday"))]
    attendance = get("attendance").lower().replace("-", "_").replace(" ", "_") or "in_person"
    if attendance not in ATTENDANCE:
        raise RowError(
            _("attendance “%(value)s” is not in_person, online or hybrid") % {"value": attendance}
        )
    record.attendance = attendance
    record.location = get("venue")
    record.address = get("address")
    record.municipality = get("municipality", 120)
    record.postcode = get("postcode", 20)
    record.country = parse_country(get("country"), notes) or country
    record.latitude, record.longitude = parse_coordinates(get("latitude"), get("longitude"))
    record.online_url = parse_link(get("online_url", 500), notes)
    record.online_notes = get("online_notes", 500)
    record.phone = get("phone", 40)
    languages = []
    for code in get("languages").replace(",", " ").split():
        spoken = language(code)
        if not spoken:
            raise RowError(_("language “%(value)s” is not an ISO 639-1 code") % {"value": code})
        languages.append(spoken)
    record.languages = sorted(set(languages))
    openness = get("openness").lower()
    if openness not in ("open", "closed", ""):
        raise RowError(_("openness “%(value)s” is not open or closed") % {"value": openness})
    record.openness = openness
    record.women_only = bool(_yes_no(get("women_only"), "women_only"))
    record.secular = bool(_yes_no(get("secular"), "secular"))
    record.wheelchair_access = _yes_no(get("wheelchair"), "wheelchair")
    record.notes = get("notes", 5000)
    return record


def without_comments(text: str) -> str:
    """Lines starting with "#" blanked (outside quoted cells), so line numbers stay."""
    lines = text.splitlines(keepends=True)
    quoted = False
    for index, line in enumerate(lines):
        if not quoted and line.startswith("#"):
            lines[index] = "\n" if line.endswith(("\n", "\r")) else ""
            continue
        # An odd number of quotes opens or closes a cell running on to the next line.
        if line.count('"') % 2:
            quoted = not quoted
    return "".join(lines)


def parse(data: bytes, *, name: str, timezone: str = "", country: str = "") -> Parsed:
    """Read a CSV file of meetings (raises ``ImportRefused`` when it cannot be read)."""
    table = read_csv(
        without_comments(decode_text(data, name=name)),
        name=name,
        required=REQUIRED,
        allowed=OPTIONAL,
    )
    rows = Collector()
    for position, (line, cells) in enumerate(table, start=1):
        label = where(
            position, (cells.get("name") or "").strip(), (cells.get("external_id") or "").strip()
        )
        label = translated(_AT_LINE) % {"meeting": label, "line": line}
        rows.row(label, _row, cells, timezone=timezone, country=country)
    return rows.result(vocabulary=_("the CSV template"))
