"""Everything held under one pseudonymous reference, as one JSON document: the
referrals with their profiles, menus and follow-ups, and the access log about them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit.models import AuditEntry
from referrals.models import FollowUp, Referral

FORMAT = "recovery-menu/subject-export@1"


def held_under(organisation_id: int, reference: str) -> Any:
    """The organisation's referrals under a reference, however its letters are cased: a
    patient who asks must never be told nothing is held because of "p-0042"."""
    return Referral.objects.filter(organisation_id=organisation_id, reference__iexact=reference)


def export_document(organisation_id: int, reference: str) -> dict[str, Any]:
    referrals = list(
        held_under(organisation_id, reference).select_related("counsellor").order_by("id")
    )
    follow_ups: dict[int, list[dict[str, Any]]] = {r.pk: [] for r in referrals}
    for follow_up in (
        FollowUp.objects.filter(referral__in=referrals)
        .select_related("recorded_by")
        .prefetch_related("reasons")
        .order_by("referral_id", "id")
    ):
        follow_ups[follow_up.referral_id].append(
            {
                "checkpoint": follow_up.checkpoint,
                "outcome": follow_up.outcome,
                "first_meeting_on": _date(follow_up.first_meeting_on),
                "reasons": [reason.code for reason in follow_up.reasons.all()],
                "recorded_by": follow_up.recorded_by.get_username(),
                "recorded_at": follow_up.recorded_at.isoformat(),
            }
        )
    log = AuditEntry.objects.filter(organisation_id=organisation_id, reference__iexact=reference)
    return {
        "format": FORMAT,
        "reference": reference,
        "exported_at": timezone.now().isoformat(),
        "referrals": [
            {
                "id": r.pk,
                "created_at": r.created_at.isoformat(),
                "counsellor": r.counsellor.get_username(),
                "handout_language": r.language,
                "profile": r.profile,
                "menu": r.menu,
                "chosen_group": r.chosen_group,
                "attended": r.attended,
                "engaged_one_month": r.engaged_one_month,
                "engaged_three_months": r.engaged_three_months,
                "disengaged": r.disengaged,
                "closed_on": _date(r.closed_on),
                "follow_ups": follow_ups[r.pk],
            }
            for r in referrals
        ],
        "access_log": [
            {
                "at": entry.at.isoformat(),
                "user": entry.username,
                "action": entry.action,
                "what": entry.summary,
            }
            for entry in log.order_by("at", "id")
        ],
    }


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
