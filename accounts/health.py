"""The health check for load balancers, and what a request gets while the database
is down (during a restart or a fail-over)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, Error, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
# Errors of the connection itself, not of a query: worth a retry once the database is
# back. Other database errors (an integrity error, a bug in a query) stay 500s.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


class HealthCheckMiddleware:
    """Answers GET and HEAD on /healthz before any other middleware runs: before the
    host is validated (a load balancer may probe by address), before the redirect to
    HTTPS and before the log-in requirement.

    200 when the database answers ``SELECT 1``; 503 naming only the error's class
    when it does not, since a driver's message may name hosts, users or more.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        try:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute("SELECT 1")
        except Error as error:
            logger.warning("Health check: the database did not answer: %s", error)
            body = {"status": "unavailable", "database": type(error).__name__}
            status = 503
        else:
            body, status = {"status": "ok", "database": "ok"}, 200
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        return response


class DatabaseUnavailableMiddleware:
    """Answers 503 with Retry-After, not 500, when the database cannot be reached.

    Placed before the session middleware: that is where a request first needs the
    database, and a failure inside another middleware would become a 500 there before
    any later middleware could see it. A connection error raised by a view is caught
    by ``process_exception``; every other exception goes on to Django as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            # Opening a cursor connects, or checks that a kept connection still works
            # (CONN_HEALTH_CHECKS, once per request in any case), without a query.
            connections[DEFAULT_DB_ALIAS].cursor().close()
        except CONNECTION_ERRORS as error:
            # The locale middleware has not run yet.
            with translation.override(translation.get_language_from_request(request)):
                return unavailable(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CONNECTION_ERRORS) or not connection_lost(exception):
            return None
        return unavailable(request, exception)


def connection_lost(error: Exception) -> bool:
    """Whether the database went away, rather than a query failing on its own (a missing
    table on SQLite, a deadlock or a timeout on PostgreSQL: those stay 500s and reach
    error reporting)."""
    if isinstance(error, InterfaceError):
        return True
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.connection is None:
        return True
    try:
        return not connection.is_usable()
    except Error:
        return True


def unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """The 503 answer, as JSON for the API; the page needs no database to render."""
    logger.warning(
        "The database is unavailable for %s %s", request.method, request.path, exc_info=error
    )
    drop_connections()
    message = _(
        "The service is briefly unavailable. Try again in a moment; nothing was half-saved."
    )
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        body: dict[str, Any] = {"detail": [{"field": "database", "message": message}]}
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def drop_connections() -> None:
    """Close connections that failed, so the next request connects afresh rather than
    finding a broken one."""
    for connection in connections.all(initialized_only=True):
        # Inside a transaction (the test suite's own) the connection is not ours to close.
        if not connection.in_atomic_block:
            connection.close()
