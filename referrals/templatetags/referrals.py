from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

from referrals.record import say as say_text

register = template.Library()


@register.filter
def say(text: dict[str, Any] | str | None) -> str:
    """A stored menu message in the active language."""
    return say_text(text)


@register.filter
def part_kind(part: dict[str, Any]) -> str:
    """base, fit, caution or advice; menus saved before parts had a kind go by points."""
    return str(part.get("kind") or ("caution" if part["points"] < 0 else "fit"))


@register.filter
def points(value: float) -> str:
    """A part's points with their sign, in the active language's number format."""
    return ("\N{MINUS SIGN}" if value < 0 else "+") + number_format(abs(value), 2)


@register.filter
def magnitude(value: float) -> str:
    """A part's points without their sign, in the active language's number format."""
    return number_format(abs(value), 2)


@register.filter
def weighed(parts: list[dict[str, Any]]) -> dict[str, float]:
    """A score's parts summed by kind, for the handout: the starting point, what fits,
    what cautions (advice weighs nothing)."""
    base = sum(p["points"] for p in parts if p.get("kind") == "base")
    return {
        "base": base,
        "fits": sum(p["points"] for p in parts if p["points"] > 0 and p.get("kind") != "base"),
        "cautions": -sum(p["points"] for p in parts if p["points"] < 0),
    }


@register.filter
def percent(value: float | None) -> str:
    """A share as a whole percentage in the active language's number format."""
    if value is None:
        return "\N{EM DASH}"
    return f"{number_format(round(100 * value))} %"


@register.filter
def svg(value: float) -> str:
    """A number for an SVG attribute: never localised (no decimal comma)."""
    return f"{value:g}"


@register.filter
def share_of(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    """A dictionary's value by a key held in a variable."""
    return mapping.get(key)
