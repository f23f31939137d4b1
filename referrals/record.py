"""A menu as stored on a referral and shown on pages: every message kept untranslated
with its parameters, so it reads in the language of whoever opens it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from referrals.matching import Evidence, Menu, Source, Text


def _source(source: Source | None) -> dict[str, str] | None:
    if source is None:
        return None
    return {"title": source.title, "url": source.url, "locator": source.locator}


def _evidence(items: tuple[Evidence, ...]) -> list[dict[str, str]]:
    return [
        {"study": e.study, "theme": e.theme, "quote": e.quote, "speaker": e.speaker} for e in items
    ]


def _text(text: Text | None) -> dict[str, object] | None:
    return text.as_dict() if text is not None else None


def menu_record(menu: Menu) -> dict[str, Any]:
    return {
        "reference": menu.reference,
        "options": [
            {
                "group": option.group,
                "name": option.name,
                "kind": option.kind,
                "rank": option.rank,
                "score": option.score,
                "note": _text(option.note),
                "parts": [
                    {
                        "text": part.text.as_dict(),
                        "points": part.points,
                        "trait": part.trait,
                        "source": _source(part.source),
                        "evidence": _evidence(part.evidence),
                    }
                    for part in option.parts
                ],
                "evidence": _evidence(option.evidence),
            }
            for option in menu.options
        ],
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


def say(text: dict[str, Any] | None) -> str:
    """A stored message in the active language."""
    if not text:
        return ""
    message = gettext(text["message"])
    return message % text["params"] if text.get("params") else message
