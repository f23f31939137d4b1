"""The shipped evidence: the studies, with the source texts their quotes are checked against."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_noop

from studies import interchange
from studies.sources import SOURCES, is_source_text, normalise, source_text

__all__ = ["SOURCES", "STUDIES_FILE", "is_source_text", "load_studies", "normalise", "source_text"]

DATA = Path(__file__).resolve().parent / "data"
STUDIES_FILE = DATA / "studies.json"
SHIPPED_REASON = gettext_noop("Shipped reference data")


def load_studies() -> interchange.ImportSummary:
    """Create the shipped studies that are missing; a study already present is kept."""
    payload = interchange.parse_json(STUDIES_FILE.read_bytes(), STUDIES_FILE.name)
    return interchange.apply(payload, reason=SHIPPED_REASON, overwrite=False)
