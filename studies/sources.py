"""The source texts shipped with the studies, and the comparison that keeps quotes verbatim."""

from __future__ import annotations

import re
from pathlib import Path

SOURCES = Path(__file__).resolve().parent / "data" / "sources"

# Curly, low and straight quotation marks, written as escapes to stay unambiguous.
_QUOTATION_MARKS = re.compile("[\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\"'`\u00b4]")
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text for verbatim comparison: only whitespace and quotation marks are evened out."""
    return _WHITESPACE.sub(" ", _QUOTATION_MARKS.sub("'", text)).strip()


def source_text(name: str) -> str:
    """A shipped source text, by its bare file name; FileNotFoundError for any other."""
    path = SOURCES / name
    if not name or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise FileNotFoundError(name)
    return path.read_text(encoding="utf-8")


def is_source_text(name: str) -> bool:
    try:
        source_text(name)
    except FileNotFoundError:
        return False
    return True
