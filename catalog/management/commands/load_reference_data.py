from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog import reference
from curation.imports import ImportRefused
from studies import reference as studies_reference


class Command(BaseCommand):
    help = (
        "Load the shipped reference data: the trait vocabulary, the catalog and the studies. "
        "Creates only what is missing, so running it again changes nothing and curated "
        "facts are kept."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            catalog = reference.load_catalog()
            studies = studies_reference.load_studies()
        except ImportRefused as error:
            raise CommandError("\n".join(error.errors)) from error
        self.stdout.write(
            f"Catalog: {catalog.created} created, {catalog.unchanged} already present.\n"
            f"Studies: {studies.created} created, {studies.unchanged} already present."
        )
        call_command("load_places", stdout=self.stdout, verbosity=options["verbosity"])
