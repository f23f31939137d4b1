"""Writes to the catalog that touch several rows, each in one transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import BaseInlineFormSet
from django.utils.translation import gettext as _

from catalog.forms import AvailabilityForm, CountryTraitValueForm, GroupForm, TraitValueForm
from catalog.history import group_version
from catalog.models import Availability, Group, TraitValue


@transaction.atomic
def save_group(
    *,
    group_form: GroupForm,
    trait_forms: list[TraitValueForm],
    country_value_formset: BaseInlineFormSet[TraitValue, Group, CountryTraitValueForm],
    availability_formset: BaseInlineFormSet[Availability, Group, AvailabilityForm],
) -> Group:
    """Save a group with its trait values (everywhere and per country) and availability,
    all or nothing.

    Only what changed is written, so the history shows real changes. A trait set
    back to unknown with nothing said about it is removed: absence means unknown.
    Refused, writing nothing, when the group changed since the form was opened (its
    ``version`` field), in another tab or by another catalog admin.
    """
    existing = group_form.instance
    if existing.pk:
        Group.objects.select_for_update().filter(pk=existing.pk).first()
        read_at = group_form.cleaned_data.get("version")
        if read_at and read_at != group_version(existing):
            raise ValidationError(
                _(
                    "This group was changed since you opened it. Nothing was saved: see "
                    "its history, then open the form again to edit it as it is now."
                ),
                code="stale",
            )
    group = (
        group_form.save()
        if group_form.has_changed() or not group_form.instance.pk
        else (group_form.instance)
    )
    for form in trait_forms:
        if not form.has_changed():
            continue
        if form.is_empty_unknown:
            if form.instance.pk:
                form.instance.delete()
            continue
        form.instance.group = group
        form.save()
    country_value_formset.instance = group
    country_value_formset.save()
    availability_formset.instance = group
    availability_formset.save()
    return group
