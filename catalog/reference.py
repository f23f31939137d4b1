"""The shipped reference data: the trait vocabulary and the catalog."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext_noop

from catalog import interchange
from catalog.models import Trait
from catalog.vocabulary import VOCABULARY

SHIPPED_REASON = gettext_noop("Shipped reference data")
CATALOG_FILE = Path(__file__).resolve().parent / "data" / "catalog.json"


@transaction.atomic
def sync_vocabulary() -> int:
    """Write the vocabulary defined in code to the database; returns rows changed."""
    changed = 0
    for position, definition in enumerate(VOCABULARY):
        values = {
            "dimension": definition.dimension,
            "label": definition.label,
            "help_text": definition.help_text,
            "position": position,
        }
        trait, created = Trait.objects.get_or_create(key=definition.key, defaults=values)
        if not created and any(getattr(trait, k) != v for k, v in values.items()):
            Trait.objects.filter(pk=trait.pk).update(**values)
            changed += 1
        changed += created
    return changed


def load_catalog() -> interchange.ImportSummary:
    """Create what is missing from the shipped catalog; never overwrite curated facts."""
    sync_vocabulary()
    document = interchange.parse_json(CATALOG_FILE.read_bytes(), CATALOG_FILE.name)
    return interchange.apply(document, reason=SHIPPED_REASON, overwrite=False)
