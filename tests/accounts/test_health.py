from __future__ import annotations

import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connections,
)
from django.http import HttpResponse
from django.test import Client, RequestFactory

from accounts.health import DatabaseUnavailableMiddleware
from referrals.models import ReferralQuerySet
from tests.referrals.test_interfaces import PROFILE

# What a driver may say: never to be shown to whoever asks.
DRIVER_MESSAGE = (
    'connection to server at "db.internal" (10.0.0.5), port 5432 failed: '
    'FATAL: password authentication failed for user "recoverymenu"'
)


def _raise(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.fixture
def database_down(monkeypatch):
    """Every attempt to reach the database fails, as while it restarts."""
    monkeypatch.setattr(
        connections[DEFAULT_DB_ALIAS], "cursor", _raise(OperationalError(DRIVER_MESSAGE))
    )


# --- The health check -------------------------------------------------------


@pytest.mark.django_db
def test_the_health_check_answers_without_logging_in(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_the_health_check_answers_head_requests(client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_a_load_balancer_may_probe_by_an_address_not_in_allowed_hosts(client):
    assert client.get("/healthz", HTTP_HOST="10.0.0.7").status_code == 200
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.7").status_code == 400


@pytest.mark.django_db
def test_the_health_check_answers_before_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


@pytest.mark.django_db
def test_a_failing_database_is_a_503_naming_only_the_error_class(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "OperationalError"}
    assert response["Cache-Control"] == "no-store"
    assert "password" not in response.content.decode()


@pytest.mark.django_db
def test_only_get_and_head_on_exactly_healthz_are_the_health_check(client):
    assert client.post("/healthz").status_code == 404
    assert client.get("/healthz/").status_code == 404


# --- While the database is down ---------------------------------------------


@pytest.mark.django_db
def test_a_view_losing_the_database_answers_503_asking_to_retry(counsellor_client, monkeypatch):
    monkeypatch.setattr(ReferralQuerySet, "count", _raise(OperationalError(DRIVER_MESSAGE)))
    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "is_usable", lambda: False)
    response = counsellor_client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "The service is briefly unavailable" in page
    assert "nothing was half-saved" in page
    assert "password" not in page


@pytest.mark.django_db
def test_the_api_answers_503_as_json(counsellor_client, monkeypatch):
    monkeypatch.setattr(
        "referrals.api.current_snapshot", _raise(InterfaceError("connection already closed"))
    )
    response = counsellor_client.post("/api/v1/match", PROFILE, content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    [problem] = response.json()["detail"]
    assert problem["field"] == "database"
    assert "briefly unavailable" in problem["message"]


@pytest.mark.django_db
def test_an_unreachable_database_answers_503_before_any_middleware_needs_it(
    database_down,
):
    response = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert '<html lang="nl">' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error", [ValueError("a bug"), IntegrityError("duplicate"), ProgrammingError("bad SQL")]
)
def test_other_errors_are_not_swallowed(counsellor_client, monkeypatch, error):
    monkeypatch.setattr(ReferralQuerySet, "count", _raise(error))
    with pytest.raises(type(error)):
        counsellor_client.get("/")


@pytest.mark.django_db(transaction=True)
def test_the_broken_connection_is_closed_so_the_next_request_reconnects(
    counsellor_client, monkeypatch
):
    connection = connections[DEFAULT_DB_ALIAS]
    closed = []
    close = connection.close

    def spy() -> None:
        closed.append(True)
        close()

    with monkeypatch.context() as patched:
        patched.setattr(ReferralQuerySet, "count", _raise(OperationalError("server closed")))
        patched.setattr(connection, "is_usable", lambda: False)
        # Spied on rather than checked afterwards: SQLite keeps a test database in memory
        # open whatever is asked.
        patched.setattr(connection, "close", spy)
        assert counsellor_client.get("/").status_code == 503
    assert closed
    assert counsellor_client.get("/").status_code == 200


@pytest.mark.django_db
def test_checking_the_database_before_a_request_runs_no_query(django_assert_num_queries):
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse("ok"))
    with django_assert_num_queries(0):
        response = middleware(RequestFactory().get("/"))
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_query_failing_on_a_working_connection_is_a_server_error_not_a_503(
    counsellor_client, monkeypatch
):
    """SQLite reports a missing table as an OperationalError; the database is there, so
    this is a bug to report, not an outage to wait out."""
    monkeypatch.setattr(
        ReferralQuerySet, "count", _raise(OperationalError("no such table: referrals_x"))
    )
    with pytest.raises(OperationalError, match="no such table"):
        counsellor_client.get("/")
