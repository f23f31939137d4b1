"""The catalog in open formats other finders read: a Meeting Guide feed and HSDS 3.0.

- ``meeting_guide_feed``: the reference meetings as a Meeting Guide JSON feed (the
  format of the twelve-step meeting finders: the Meeting Guide app, TSML), one object
  per meeting, or per weekly time where a meeting's times differ.
- ``hsds_document``: the whole catalog as Open Referral's Human Services Data
  Specification 3.0, one *page* of fully nested ``service`` objects as the HSDS API
  answers ``GET /services?full=true`` (HSDS has no file container of its own: the
  API Reference's ``Page`` is its only envelope for several records).

Only reference meetings are given (never an organisation's own, so never an
example), and only those offered: not retired, of an active group. Both functions
cost a fixed number of queries whatever the number of meetings. The schemas they
are checked against ship in ``catalog/data/schemas/`` (see its README).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.languages import language_name
from catalog.models import Group, Meeting, MeetingQuerySet, MeetingSlot, Openness, TraitValue

SCHEMAS = Path(__file__).resolve().parent / "data" / "schemas"

# Meeting Guide counts days from Sunday (0); the catalog from Monday (0).
MEETING_GUIDE_DAY = {weekday: (weekday + 1) % 7 for weekday in range(7)}
# iCalendar's day names, as HSDS schedules use them (byday), Monday first.
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# ISO 639-1 → the Meeting Guide's reserved language type codes (data/types.json).
MEETING_GUIDE_LANGUAGES = {
    "af": "AF",
    "am": "AM",
    "ar": "AR",
    "bg": "BG",
    "da": "DA",
    "de": "DE",
    "el": "EL",
    "en": "EN",
    "es": "S",
    "fa": "FA",
    "fi": "FI",
    "fr": "FR",
    "he": "HE",
    "hi": "HI",
    "hr": "HR",
    "hu": "HU",
    "is": "IS",
    "it": "ITA",
    "ja": "JA",
    "ka": "KA",
    "ko": "KOR",
    "lt": "LT",
    "ml": "ML",
    "mt": "MT",
    "nb": "NO",
    "ne": "NE",
    "nl": "NL",
    "nn": "NO",
    "no": "NO",
    "pa": "PUN",
    "pl": "POL",
    "pt": "POR",
    "ru": "RUS",
    "sk": "SK",
    "sl": "SL",
    "sv": "SV",
    "th": "TH",
    "tl": "TL",
    "tr": "TUR",
    "uk": "UK",
}
# Types the catalog's own fields decide (open/closed, women, secular, wheelchair,
# languages): a feed's raw codes never add or contradict them.
DERIVED_TYPES = frozenset({"O", "C", "W", "A", "X", *MEETING_GUIDE_LANGUAGES.values()})
# "+47 22 33 44 55" → "+4722334455": the format allows digits, a leading +, and , * #.
_DIAL_SEPARATORS = re.compile(r"[\s\-().]")
_DIALABLE = re.compile(r"^[+]?\d{1,15}(?:[,*#]\d+)*$")

# Every identifier in the HSDS document is a UUID derived from the row it stands for,
# so the same catalog gives the same identifiers on every export.
HSDS_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:recovery-menu:hsds")
MEETING_TYPE_TAXONOMY = "meeting-type"
TRAIT_TAXONOMY = "recovery-menu-trait"


@cache
def meeting_guide_types() -> dict[str, str]:
    """The Meeting Guide's reserved type codes and their English names."""
    path = SCHEMAS / "meeting-guide" / "upstream" / "types.json"
    types: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return {code: names["en"] for code, names in types.items()}


def offered_reference_meetings(meetings: MeetingQuerySet) -> MeetingQuerySet:
    """Meetings anyone may be told of: reference data, not retired, of an active group."""
    return (
        meetings.current()
        .filter(organisation__isnull=True, is_example=False)
        .select_related("group")
        .prefetch_related(Prefetch("slots", queryset=MeetingSlot.objects.order_by("pk")))
        .order_by("pk")
    )


def is_meeting_guide_namespace(namespace: str) -> bool:
    return namespace == "meeting-guide" or namespace.startswith("meeting-guide:")


def meeting_types(meeting: Meeting) -> list[str]:
    """A meeting's Meeting Guide types: what its fields say, and, when its codes were
    written in a Meeting Guide vocabulary, its other reserved codes as the feed gave them."""
    types = set()
    if meeting.openness == Openness.OPEN:
        types.add("O")
    elif meeting.openness == Openness.CLOSED:
        types.add("C")
    if meeting.women_only:
        types.add("W")
    if meeting.secular:
        types.add("A")
    if meeting.wheelchair_access:
        types.add("X")
    types.update(
        MEETING_GUIDE_LANGUAGES[code]
        for code in meeting.language_list
        if code in MEETING_GUIDE_LANGUAGES
    )
    if is_meeting_guide_namespace(meeting.code_namespace):
        reserved = meeting_guide_types()
        types.update(
            code
            for code in meeting.codes
            if isinstance(code, str) and code in reserved and code not in DERIVED_TYPES
        )
    return sorted(types)


