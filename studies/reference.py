"""The shipped evidence: the studies, with the source texts their quotes are checked against."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils.translation import gettext_noop

from studies import interchange

DATA = Path(__file__).resolve().parent / "data"
STUDIES_FILE = DATA / "studies.json"
SOURCES = DATA / "sources"
SHIPPED_REASON = gettext_noop("Shipped reference data")

# Curly, low and straight quotation marks, written as escapes to stay unambiguous.
_QUOTATION_MARKS = re.compile("[\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\"'`\u00b4]")
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text for verbatim comparison: only whitespace and quotation marks are evened out."""
    return _WHITESPACE.sub(" ", _QUOTATION_MARKS.sub("'", text)).strip()


def source_text(name: str) -> str:
    return (SOURCES / name).read_text(encoding="utf-8")


def load_studies() -> interchange.ImportSummary:
    """Create the shipped studies that are missing; a study already present is kept."""
    payload = interchange.parse_json(STUDIES_FILE.read_bytes(), STUDIES_FILE.name)
    return interchange.apply(payload, reason=SHIPPED_REASON, overwrite=False)
