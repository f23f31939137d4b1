"""The patient's handout: the chosen group, the alternatives, how to find meetings, and
practical advice drawn from what the studies' participants advised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop
from icalendar import Calendar, Event

from accounts.models import Organisation
from catalog.models import Group, TraitValue
from catalog.nearby import DEFAULT_RADIUS_KM, Upcoming
from referrals.meetings import Whereabouts, locate, meetings_for
from referrals.models import Referral
from referrals.profile import ProfileError
from studies.models import Finding


@dataclass(frozen=True)
class Advice:
    text: str
    finding: str  # the study finding it is drawn from (studies.Finding.key)
    trait: str | None = None  # shown when the chosen group carries this trait
    profile_flag: str | None = None  # …and, if set, when this profile answer is true


ADVICE: tuple[Advice, ...] = (
    Advice(
        gettext_noop(
            "Take your time before you share very personal things in a meeting. "
            "What is said in a group can travel further than the room."
        ),
        "advice-take-time-before-sharing",
        trait="narrative_sharing",
    ),
    Advice(
        gettext_noop(
            "You may change sponsor, or do without one, if the relationship does not help you."
        ),
        "you-can-change-sponsor",
        trait="sponsorship",
    ),
    Advice(
        gettext_noop(
            "If painful memories come up, for example while working the steps, talk to a "
            "professional you trust. You do not have to go through them with a sponsor."
        ),
        "step-five-trauma-survivors",
        trait="step_work",
        profile_flag="trauma_history",
    ),
    Advice(
        gettext_noop(
            "A relapse does not make you a failure. You are welcome back, and you can talk "
            "it over with your counsellor."
        ),
        "relapse-all-or-nothing",
        trait="total_abstinence",
    ),
    Advice(
        gettext_noop(
            "Questions about your medication belong with your doctor or counsellor, "
            "whatever others in a group may say."
        ),
        "psychiatric-comorbidity",
        profile_flag="psychiatric_comorbidity",
    ),
    Advice(
        gettext_noop(
            "A group can be a safe place. Over time, make room for life beyond it too: "
            "work, study, family and friends."
        ),
        "safe-place-becomes-cage",
    ),
    Advice(
        gettext_noop(
            "If this group does not fit you, try another one. One size does not fit all, "
            "and your counsellor can help you choose again."
        ),
        "advice-try-another-resource",
    ),
)


def advice_for(profile: Mapping[str, Any], carried: set[str]) -> dict[str, Any]:
    """The advice that applies, and the studies it is drawn from (each named once)."""
    chosen = [
        item
        for item in ADVICE
        if (item.trait is None or item.trait in carried)
        and (item.profile_flag is None or profile.get(item.profile_flag))
    ]
    studies = {
        finding.key: finding.study
        for finding in Finding.objects.filter(key__in=[i.finding for i in chosen]).select_related(
            "study"
        )
    }
    sources = dict.fromkeys(
        f"{studies[item.finding]}, doi:{studies[item.finding].doi}"
        for item in chosen
        if item.finding in studies
    )
    return {"items": [gettext(item.text) for item in chosen], "sources": list(sources)}


@dataclass(frozen=True)
class Listed:
    """A meeting as the handout prints it: the link to follow and its QR code."""

    meeting: Upcoming
    link: str
    qr: SafeString


def meeting_link(meeting: Upcoming) -> str:
    """Where the patient goes: the online link, or the place on a map."""
    if meeting.online:
        return meeting.online_url
    if meeting.latitude is None or meeting.longitude is None:
        return ""
    query = urlencode({"mlat": f"{meeting.latitude:.5f}", "mlon": f"{meeting.longitude:.5f}"})
    return f"https://www.openstreetmap.org/?{query}#map=17/{meeting.latitude:.5f}/{meeting.longitude:.5f}"


def qr_code(link: str) -> SafeString:
    """The link as an inline SVG QR code (no script, no inline style, nothing fetched)."""
    if not link:
        return SafeString("")
    svg = segno.make(link, error="m").svg_inline(scale=2, border=1, omitsize=True)
    # segno draws the code as a path: the link itself is not in the markup.
    return mark_safe(svg)


def _where(referral: Referral, country: str) -> Whereabouts | None:
    try:
        return locate(referral.profile, country=country)
    except ProfileError:
        # The place was resolved when the menu was made; a gazetteer since changed
        # leaves the handout without meetings in person rather than failing.
        return None


def handout_meetings(
    referral: Referral, groups: list[str], *, country: str, now: dt.datetime | None = None
) -> tuple[Whereabouts | None, dict[str, list[Listed]]]:
    """The next meetings of the given groups for the referral's saved answers."""
    where = _where(referral, country)
    found = meetings_for(
        groups, referral.profile, where, organisation_id=referral.organisation_id, now=now
    )
    listed = {
        slug: [Listed(item, link, qr_code(link)) for item in items for link in [meeting_link(item)]]
        for slug, items in found.items()
    }
    return where, listed


def calendar_file(meeting: Upcoming, group_name: str) -> bytes:
    """The meeting's next start as an iCalendar event, in its own time zone."""
    calendar = Calendar()
    calendar.add("prodid", "-//Recovery Menu//Meetings//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"meeting-{meeting.id}-{meeting.starts:%Y%m%d%H%M}@recovery-menu")
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("summary", f"{group_name}: {meeting.name}")
    event.add("dtstart", meeting.starts)
    if meeting.ends is not None:
        event.add("dtend", meeting.ends)
    if meeting.online:
        event.add("location", meeting.online_url or meeting.phone)
    else:
        event.add("location", meeting.full_address)
    link = meeting_link(meeting)
    if link:
        event.add("url", link)
    details = [meeting.online_url, meeting.phone] if meeting.online else [meeting.full_address]
    event.add("description", "\n".join(part for part in details if part))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def handout_context(
    referral: Referral,
    groups: Mapping[str, Group],
    language: str,
    *,
    clinic: Organisation | None = None,
) -> dict[str, Any]:
    chosen = referral.chosen_option
    carried: set[str] = set()
    if chosen is not None:
        carried = set(
            TraitValue.objects.filter(
                group__slug=chosen["group"], value__in=("yes", "optional", "varies")
            ).values_list("trait__key", flat=True)
        )
    country = referral.profile.get("country") or (clinic.country if clinic else "")

    def entry(option: dict[str, Any]) -> dict[str, Any]:
        group = groups.get(option["group"])
        places = [
            place
            for place in (group.availability.all() if group else [])
            if not country or str(place.country) in (country, "")
        ]
        # The group's own site for the patient's country, where the catalog knows one.
        here = next((p.website for p in places if p.website and str(p.country) == country), "")
        link = here or (group.website if group else "")
        return {"option": option, "group": group, "places": places, "link": link}

    alternatives = [
        entry(option)
        for option in referral.options
        if option["group"] != referral.chosen_group and not option.get("note")
    ]
    first = entry(chosen) if chosen else None
    # The chosen group's next meetings, and those of the first alternative.
    named = [item for item in (first, *alternatives[:1]) if item is not None]
    where, meetings = handout_meetings(
        referral, [item["option"]["group"] for item in named], country=country
    )
    for item in named:
        item["meetings"] = meetings.get(item["option"]["group"], [])
    return {
        "referral": referral,
        "language": language,
        "chosen": first,
        "where": where,
        "radius_km": referral.profile.get("radius_km") or DEFAULT_RADIUS_KM,
        "alternatives": alternatives,
        "complementary": referral.menu.get("complementary", []),
        "advice": advice_for(referral.profile, carried),
        "clinic": clinic,
    }
