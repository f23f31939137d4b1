"""Writes of referrals."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from referrals.matching import Menu
from referrals.models import Referral
from referrals.record import menu_record


@transaction.atomic
def save_referral(
    *, counsellor: User, profile: dict[str, Any], menu: Menu, language: str
) -> Referral:
    """Save the menu exactly as it was shown, under the profile's reference."""
    referral = Referral(
        organisation=counsellor.organisation,
        counsellor=counsellor,
        reference=menu.reference,
        language=language,
        profile=profile,
        menu=menu_record(menu),
    )
    referral.full_clean()
    referral.save()
    return referral


@transaction.atomic
def record_choice(*, referral: Referral, group: str) -> Referral:
    referral.chosen_group = group
    referral.full_clean()
    referral.save(update_fields=["chosen_group", "updated_at"])
    return referral
