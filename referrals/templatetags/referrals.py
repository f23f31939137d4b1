from __future__ import annotations

from typing import Any

from django import template

from referrals.record import say as say_text

register = template.Library()


@register.filter
def say(text: dict[str, Any] | None) -> str:
    """A stored menu message in the active language."""
    return say_text(text)


@register.filter
def points(value: float) -> str:
    return f"{value:+.2f}"
