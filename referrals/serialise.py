"""The menu as the contract's JSON (version 1.1: every 1.0 key kept)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.nearby import Upcoming
from referrals.matching import Evidence, Menu, Option, Part, Source, Suggestion


def _source(source: Source | None) -> dict[str, str] | None:
    if source is None:
        return None
    return {"title": str(source.title), "url": source.url, "locator": str(source.locator)}


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


def _part(part: Part) -> dict[str, Any]:
    return {
        "kind": part.kind,
        "text": str(part.text),
        "points": part.points,
        "trait": part.trait,
        "value": part.value,
        "source": _source(part.source),
        "evidence": [evidence_json(item) for item in part.evidence],
    }


def _scored(option: Option) -> dict[str, Any]:
    return {
        "group": option.group,
        "name": option.name,
        "score": option.score,
        "fit": [str(part.text) for part in option.fit],
        "cautions": [
            *([str(option.note)] if option.note else []),
            *(str(part.text) for part in option.cautions),
        ],
        "reasons": [_part(part) for part in option.parts],
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


def _option(option: Option, meetings: list[dict[str, Any]]) -> dict[str, Any]:
    shown = _scored(option)
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


def _suggestion(item: Suggestion) -> dict[str, Any]:
    return {
        "group": item.group,
        "name": item.name,
        "reason": str(item.reason),
        "evidence": [evidence_json(e) for e in item.evidence],
    }


def menu_json(menu: Menu, meetings: Mapping[str, list[Upcoming]] | None = None) -> dict[str, Any]:
    """The menu as the contract gives it; ``meetings`` are each option's, by group slug."""
    meetings = meetings or {}
    return {
        "reference": menu.reference,
        "options": [
            _option(option, [meeting_json(item) for item in meetings.get(option.group, [])])
            for option in menu.options
        ],
        "considered": [_scored(option) for option in menu.considered],
        "complementary": [_suggestion(item) for item in menu.complementary],
        "excluded": [
            {"group": item.group, "name": item.name, "reason": str(item.reason)}
            for item in menu.excluded
        ],
    }
