"""The API against its own OpenAPI schema: requests generated from the schema, valid
and invalid, never make a server error, and every answer has a status code and a body
the schema documents. In process, through the WSGI application; no server runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiToken
from config.wsgi import application
from referrals.api import api
from tests.referrals.test_interfaces import PROFILE


def _built() -> dict[str, Any]:
    """The schema as built, in JSON's types (status codes as strings, as served)."""
    built: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(), cls=DjangoJSONEncoder))
    return built


# The schema /api/v1/openapi.json serves, built from the code when the module is
# imported: asking the application for it then would need the database, which tests
# may use only once they run (test_the_fuzzed_schema_is_the_one_served checks that the
# two agree). schemathesis.pytest.from_fixture() would load it inside a test, but it
# sets a node attribute that pytest 9 no longer has.
schema = schemathesis.openapi.from_dict(_built())

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def connection_kept_open():
    """Django closes stale database connections as a request starts and finishes, and
    inside the test's transaction the connection counts as stale: on PostgreSQL closing
    it ends the transaction. Django's test client disconnects that; a test calling the
    WSGI application itself has to as well."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _bearer(user) -> dict[str, str]:
    _token, key = ApiToken.issue(user, "schemathesis")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def counsellor_bearer(counsellor) -> dict[str, str]:
    return _bearer(counsellor)


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    # The catalog and the token are the same for every example on purpose (the match
    # reads them and writes nothing), so the function-scoped fixtures are fine.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_the_api_answers_every_generated_request_as_documented(
    case, reference_data, counsellor_bearer
):
    case.call_and_validate(app=application, headers=counsellor_bearer, checks=CHECKS)


def test_the_fuzzed_schema_is_the_one_served(db):
    served = Client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == _built()


def test_a_token_of_another_role_gets_the_documented_refusal(supervisor):
    case = schema["/api/v1/match"]["POST"].Case(body=PROFILE)
    response = case.call_and_validate(app=application, headers=_bearer(supervisor), checks=CHECKS)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-key"}],
    ids=["no credentials", "an unknown token"],
)
def test_a_request_without_valid_credentials_gets_the_documented_refusal(db, headers):
    case = schema["/api/v1/match"]["POST"].Case(body=PROFILE)
    case.call_and_validate(app=application, headers=headers, checks=CHECKS)
