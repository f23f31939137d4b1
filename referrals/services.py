"""Writes of referrals and their follow-ups, each in one transaction."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit import log
from audit.models import AuditEntry
from referrals import tallies
from referrals.followup import (
    OUTCOMES,
    REASON_LABELS,
    Outcome,
    Recorded,
    contradiction,
    due_on,
    missing_earlier,
    status,
    timing_problem,
)
from referrals.matching import TWELVE_STEP, Menu
from referrals.models import FollowUp, FollowUpReason, Referral, VoidReason
from referrals.record import menu_record


@transaction.atomic
def save_referral(
    *,
    counsellor: User,
    profile: dict[str, Any],
    menu: Menu,
    language: str,
    intake_key: uuid.UUID | None = None,
) -> Referral:
    """Save the menu exactly as it was shown, under the profile's reference."""
    return save_intake(
        counsellor=counsellor,
        profile=profile,
        menu=menu,
        language=language,
        intake_key=intake_key,
    )[0]


def save_intake(
    *,
    counsellor: User,
    profile: dict[str, Any],
    menu: Menu,
    language: str,
    intake_key: uuid.UUID | None,
) -> tuple[Referral, bool]:
    """Save the menu exactly as it was shown, once per intake: the referral, and
    whether this call made it (False: the intake was saved already, by an earlier
    request or one racing this one)."""
    if intake_key is not None:
        saved = _saved_intake(counsellor, intake_key)
        if saved is not None:
            return saved, False
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
        intake_key=intake_key,
    )
    referral.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            referral.save()
            tallies.move(None, tallies.contribution(referral, []))
            log.referral_event(AuditEntry.Action.CREATE, referral, user=counsellor)
    except IntegrityError:
        # Another request saved the same intake first, between the look and the write.
        saved = _saved_intake(counsellor, intake_key) if intake_key is not None else None
        if saved is None:
            raise
        return saved, False
    return referral, True


def _saved_intake(counsellor: User, intake_key: uuid.UUID) -> Referral | None:
    return Referral.objects.filter(
        organisation_id=counsellor.organisation_id, intake_key=intake_key
    ).first()


def version_of(referral: Referral) -> str:
    """What an edit form of the referral carries to tell, when it is saved, whether
    the referral changed since the form was read (every write saves the referral)."""
    return referral.updated_at.isoformat() if referral.updated_at else ""


def _locked(referral: Referral, version: str | None) -> Referral:
    """The referral, locked until the transaction ends, if it may still be changed and
    has not changed since `version` was read (None: not checked)."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.anonymised_on is not None:
        raise ValidationError(
            _("This referral was anonymised when its retention period ended."),
            code="anonymised",
        )
    if locked.voided_at is not None:
        raise ValidationError(
            _("This referral was voided, so it can no longer change."), code="voided"
        )
    if version is not None and version != version_of(locked):
        changed = timezone.localtime(locked.updated_at)
        raise ValidationError(
            _(
                "This referral was changed at %(time)s, since you opened it. Nothing was "
                "saved: review it as it is now and save again."
            )
            % {"time": changed.strftime("%H:%M")},
            code="stale",
        )
    return locked


@transaction.atomic
def record_choice(*, referral: Referral, group: str, version: str | None = None) -> Referral:
    """Record the group the patient chose; the follow-ups fall due from then on.

    Once a follow-up is recorded, the choice is what was followed up and stays.
    """
    referral = _locked(referral, version)
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
    before = tallies.current(referral)
    referral.chosen_group = group
    apply_status(referral, [])
    # The reference was checked when the referral was saved; one saved before today's
    # rules on pseudonyms must still take the patient's choice.
    referral.full_clean(exclude=["reference"])
    referral.save()
    tallies.move(before, tallies.current(referral))
    # What was chosen is health data: it stays in the referral, not in the log.
    log.referral_event(AuditEntry.Action.CHANGE, referral, summary="choice recorded")
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
    contacted_on: datetime.date | None = None,
    version: str | None = None,
    today: datetime.date | None = None,
) -> FollowUp:
    """Record (or correct) the follow-up at one checkpoint, and what the referral's
    follow-ups now add up to. A follow-up recorded before it falls due, one whose
    earlier checkpoint is missing, and contradicting follow-ups are refused, leaving
    nothing written. ``today`` stands for the day it is recorded (data loads, tests)."""
    today = today or timezone.localdate()
    referral = _locked(referral, version)
    if not referral.chosen_group:
        raise ValidationError(
            _("Record the patient's choice before following it up."), code="no_choice"
        )
    follow_up = FollowUp.objects.filter(referral=referral, checkpoint=checkpoint).first()
    if follow_up is None:
        follow_up = FollowUp(referral=referral, checkpoint=checkpoint)
    follow_up.outcome = outcome
    follow_up.first_meeting_on = first_meeting_on
    follow_up.contacted_on = contacted_on
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
    early = timing_problem(
        checkpoint,
        outcome,
        referred_on=timezone.localdate(referral.created_at),
        today=today,
        contacted_on=contacted_on,
    )
    if early:
        raise ValidationError(early, code="early")
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
    earlier = missing_earlier(checkpoint, recorded)
    if earlier:
        raise ValidationError(str(earlier), code="missing_earlier")

    before = tallies.current(referral)
    follow_up.save()
    follow_up.reasons.all().delete()
    FollowUpReason.objects.bulk_create(
        FollowUpReason(follow_up=follow_up, code=code) for code in dict.fromkeys(reasons)
    )
    apply_status(referral, recorded, today=today)
    referral.save()
    tallies.move(before, tallies.current(referral))
    # The checkpoint, not the outcome or the reasons: those stay in the referral.
    summary = f"follow-up recorded: {checkpoint}"
    log.referral_event(AuditEntry.Action.CHANGE, referral, summary=summary, user=recorded_by)
    return follow_up


@transaction.atomic
def void_referral(
    *, referral: Referral, user: User, reason: str, note: str = "", version: str | None = None
) -> Referral:
    """Void a referral saved by mistake: it stays, marked, in the lists and the log,
    counts in no tally, and takes no choice, follow-up or further change. Retention
    runs from today, as for a closed referral."""
    referral = _locked(referral, version)
    if reason not in VoidReason.values:
        raise ValidationError(
            {
                "reason": _("The reason is one of: %(allowed)s.")
                % {"allowed": ", ".join(str(label) for label in VoidReason.labels)}
            },
            code="invalid",
        )
    before = tallies.current(referral)
    referral.voided_at = timezone.now()
    referral.voided_by = user
    referral.void_reason = reason
    referral.void_note = note.strip()
    referral.follow_up_due_on = None
    referral.closed_on = referral.closed_on or timezone.localdate()
    referral.full_clean(exclude=["reference"])
    referral.save()
    tallies.move(before, None)
    # The reason's code only: the note may say more than the log should.
    log.referral_event(
        AuditEntry.Action.CHANGE, referral, summary=f"referral voided: {reason}", user=user
    )
    return referral


def _anonymised_menu(menu: dict[str, Any]) -> dict[str, Any]:
    """The menu without its reference and without the reasons, which speak of the
    patient's answers: which groups were offered in which order is what stays."""
    keep = ("group", "name", "kind", "rank", "score")
    return {
        "reference": "",
        "options": [{key: o.get(key) for key in keep} for o in menu.get("options", [])],
        "complementary": [],
        "excluded": [],
    }


