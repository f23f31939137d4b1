"""Writes to the evidence that touch several rows, each in one transaction."""

from __future__ import annotations

from django.db import transaction

from studies.forms import BaseFindingTraitFormSet, FindingForm
from studies.models import Finding


@transaction.atomic
def save_finding(*, form: FindingForm, traits: BaseFindingTraitFormSet) -> Finding:
    """Save a finding and its links to traits, all or nothing."""
    finding = form.save()
    traits.instance = finding
    traits.save()
    return finding
