"""Audit entries for events other code already announces: log-ins and log-outs, axes'
lock-outs, and every historical record of the catalog and the studies."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.signals import post_create_historical_record

from audit import log
from audit.models import AuditEntry

HISTORY_ACTIONS = {"+": AuditEntry.Action.CREATE, "~": AuditEntry.Action.CHANGE}
CURATED_AREAS = {"catalog": AuditEntry.Area.CATALOG, "studies": AuditEntry.Area.STUDIES}


@receiver(post_create_historical_record, dispatch_uid="audit_curation")
def curated_change(
    sender: Any, instance: Any, history_instance: Any, history_user: Any = None, **kwargs: Any
) -> None:
    area = CURATED_AREAS.get(instance._meta.app_label)
    if area is None:
        return
    action = HISTORY_ACTIONS.get(history_instance.history_type, AuditEntry.Action.DELETE)
    reason = history_instance.history_change_reason or ""
    what = f"{instance._meta.verbose_name}: {instance}"
    log.record(
        area=area,
        action=action,
        user=history_user,
        object_type=instance._meta.model_name,
        object_id=instance.pk,
        summary=f"{what} ({reason})" if reason else what,
    )


def _device_event(action: str, device: TOTPDevice) -> None:
    owner = device.user
    log.about_user(action, owner, summary=f"authenticator of {owner.get_username()}")


@receiver(post_save, sender=TOTPDevice, dispatch_uid="audit_device_on")
def device_saved(sender: Any, instance: TOTPDevice, created: bool, **kwargs: Any) -> None:
    if created and instance.confirmed:
        _device_event(AuditEntry.Action.TWO_FACTOR_ON, instance)


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="audit_device_off")
def device_deleted(sender: Any, instance: TOTPDevice, **kwargs: Any) -> None:
    if instance.confirmed:
        _device_event(AuditEntry.Action.TWO_FACTOR_OFF, instance)


@receiver(user_logged_in, dispatch_uid="audit_log_in")
def logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    log.account_event(AuditEntry.Action.LOG_IN, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit_log_out")
def logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        log.account_event(AuditEntry.Action.LOG_OUT, user=user, request=request)


def _attempted(username: str) -> tuple[int | None, int | None]:
    """The account a failed attempt was made on, if it exists, and its organisation, so
    that its supervisors see attempts on their colleagues' accounts."""
    found = (
        get_user_model()
        .objects.filter(username=username)
        .values_list("pk", "organisation_id")
        .first()
    )
    return found if found is not None else (None, None)


@receiver(user_login_failed, dispatch_uid="audit_log_in_failed")
def log_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")[:150]
    user_id, organisation_id = _attempted(username)
    log.record(
        area=AuditEntry.Area.ACCOUNTS,
        action=AuditEntry.Action.LOG_IN_FAILED,
        username=username,
        organisation_id=organisation_id,
        object_type="user" if user_id else "",
        object_id=user_id or "",
        request=request,
    )


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def locked_out(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str, **kwargs: Any
) -> None:
    user_id, organisation_id = _attempted(username or "")
    log.record(
        area=AuditEntry.Area.ACCOUNTS,
        action=AuditEntry.Action.LOCKED_OUT,
        username=(username or "")[:150],
        organisation_id=organisation_id,
        object_type="user" if user_id else "",
        object_id=user_id or "",
        request=request,
    )
