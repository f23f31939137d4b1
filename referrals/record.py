"""A menu as stored on a referral and shown on pages: every message kept untranslated
with its parameters, so it reads in the language of whoever opens it (sources'
locators included)."""

from __future__ import annotations

from typing import Any

from referrals.matching import Evidence, Menu, Option, Source, Text, render


def _source(source: Source | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {
        "title": source.title.as_dict(),
        "url": source.url,
        "locator": source.locator.as_dict(),
    }


def _evidence(items: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [
        {
            "study": e.study,
            "finding": e.finding,
            "summary": e.summary,
            "theme": e.theme,
            "quote": e.quote,
            "speakers": list(e.speakers),
            "speaker": ", ".join(e.speakers),
            "locator": e.locator,
        }
        for e in items
    ]


def _text(text: Text | None) -> dict[str, object] | None:
    return text.as_dict() if text is not None else None


def _option(option: Option) -> dict[str, Any]:
    return {
        "group": option.group,
        "name": option.name,
        "kind": option.kind,
        "rank": option.rank,
        "score": option.score,
        "note": _text(option.note),
        "parts": [
            {
                "kind": part.kind,
                "text": part.text.as_dict(),
                "points": part.points,
                "trait": part.trait,
                "value": part.value,
                "source": _source(part.source),
                "evidence": _evidence(part.evidence),
            }
            for part in option.parts
        ],
        "evidence": _evidence(option.evidence),
    }


def menu_record(menu: Menu) -> dict[str, Any]:
    return {
        "reference": menu.reference,
        "options": [_option(option) for option in menu.options],
        "considered": [_option(option) for option in menu.considered],
        "complementary": [
            {
                "group": item.group,
                "name": item.name,
                "reason": item.reason.as_dict(),
                "evidence": _evidence(item.evidence),
            }
            for item in menu.complementary
        ],
        "excluded": [
            {"group": item.group, "name": item.name, "reason": item.reason.as_dict()}
            for item in menu.excluded
        ],
    }


def say(text: dict[str, Any] | str | None) -> str:
    """A stored message in the active language (menus saved before sources' titles
    and locators were kept as messages hold them as plain text)."""
    if not text:
        return ""
    if isinstance(text, str):
        return text
    return render(text["message"], text.get("params") or {}, literal=bool(text.get("literal")))