def _hh_mm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _dialable(phone: str) -> str:
    compact = _DIAL_SEPARATORS.sub("", phone)
    return compact if _DIALABLE.match(compact) else ""


def _times(meeting: Meeting) -> list[tuple[str, dict[str, Any]]]:
    """The meeting's weekly times as (slug suffix, Meeting Guide time fields).

    Days that share a start, end and zone are one listing, as the format's list of days
    allows. A meeting whose times differ is listed once per time, its slug suffixed
    with the start (and, only when two times start alike, the end and zone), so that a
    bookmark stays with the same time when other times change.
    """
    shared: dict[tuple[dt.time, dt.time | None, str], list[int]] = defaultdict(list)
    for slot in meeting.slots.all():
        shared[(slot.starts, slot.ends, slot.timezone)].append(slot.weekday)
    if not shared:
        return [("", {})]  # by appointment: no day or time
    keys = sorted(shared, key=lambda key: (key[0], key[1] or dt.time.max, key[2]))
    suffixes = [f"-{starts:%H%M}" for starts, _ends, _zone in keys]
    if len(set(suffixes)) < len(suffixes):
        suffixes = [
            f"-{starts:%H%M}-{ends:%H%M}-{_slug_safe(zone)}"
            if ends
            else f"-{starts:%H%M}-{_slug_safe(zone)}"
            for starts, ends, zone in keys
        ]
    if len(keys) == 1:
        suffixes = [""]
    times = []
    for suffix, (starts, ends, zone) in zip(suffixes, keys, strict=True):
        days = sorted(MEETING_GUIDE_DAY[weekday] for weekday in shared[(starts, ends, zone)])
        fields: dict[str, Any] = {"day": days[0] if len(days) == 1 else days}
        fields["time"] = _hh_mm(starts)
        if ends is not None:
            fields["end_time"] = _hh_mm(ends)
        fields["timezone"] = zone
        times.append((suffix, fields))
    return times


