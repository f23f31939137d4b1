"""Who is asking and from where, for the request being handled, so that services and
signal receivers can write audit entries without being handed the request."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


@dataclass(frozen=True)
class Origin:
    user: Any
    ip_address: str | None
    path: str


_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXIES reverse proxies the
    address the outermost trusted proxy saw in X-Forwarded-For."""
    proxies: int = settings.TRUSTED_PROXIES
    address = request.META.get("REMOTE_ADDR")
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    # Only a valid address is kept: a proxy's "unknown" or "host:port" must not make
    # the audit entry, and with it the write it records, fail on PostgreSQL's inet.
    try:
        return str(ipaddress.ip_address(str(address)))
    except ValueError:
        return None


def origin_of(request: HttpRequest) -> Origin:
    user = getattr(request, "user", None)
    return Origin(
        user=user if user is not None and user.is_authenticated else None,
        ip_address=client_ip(request),
        path=request.get_full_path()[:300],
    )


def current_origin() -> Origin | None:
    return _origin.get()


@contextmanager
def acting_as(origin: Origin) -> Iterator[None]:
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)


class AuditContextMiddleware:
    """Makes the request's user, address and path known to audit entries written while
    it is handled. Placed after the authentication middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = _origin.set(origin_of(request))
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)
