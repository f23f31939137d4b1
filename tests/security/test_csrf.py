"""Every form refuses a POST without a CSRF token, and writes nothing.

The pages are found by walking the URLconf (tests/security/crawl.py), so a view added
later is checked without being listed here. Each POST is the form of the page as a
browser would send it, by a user whose role may use it; the same POST with a valid
token is the control that shows the refusal is the token's doing, not the role's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from referrals.models import Referral
from tests.factories import PASSWORD
from tests.referrals.test_interfaces import PROFILE
from tests.security.crawl import (
    ARGUMENTS,
    Form,
    Route,
    World,
    browser,
    build_world,
    every_path,
    match_with_token,
    parse_page,
    routes,
    submit,
)

pytestmark = pytest.mark.django_db

TOKEN_FIELD = "csrfmiddlewaretoken"

# The token-bearing POST of these forms, submitted unchanged, adds rows (to the change
# history at least): so the same POST without a token, which must write nothing, would
# have written.
WRITING_FORMS = {
    "catalog:catalog-import-preview",
    "catalog:feed-import-preview",
    "catalog:history-undo",
    "catalog:source-edit",
    "studies:history-undo",
    "studies:quote-edit",
}


def _database() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the sessions (logging in and out rotates them)."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model is not Session
    }


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def _refused_for_csrf(caplog: pytest.LogCaptureFixture, path: str) -> bool:
    # Django's CSRF check logs every refusal, also when django-ninja runs it for the
    # API; the 403 page alone would not tell it from a refusal for lack of a role.
    return any(
        record.name == "django.security.csrf"
        and getattr(record, "request", None) is not None
        and record.request.path == path  # type: ignore[attr-defined]
        for record in caplog.records
    )


def _harvest(clients: dict[str, Client], targets: list[str]) -> dict[tuple[str, str], Form]:
    """The POST forms each persona sees, by persona and the path they post to."""
    forms: dict[tuple[str, str], Form] = {}
    for persona, client in clients.items():
        for path in targets:
            response = client.get(path)
            if response.get("Content-Type", "").startswith("text/html"):
                for form in parse_page(path, response.content.decode()).forms:
                    if form.method == "post":
                        forms.setdefault((persona, form.action), form)
        assert settings.CSRF_COOKIE_NAME in client.cookies, f"{persona} got no CSRF cookie"
    return forms


def _form(forms: dict[tuple[str, str], Form], persona: str, path: str) -> Form:
    """The persona's form for the path, or another persona's, or an empty form."""
    found = forms.get((persona, path)) or next(
        (form for (_who, action), form in forms.items() if action == path), None
    )
    return found or Form(method="post", action=path)


def _post(client: Client, form: Form, token: str | None = None) -> Any:
    data = form.data()
    data.pop(TOKEN_FIELD, None)
    if token is not None:
        data[TOKEN_FIELD] = [token]
    return submit(client, form.action, data, multipart=form.multipart)


@pytest.fixture
def world(reference_data, counsellor, catalog_admin) -> World:
    # The catalog admin first: the world holds files the admin uploaded.
    return build_world(counsellor)


def test_every_view_refuses_a_post_without_a_csrf_token_and_writes_nothing(world, personas, caplog):
    targets = every_path(world)
    clients = {persona: browser(user) for persona, user in personas.items()}
    forms = _harvest(clients, [path for _route, path in targets])

    before = _database()
    without: dict[tuple[str, str], tuple[int, bool]] = {}
    for _route, path in targets:
        for persona, client in clients.items():
            caplog.clear()
            response = _post(client, _form(forms, persona, path))
            without[persona, path] = (response.status_code, _refused_for_csrf(caplog, path))
    after = _database()
    changed = [table for table, rows in after.items() if rows != before[table]]
    assert not changed, f"POSTs without a CSRF token wrote to {', '.join(changed)}"

    problems: list[str] = []
    for route, path in targets:
        with_token = _post_with_token(route, path, personas, clients, forms, caplog, problems)
        takes_post = any(status not in (404, 405) for status in with_token.values())
        for persona in personas:
            status, refused = without[persona, path]
            if refused and status == 403:
                continue
            if not takes_post and status == with_token[persona]:
                continue  # the view takes no POST at all, token or not
            problems.append(f"POST {path} as {persona} without a token answered {status}")
        if takes_post and all(status == 403 for status in with_token.values()):
            problems.append(f"POST {path} ({route}) is refused for every role, token or not")
    assert not problems, "\n".join(problems)
    taking_post = {route.name for route, _path in targets if route.name in WRITING_FORMS}
    assert taking_post == WRITING_FORMS, "WRITING_FORMS names a URL that is gone"


def _post_with_token(
    route: Route,
    path: str,
    personas: dict[str, User],
    clients: dict[str, Client],
    forms: dict[tuple[str, str], Form],
    caplog: pytest.LogCaptureFixture,
    problems: list[str],
) -> dict[str, int]:
    """The control: each persona's POST of the same form with a valid token. Notes in
    `problems` a refusal for the token, or a writing form that wrote nothing."""
    statuses: dict[str, int] = {}
    for persona, user in personas.items():
        secret = clients[persona].cookies[settings.CSRF_COOKIE_NAME].value
        client = browser(user)  # a fresh one: a POST may log out or change the session
        client.cookies[settings.CSRF_COOKIE_NAME] = secret
        counted = _row_counts() if route.name in WRITING_FORMS else None
        caplog.clear()
        response = _post(client, _form(forms, persona, path), secret)
        if _refused_for_csrf(caplog, path):
            problems.append(f"POST {path} as {persona} with a valid token was refused")
        if counted is not None and response.status_code != 403 and _row_counts() == counted:
            problems.append(f"POST {path} as {persona} with a token wrote nothing")
        if response.status_code == 405:
            # The method is checked before the role: no other role gets further.
            return dict.fromkeys(personas, 405)
        statuses[persona] = response.status_code
    return statuses


def test_the_log_in_form_refuses_a_post_without_a_csrf_token(counsellor):
    client = browser()
    assert client.get("/accounts/login/").status_code == 200
    credentials = {"username": counsellor.username, "password": PASSWORD}

    assert client.post("/accounts/login/", credentials).status_code == 403
    assert "_auth_user_id" not in client.session

    secret = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/accounts/login/", {**credentials, TOKEN_FIELD: secret})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(counsellor.pk)


def test_the_api_refuses_a_session_post_without_a_csrf_token(reference_data, counsellor):
    client = browser(counsellor)
    client.get("/")  # sets the CSRF cookie, as any page does
    body = json.dumps(PROFILE)

    refused = client.post("/api/v1/match", body, content_type="application/json")
    assert refused.status_code == 403

    secret = client.cookies[settings.CSRF_COOKIE_NAME].value
    answered = client.post(
        "/api/v1/match", body, content_type="application/json", headers={"X-CSRFToken": secret}
    )
    assert answered.status_code == 200
    assert answered.json()["reference"] == PROFILE["reference"]
    assert not Referral.objects.exists(), "the match saves nothing"


def test_the_api_takes_a_bearer_token_without_a_csrf_token(reference_data, counsellor):
    response = match_with_token(counsellor)
    assert response.status_code == 200
    assert response.json()["options"]


def test_a_session_post_of_a_form_to_the_api_is_refused_without_a_server_error(
    reference_data, counsellor
):
    client = browser(counsellor)
    client.get("/")
    secret = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/api/v1/match", {TOKEN_FIELD: secret, "reference": "P-0042"})
    assert response.status_code in (415, 422)


def test_every_url_pattern_named_in_arguments_still_exists():
    names = {route.name for route in routes()}
    assert not set(ARGUMENTS) - names, "ARGUMENTS in tests/security/crawl.py fills a gone URL"
