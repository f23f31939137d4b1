"""Writes of referrals and their follow-ups, each in one transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from referrals.followup import (
    OUTCOMES,
    REASON_LABELS,
    Outcome,
    Recorded,
    contradiction,
    due_on,
    status,
)
from referrals.matching import TWELVE_STEP, Menu
from referrals.models import FollowUp, FollowUpReason, Referral
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
        country=profile.get("country") or "",
        first_ranked=menu.options[0].group if menu.options else "",
        offered_non_twelve_step=any(o.kind != TWELVE_STEP for o in menu.options),
    )
    referral.full_clean()
    referral.save()
    return referral


@transaction.atomic
def record_choice(*, referral: Referral, group: str) -> Referral:
    """Record the group the patient chose; the follow-ups fall due from then on.

    Once a follow-up is recorded, the choice is what was followed up and stays.
    """
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.follow_ups.exists():
        if group == referral.chosen_group:
            return referral
        raise ValidationError(
            _(
                "Follow-ups are recorded for the chosen group, so the choice can no longer "
                "change. Save a new referral if the patient moves to another group."
            ),
            code="followed_up",
        )
    referral.chosen_group = group
    apply_status(referral, [])
    referral.full_clean()
    referral.save()
    return referral


def apply_status(
    referral: Referral, follow_ups: list[Recorded], *, today: datetime.date | None = None
) -> None:
    """Set what the follow-ups add up to on the referral (not saved)."""
    now = status(follow_ups, chosen=bool(referral.chosen_group))
    referral.attended = now.attended
    referral.engaged_one_month = now.engaged_one_month
    referral.engaged_three_months = now.engaged_three_months
    referral.disengaged = now.disengaged
    referral.follow_up_due_on = due_on(timezone.localdate(referral.created_at), now.next_checkpoint)
    if now.closed and follow_ups:
        referral.closed_on = referral.closed_on or today or timezone.localdate()
    else:
        referral.closed_on = None


def _check_first_meeting(
    referral: Referral, outcome: str, first_meeting_on: datetime.date | None
) -> None:
    if outcome != Outcome.ATTENDED:
        if first_meeting_on is not None:
            raise ValidationError(
                {"first_meeting_on": _("Give a date only when the patient attended.")},
                code="not_attended",
            )
        return
    if first_meeting_on is None:
        raise ValidationError(
            {"first_meeting_on": _("Give the date of the first meeting.")}, code="required"
        )
    if first_meeting_on > timezone.localdate():
        raise ValidationError(
            {"first_meeting_on": _("The date of the first meeting cannot be in the future.")},
            code="future",
        )
    if first_meeting_on < timezone.localdate(referral.created_at):
        raise ValidationError(
            {"first_meeting_on": _("The first meeting cannot be before the referral.")},
            code="before_referral",
        )


def _check_reasons(outcome: str, reasons: list[str] | tuple[str, ...]) -> None:
    unknown = [code for code in reasons if code not in REASON_LABELS]
    if unknown:
        raise ValidationError(
            {"reasons": _("Unknown reason: %(codes)s.") % {"codes": ", ".join(unknown)}},
            code="invalid",
        )
    if outcome == Outcome.DISENGAGED and not reasons:
        raise ValidationError(
            {"reasons": _("Give at least one reason for disengaging, or choose Other.")},
            code="required",
        )
    if outcome != Outcome.DISENGAGED and reasons:
        raise ValidationError(
            {"reasons": _("Reasons are recorded only when the patient disengaged.")},
            code="not_disengaged",
        )


@transaction.atomic
def record_follow_up(
    *,
    referral: Referral,
    recorded_by: User,
    checkpoint: str,
    outcome: str,
    first_meeting_on: datetime.date | None = None,
    reasons: list[str] | tuple[str, ...] = (),
) -> FollowUp:
    """Record (or correct) the follow-up at one checkpoint, and what the referral's
    follow-ups now add up to. Contradicting follow-ups are refused, leaving nothing
    written."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if not referral.chosen_group:
        raise ValidationError(
            _("Record the patient's choice before following it up."), code="no_choice"
        )
    follow_up = FollowUp.objects.filter(referral=referral, checkpoint=checkpoint).first()
    if follow_up is None:
        follow_up = FollowUp(referral=referral, checkpoint=checkpoint)
    follow_up.outcome = outcome
    follow_up.first_meeting_on = first_meeting_on
    follow_up.recorded_by = recorded_by
    if outcome not in OUTCOMES.get(checkpoint, ()):
        raise ValidationError(
            {
                "outcome": _("At this checkpoint the outcome is one of: %(allowed)s.")
                % {"allowed": ", ".join(OUTCOMES.get(checkpoint, ()))}
            },
            code="invalid",
        )
    _check_first_meeting(referral, outcome, first_meeting_on)
    _check_reasons(outcome, reasons)
    follow_up.full_clean(exclude=["referral"])

    recorded = [
        Recorded(c, o)
        for c, o in referral.follow_ups.exclude(checkpoint=checkpoint).values_list(
            "checkpoint", "outcome"
        )
    ]
    recorded.append(Recorded(checkpoint, outcome))
    problem = contradiction(recorded)
    if problem:
        raise ValidationError(str(problem), code="contradiction")

    follow_up.save()
    follow_up.reasons.all().delete()
    FollowUpReason.objects.bulk_create(
        FollowUpReason(follow_up=follow_up, code=code) for code in dict.fromkeys(reasons)
    )
    apply_status(referral, recorded)
    referral.save()
    return follow_up