def retention_cutoff(today: datetime.date | None = None) -> datetime.date:
    from django.conf import settings

    today = today or timezone.localdate()
    return today - datetime.timedelta(days=settings.REFERRAL_RETENTION_DAYS)


def expired_referrals(cutoff: datetime.date) -> Any:
    """Referrals past retention, not yet anonymised: closed before the cut-off, or saved
    before it and never acted on (no choice recorded)."""
    from django.db.models import Q

    from referrals.filters import start_of_day

    return Referral.objects.filter(anonymised_on__isnull=True).filter(
        Q(closed_on__lt=cutoff) | Q(chosen_group="", created_at__lt=start_of_day(cutoff))
    )


def anonymise_expired(*, today: datetime.date | None = None, batch_size: int = 500) -> int:
    """Anonymise every referral past retention, a batch per transaction; returns how many.

    Idempotent and safe to schedule: an anonymised referral is never selected again, and
    rows another process holds are skipped (PostgreSQL) and taken on the next run.
    """
    today = today or timezone.localdate()
    cutoff = retention_cutoff(today)
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                expired_referrals(cutoff)
                .select_for_update(skip_locked=True)
                .only("id", "organisation_id", "menu")
                .order_by("id")[:batch_size]
            )
            if not rows:
                return done
            with log.batch():
                for referral in rows:
                    Referral.objects.filter(pk=referral.pk).update(
                        reference="",
                        profile={},
                        menu=_anonymised_menu(referral.menu),
                        anonymised_on=today,
                    )
                    # No reference in this entry: it is what has just been removed.
                    log.record(
                        area=AuditEntry.Area.REFERRALS,
                        action=AuditEntry.Action.ANONYMISE,
                        organisation_id=referral.organisation_id,
                        object_type="referral",
                        object_id=referral.pk,
                        summary=f"retention ended {cutoff.isoformat()}",
                    )
            done += len(rows)


@transaction.atomic
def erase_reference(*, user: User, reference: str) -> int:
    """Erase every referral held under a reference in the user's organisation, with its
    follow-ups; the erasure itself is recorded. Returns how many referrals went."""
    # Locked first, as the other writes lock a referral before its tallies.
    referrals = list(
        Referral.objects.select_for_update()
        .filter(organisation_id=user.organisation_id, reference__iexact=reference)
        .order_by("pk")
    )
    ids = [referral.pk for referral in referrals]
    if ids:
        # A voided referral counts nowhere already.
        counted = [referral for referral in referrals if referral.voided_at is None]
        tallies.remove(tallies.contributions(counted))
        # Follow-ups and their reasons go with their referral (on_delete=CASCADE).
        Referral.objects.filter(pk__in=ids).delete()
    log.record(
        area=AuditEntry.Area.REFERRALS,
        action=AuditEntry.Action.ERASE,
        user=user,
        organisation_id=user.organisation_id,
        object_type="reference",
        reference=reference,
        summary=f"{len(ids)} referral(s): {', '.join(map(str, ids))}",
    )
    return len(ids)
