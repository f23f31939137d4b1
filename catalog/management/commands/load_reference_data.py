from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog import interchange, reference


class Command(BaseCommand):
    help = (
        "Load the shipped reference data (trait vocabulary and catalog). Creates only what "
        "is missing, so running it again changes nothing and curated facts are kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = reference.load_catalog()
        except interchange.CatalogImportError as error:
            raise CommandError("\n".join(error.errors)) from error
        self.stdout.write(
            f"Catalog: {summary.created} created, {summary.unchanged} already present."
        )
