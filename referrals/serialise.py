"""The menu as the contract's JSON (version 1.1: every 1.0 key kept)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import get_language

from catalog.nearby import Upcoming
from referrals.matching import Evidence, Menu, Option, Part, Source, Suggestion, Text

# Renders a message in the menu's language, looked up once per menu.
Say = Callable[[Text | str], str]


def _source(source: Source | None, say: Say) -> dict[str, str] | None:
    if source is None:
        return None
    return {"title": say(source.title), "url": source.url, "locator": say(source.locator)}


def evidence_json(item: Evidence) -> dict[str, Any]:
    return {
        "study": item.study,
        "finding": item.finding,
        "summary": item.summary,
        "theme": item.theme,
        "quote": item.quote,
        "speakers": list(item.speakers),
        "locator": item.locator,
    }


def _part(part: Part, say: Say) -> dict[str, Any]:
    return {
        "kind": part.kind,
        "text": say(part.text),
        "points": part.points,
        "trait": part.trait,
        "value": part.value,
        "source": _source(part.source, say),
        "evidence": [evidence_json(item) for item in part.evidence],
    }


def _scored(option: Option, say: Say) -> dict[str, Any]:
    return {
        "group": option.group,
        "name": option.name,
        "score": option.score,
        "fit": [say(part.text) for part in option.fit],
        "cautions": [
            *([say(option.note)] if option.note else []),
            *(say(part.text) for part in option.cautions),
        ],
        "reasons": [_part(part, say) for part in option.parts],
    }


def meeting_json(item: Upcoming) -> dict[str, Any]:
    """A meeting as contract 1.1 gives it under an option."""
    return {
        "id": str(item.id),
        "name": item.name,
        "starts": item.starts.isoformat(),
        "timezone": item.timezone,
        "attendance": item.attendance,
        "address": item.full_address,
        "online_url": item.online_url,
        "phone": item.phone,
        "distance_km": item.distance_km,
        "languages": list(item.languages),
        "types": list(item.types),
        "example": item.is_example,
    }


def _option(option: Option, meetings: list[dict[str, Any]], say: Say) -> dict[str, Any]:
    shown = _scored(option, say)
    return {
        "group": shown.pop("group"),
        "name": shown.pop("name"),
        "rank": option.rank,
        **shown,
        # Contract 1.0: the option's evidence, one list; 1.1 gives it per reason.
        "evidence": [
            {
                "study": item.study,
                "theme": item.theme,
                "quote": item.quote,
                "speaker": ", ".join(item.speakers),
                "finding": item.finding,
                "summary": item.summary,
            }
            for item in option.evidence
        ],
        "meetings": meetings,
    }


def _suggestion(item: Suggestion, say: Say) -> dict[str, Any]:
    return {
        "group": item.group,
        "name": item.name,
        "reason": say(item.reason),
        "evidence": [evidence_json(e) for e in item.evidence],
    }


def menu_json(menu: Menu, meetings: Mapping[str, list[Upcoming]] | None = None) -> dict[str, Any]:
    """The menu as the contract gives it; ``meetings`` are each option's, by group slug."""
    meetings = meetings or {}
    language = get_language()

    def say(text: Text | str) -> str:
        return text.render_in(language) if isinstance(text, Text) else str(text)

    return {
        "reference": menu.reference,
        "options": [
            _option(option, [meeting_json(item) for item in meetings.get(option.group, [])], say)
            for option in menu.options
        ],
        "considered": [_scored(option, say) for option in menu.considered],
        "complementary": [_suggestion(item, say) for item in menu.complementary],
        "excluded": [
            {"group": item.group, "name": item.name, "reason": say(item.reason)}
            for item in menu.excluded
        ],
    }