def _slug_safe(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields that say something: empty strings and missing values are left out."""
    return {key: value for key, value in fields.items() if value not in ("", None)}


def _place_fields(meeting: Meeting) -> dict[str, Any]:
    if not meeting.in_person:
        return {}
    return {
        "location": meeting.location,
        "address": meeting.address,
        "city": meeting.municipality,
        "postal_code": meeting.postcode,
        "country": str(meeting.country or ""),
        "latitude": meeting.latitude,
        "longitude": meeting.longitude,
    }


def _online_fields(meeting: Meeting) -> dict[str, Any]:
    if not meeting.remote:
        return {}
    phone = _dialable(meeting.phone)
    phone_notes = meeting.phone_notes
    if meeting.phone and not phone:
        # Not a number the format can dial: said in words instead.
        phone_notes = " ".join(part for part in (meeting.phone, phone_notes) if part)
    return {
        "conference_url": meeting.online_url,
        "conference_url_notes": meeting.online_notes,
        "conference_phone": phone,
        "conference_phone_notes": phone_notes,
    }


def meeting_guide_feed(meetings: MeetingQuerySet) -> list[dict[str, Any]]:
    """The offered reference meetings among ``meetings`` as a Meeting Guide feed.

    The slug is the meeting's id (see ``_times`` for meetings at several times), so
    favourites in an app survive a refresh. Fields without a value are left out.
    Two queries.
    """
    feed = []
    for meeting in offered_reference_meetings(meetings):
        for suffix, time_fields in _times(meeting):
            entry = {
                "name": meeting.name,
                "slug": f"{meeting.pk}{suffix}",
                **time_fields,
                **_place_fields(meeting),
                **_online_fields(meeting),
                "types": meeting_types(meeting),
                "notes": meeting.notes,
                "location_notes": meeting.location_notes if meeting.in_person else "",
                "updated": f"{meeting.updated_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}",
                "group": meeting.group.name,
                "attendance_option": meeting.attendance,
            }
            feed.append(_compact(entry))
    return feed


# --- HSDS 3.0 -------------------------------------------------------------------


def hsds_id(*parts: object) -> str:
    return str(uuid.uuid5(HSDS_NAMESPACE, "/".join(str(part) for part in parts)))


def _fixed_offset_hours(zone: str, year: int) -> float | None:
    """The zone's offset from UTC in hours when it keeps one all year, else None.

    HSDS gives a schedule's zone only as a UTC offset; a zone with daylight-saving
    time has none that holds all year, so its local times are given without one and
    the schedule's description names the zone."""
    tz = ZoneInfo(zone)
    winter = dt.datetime(year, 1, 15, 12, tzinfo=tz).utcoffset()
    summer = dt.datetime(year, 7, 15, 12, tzinfo=tz).utcoffset()
    if winter is None or winter != summer:
        return None
    return winter.total_seconds() / 3600


def _offset_suffix(hours: float) -> str:
    if hours == 0:
        return "Z"
    sign = "+" if hours > 0 else "-"
    minutes = round(abs(hours) * 60)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class _Document:
    """Builds the HSDS services of one export."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.types = meeting_guide_types()

    def taxonomy(self, key: str) -> dict[str, Any]:
        if key == MEETING_TYPE_TAXONOMY:
            return {
                "id": hsds_id("taxonomy", key),
                "name": _("Meeting Guide meeting types"),
                "description": _(
                    "The reserved meeting type codes of the Meeting Guide format "
                    "(Code4Recovery), used by twelve-step meeting finders."
                ),
                "uri": "https://github.com/code4recovery/spec",
            }
        return {
            "id": hsds_id("taxonomy", key),
            "name": _("Recovery Menu traits"),
            "description": _(
                "The traits Recovery Menu records for each group to decide fit; the "
                "attribute's value is yes, no, optional or varies."
            ),
        }

    def term(self, taxonomy: str, code: str, name: str, description: str) -> dict[str, Any]:
        detail = self.taxonomy(taxonomy)
        return {
            "id": hsds_id("taxonomy_term", taxonomy, code),
            "code": code,
            "name": name,
            "description": description or name,
            "taxonomy": detail["name"],
            "taxonomy_id": detail["id"],
            "taxonomy_detail": detail,
        }

    def attribute(
        self, entity: str, link_id: str, term: dict[str, Any], value: str = ""
    ) -> dict[str, Any]:
        return _compact(
            {
                "id": hsds_id("attribute", entity, link_id, term["id"]),
                "link_id": link_id,
                "link_entity": entity,
                "taxonomy_term_id": term["id"],
                "value": value,
                "taxonomy_term": term,
            }
        )

    def service(
        self, group: Group, values: list[TraitValue], meetings: list[Meeting]
    ) -> dict[str, Any]:
        service_id = hsds_id("service", group.pk)
        organization_id = hsds_id("organization", group.pk)
        organization = _compact(
            {
                "id": organization_id,
                "name": group.name,
                "website": group.website,
                "year_incorporated": group.founded,
            }
        )
        # Required by HSDS, even where the catalog has no description.
        organization["description"] = group.description
        service = _compact(
            {
                "id": service_id,
                "organization_id": organization_id,
                "name": group.name,
                "alternate_name": group.slug,
                "description": group.description,
                "url": group.website,
                "status": "active" if group.active else "inactive",
            }
        )
        service["languages"] = [
            {
                "id": hsds_id("language", "service", group.pk, code),
                "service_id": service_id,
                "name": language_name(code),
                "code": code,
            }
            for code in group.language_list
        ]
        service["attributes"] = [
            self.attribute(
                "service",
                service_id,
                self.term(
                    TRAIT_TAXONOMY, value.trait.key, value.trait.label, value.trait.help_text
                ),
                value.value,
            )
            for value in values
        ]
        service["organization"] = organization
        service["service_at_locations"] = [
            place for meeting in meetings for place in self.service_at_locations(meeting)
        ]
        return service

    def physical_location(self, meeting: Meeting) -> dict[str, Any]:
        country = str(meeting.country or "")
        key = (
            meeting.location.strip().casefold(),
            meeting.address.strip().casefold(),
            meeting.municipality.strip().casefold(),
            meeting.postcode.strip(),
            country,
            meeting.latitude,
            meeting.longitude,
        )
        location_id = hsds_id("location", "physical", *key)
        location = _compact(
            {
                "id": location_id,
                "location_type": "physical",
                "name": meeting.location,
                "description": meeting.location_notes,
                "latitude": meeting.latitude,
                "longitude": meeting.longitude,
            }
        )
        if meeting.address or meeting.municipality or meeting.postcode:
            # HSDS requires every one of these; the catalog keeps no state or province.
            location["addresses"] = [
                {
                    "id": hsds_id("address", location_id),
                    "location_id": location_id,
                    "address_1": meeting.address,
                    "city": meeting.municipality,
                    "state_province": "",
                    "postal_code": meeting.postcode,
                    "country": country,
                    "address_type": "physical",
                }
            ]
        if meeting.wheelchair_access:
            location["accessibility"] = [
                {
                    "id": hsds_id("accessibility", location_id, "wheelchair"),
                    "location_id": location_id,
                    "description": _("Wheelchair access"),
                }
            ]
        return location

    def virtual_location(self, meeting: Meeting) -> dict[str, Any]:
        joined_by = meeting.online_url or f"tel:{meeting.phone}"
        return _compact(
            {
                "id": hsds_id("location", "virtual", joined_by),
                "location_type": "virtual",
                "url": meeting.online_url,
                "name": _("Online"),
            }
        )

    def schedules(
        self, meeting: Meeting, service_at_location_id: str, attending: str
    ) -> list[dict[str, Any]]:
        schedules = []
        for slot in meeting.slots.all():
            offset = _fixed_offset_hours(slot.timezone, self.year)
            suffix = "" if offset is None else _offset_suffix(offset)
            times = _hh_mm(slot.starts)
            if slot.ends is not None:
                times += f"\N{EN DASH}{_hh_mm(slot.ends)}"
            schedules.append(
                _compact(
                    {
                        "id": hsds_id("schedule", slot.pk, attending),
                        "service_id": hsds_id("service", meeting.group_id),
                        "service_at_location_id": service_at_location_id,
                        "freq": "WEEKLY",
                        "wkst": "MO",
                        "byday": BYDAY[slot.weekday],
                        "opens_at": _hh_mm(slot.starts) + suffix,
                        "closes_at": _hh_mm(slot.ends) + suffix if slot.ends else "",
                        "timezone": offset,
                        "description": _("Every %(day)s, %(times)s (%(zone)s time)")
                        % {
                            "day": slot.get_weekday_display(),
                            "times": times,
                            "zone": slot.timezone,
                        },
                        "attending_type": attending,
                    }
                )
            )
        return schedules

    def service_at_locations(self, meeting: Meeting) -> list[dict[str, Any]]:
        """One entry per way of attending: at the place, and online (hybrid: both)."""
        ways: list[tuple[str, dict[str, Any]]] = []
        if meeting.in_person:
            ways.append(("in person", self.physical_location(meeting)))
        if meeting.remote and (meeting.online_url or meeting.phone):
            ways.append(("online", self.virtual_location(meeting)))
        entries = []
        for attending, location in ways:
            entry_id = hsds_id("service_at_location", meeting.pk, attending)
            entry = {
                "id": entry_id,
                "service_id": hsds_id("service", meeting.group_id),
                "location_id": location["id"],
                "description": "\n\n".join(part for part in (meeting.name, meeting.notes) if part),
                "schedules": self.schedules(meeting, entry_id, attending),
                "location": location,
                "attributes": [
                    self.attribute(
                        "service_at_location",
                        entry_id,
                        self.term(MEETING_TYPE_TAXONOMY, code, self.types[code], self.types[code]),
                    )
                    for code in meeting_types(meeting)
                ],
            }
            if attending == "online" and meeting.phone:
                entry["phones"] = [
                    _compact(
                        {
                            "id": hsds_id("phone", entry_id),
                            "service_at_location_id": entry_id,
                            "number": meeting.phone,
                            "description": meeting.phone_notes,
                        }
                    )
                ]
            entries.append(entry)
        return entries


def hsds_services(
    groups: Iterable[Group],
    values: Iterable[TraitValue],
    meetings: Iterable[Meeting],
    *,
    year: int,
) -> list[dict[str, Any]]:
    """Each group as a fully nested HSDS service (pure: no queries of its own beyond
    the slots prefetched with the meetings)."""
    values_of: dict[int, list[TraitValue]] = defaultdict(list)
    for value in values:
        values_of[value.group_id].append(value)
    meetings_of: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in meetings:
        meetings_of[meeting.group_id].append(meeting)
    document = _Document(year)
    return [document.service(group, values_of[group.pk], meetings_of[group.pk]) for group in groups]


def hsds_document(now: dt.datetime | None = None) -> dict[str, Any]:
    """The catalog as HSDS 3.0: every group as a service, on one page. Four queries.

    Trait values that hold everywhere are the service's attributes (values for one
    country and unknown values are left out: an attribute has no country).
    """
    year = (now or timezone.now()).year
    groups = list(Group.objects.order_by("slug"))
    values = (
        TraitValue.objects.filter(country="")
        .exclude(value=TraitValue.Value.UNKNOWN)
        .select_related("trait")
        .order_by("group_id", "trait__position", "trait__key")
    )
    meetings = offered_reference_meetings(Meeting.objects.all())
    services = hsds_services(groups, values, meetings, year=year)
    return {
        "total_items": len(services),
        "total_pages": 1,
        "page_number": 1,
        "size": len(services),
        "first_page": True,
        "last_page": True,
        "empty": not services,
        "contents": services,
    }
