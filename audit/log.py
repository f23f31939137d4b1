"""Writing the audit trail. Every function appends; nothing here changes an entry.

Entries about a write are made in the write's own transaction, so that a change is
never saved without its entry, nor an entry without its change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.http import HttpRequest

from audit.context import current_origin, origin_of
from audit.models import AuditEntry

if TYPE_CHECKING:
    from referrals.models import Referral

Action = AuditEntry.Action
Area = AuditEntry.Area

_batch: ContextVar[list[AuditEntry] | None] = ContextVar("audit_batch", default=None)


def record(
    *,
    area: str,
    action: str,
    user: Any = None,
    username: str = "",
    organisation_id: int | None = None,
    object_type: str = "",
    object_id: object = "",
    reference: str = "",
    summary: str = "",
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append one entry. Who, from where and which address come from the request being
    handled unless given; a management command leaves them empty (the system)."""
    origin = origin_of(request) if request is not None else current_origin()
    if user is None and origin is not None:
        user = origin.user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    entry = AuditEntry(
        user=user,
        username=(user.get_username() if user is not None else username)[:150],
        organisation_id=organisation_id,
        area=area,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:50],
        reference=reference[:40],
        summary=summary[:300],
        path=origin.path if origin is not None else "",
        ip_address=origin.ip_address if origin is not None else None,
    )
    buffer = _batch.get()
    if buffer is not None:
        buffer.append(entry)
    else:
        entry.save()
    return entry


def referral_event(
    action: str,
    referral: Referral,
    *,
    summary: str = "",
    user: Any = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """An entry about one referral, filed under its organisation and reference."""
    return record(
        area=Area.REFERRALS,
        action=action,
        user=user,
        organisation_id=referral.organisation_id,
        object_type="referral",
        object_id=referral.pk,
        reference=referral.reference,
        summary=summary,
        request=request,
    )


def filters_used(request: HttpRequest) -> str:
    """The request's query without its empty parameters, as a form submits them."""
    return urlencode([(key, value) for key, value in request.GET.items() if value])


def listing_event(
    request: HttpRequest, what: str, *, action: str = Action.VIEW, count: int | None = None
) -> AuditEntry:
    """A page or file listing several referrals (a list, a dashboard, an export), filed
    under the user's organisation with the filters that chose them."""
    user: Any = request.user
    query = filters_used(request)
    summary = f"{what}?{query}" if query else what
    if count is not None:
        summary = f"{summary} ({count})"
    return record(
        area=Area.REFERRALS,
        action=action,
        organisation_id=user.organisation_id,
        object_type=what,
        summary=summary,
        request=request,
    )


def about_user(
    action: str, subject: Any, *, summary: str = "", request: HttpRequest | None = None
) -> AuditEntry:
    """An entry about one user's account, made by whoever acts (the user, or a superuser
    in the admin), filed under the account's organisation."""
    return record(
        area=Area.ACCOUNTS,
        action=action,
        organisation_id=subject.organisation_id,
        object_type="user",
        object_id=subject.pk,
        summary=summary,
        request=request,
    )


def account_event(
    action: str,
    *,
    user: Any = None,
    username: str = "",
    summary: str = "",
    request: HttpRequest | None = None,
) -> AuditEntry:
    """A log-in, log-out or change of a user's security settings."""
    organisation_id = getattr(user, "organisation_id", None)
    return record(
        area=Area.ACCOUNTS,
        action=action,
        user=user,
        username=username,
        organisation_id=organisation_id,
        object_type="user" if user is not None else "",
        object_id=user.pk if user is not None else "",
        summary=summary,
        request=request,
    )


@contextmanager
def batch() -> Iterator[None]:
    """Collect the entries written inside and insert them together at the end: an
    import that changes thousands of facts writes its entries in a few queries. Use it
    inside the import's transaction so entries and changes stand or fall together."""
    if _batch.get() is not None:
        yield
        return
    buffer: list[AuditEntry] = []
    token = _batch.set(buffer)
    try:
        yield
    finally:
        _batch.reset(token)
    # Reached only when the block succeeded: a failed import's entries go with it.
    AuditEntry.objects.bulk_create(buffer, batch_size=500)
