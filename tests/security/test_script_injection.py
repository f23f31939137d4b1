"""Markup stored in any text the site shows, or sent in any parameter or form field,
comes back escaped on every page, for every role.

Every text column of the project's models (found with Model._meta) gets a script in
every row, each column its own number, written past the forms' checks (an append-only
model gets planted copies of its rows instead). Then every page found by walking the
URLconf is requested as each role: plain, with every field of its forms filled with the
script, and with the script in every query parameter any page uses. No HTML page may
hold the script as markup, each column's script must appear escaped somewhere (which
proves the column is shown at all), and JSON, CSV and zip answers must still parse.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query import QuerySet
from django.test import Client

from accounts.models import User
from tests.security.crawl import (
    Page,
    browser,
    build_world,
    every_path,
    match_with_token,
    parse_page,
    submit,
)

pytestmark = pytest.mark.django_db

PAYLOAD = '"><script>alert({n})</script><img src=x onerror=alert({n})>'
SHORT_PAYLOAD = '"><script>alert({n})</script>'
# What would run if a page held the payload as markup.
LIVE = ("<script>alert(", "<img src=x onerror=")
INPUT = 0  # the number of the payload sent in requests; stored ones count from 1
DATA_FILES = (".csv", ".json", ".zip")  # exports, by the end of their address

# Columns that hold something other than text to show (besides those no form edits,
# such as keys and what signs a session): credentials, and the name of the
# file under studies/data/sources/ that quotes are checked against (the import accepts
# only a shipped file's name).
NOT_TEXT = {"password", "key_hash", "source_text"}
# The user name's validator refuses markup in the account forms, but a name typed at
# the log-in page is stored as typed (failed log-ins), so it is treated as any text.
UNVALIDATED = {"username"}
# Referrals hold codes and a validated pseudonymous reference in their columns; their
# menus are made below by the matcher from the planted catalog, as in real use.
APPS_FILLED_BY_USE = {"referrals"}
# Columns that no page shows, and why.
NOT_SHOWN: dict[str, str] = {
    "audit.AuditEntry.object_type": "the log shows it only for an entry without a summary",
    "audit.AuditEntry.object_id": "in the log's CSV export only",
    "audit.AuditEntry.path": "in the log's CSV export only",
}


def escaped(n: int) -> tuple[str, ...]:
    """The payload's start as HTML escapes it, or as JSON in a page escapes it."""
    return (f"&lt;script&gt;alert({n})", f"\\u003Cscript\\u003Ealert({n})")


@dataclass(frozen=True)
class Planted:
    n: int
    column: str
    must_show: bool  # False for the copies django-simple-history keeps


def _project_models() -> list[type[models.Model]]:
    return [
        model
        for config in apps.get_app_configs()
        if "site-packages" not in Path(config.path).parts and config.label not in APPS_FILLED_BY_USE
        for model in config.get_models()
        if model._meta.managed and not model._meta.proxy
    ]


def _append_only(model: type[models.Model]) -> bool:
    """A model whose QuerySet refuses update() keeps its rows as they were written."""
    queryset = type(model._default_manager.get_queryset())
    return queryset.update is not QuerySet.update


def _text_columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
        and not field.choices
        and field.editable
        and not field.primary_key
        and field.name not in NOT_TEXT
    ]


def _fitting(field: models.Field[Any, Any], n: int, pk: object) -> str | None:
    """The longest payload the column's own validation lets in, unique to the row."""
    for template in (PAYLOAD, SHORT_PAYLOAD):
        value = f"{template.format(n=n)} {pk}"
        if field.name in UNVALIDATED:
            return value
        try:
            field.run_validators(value)
        except ValidationError:
            continue
        return value
    return None


def _constrained_empty(row: models.Model, field: models.Field[Any, Any]) -> bool:
    """A column a constraint keeps empty on this row: a worldwide availability row
    (no country) has no region."""
    return field.name == "region" and not getattr(row, "country", "x")


def _in_json(data: Any, value: str) -> Any:
    if isinstance(data, str):
        return value
    if isinstance(data, list):
        return [_in_json(item, value) for item in data]
    if isinstance(data, dict):
        return {key: _in_json(item, value) for key, item in data.items()}
    return data


def _plant() -> list[Planted]:
    """A payload in every text column of every row of the project's models."""
    planted: list[Planted] = []
    numbers = itertools.count(INPUT + 1)
    for model in _project_models():
        columns = [(field, next(numbers)) for field in _text_columns(model)]
        rows = list(model._base_manager.all())
        used: dict[str, int] = {}
        for row in rows:
            for field, n in columns:
                value = _fitting(field, n, row.pk)
                if value is None or _constrained_empty(row, field):
                    continue
                if isinstance(field, models.JSONField):
                    value = _in_json(getattr(row, field.attname), value)
                setattr(row, field.attname, value)
                used[field.name] = n
        if not used:
            continue
        if _append_only(model):
            # Its rows are never changed, so the planted ones are added beside them.
            for row in rows:
                row.pk = None
            model._base_manager.bulk_create(rows)
        else:
            model._base_manager.bulk_update(rows, list(used))
        historical = model.__name__.startswith("Historical") and hasattr(model, "instance_type")
        planted += [
            Planted(n, f"{model._meta.label}.{name}", must_show=not historical)
            for name, n in used.items()
        ]
    return planted


@dataclass
class Seen:
    """Every HTML page served, and what went wrong."""

    bodies: list[str]
    problems: list[str]
    pages: dict[tuple[str, str], Page]

    def check(self, what: str, path: str, response: Any) -> None:
        kind = response.get("Content-Type", "")
        content = b"".join(response.streaming_content) if response.streaming else response.content
        if not kind.startswith("text/html"):
            self._check_data(what, kind, response.status_code, content)
            return
        if response.status_code == 200 and path.endswith(DATA_FILES):
            self.problems.append(f"{what} is served as HTML")
        body = content.decode()
        self.bodies.append(body)
        for live in LIVE:
            at = body.find(live)
            if at >= 0:
                self.problems.append(f"{what} holds markup: …{body[max(0, at - 80) : at + 60]}…")

    def _check_data(self, what: str, kind: str, status: int, content: bytes) -> None:
        """Data is not HTML, so the payload may stand in it as it is; it must parse."""
        if status != 200:
            return
        try:
            if kind.startswith("application/json"):
                json.loads(content)
            elif kind.startswith("text/csv"):
                list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            elif kind.startswith("application/zip"):
                assert zipfile.ZipFile(io.BytesIO(content)).testzip() is None
        except (ValueError, AssertionError, zipfile.BadZipFile) as error:
            self.problems.append(f"{what} ({kind}) does not parse: {error}")


def _clients(personas: dict[str, User]) -> dict[str, Client]:
    return {"anonymous": browser(), **{name: browser(user) for name, user in personas.items()}}


def test_markup_in_stored_text_and_in_requests_comes_back_escaped(
    reference_data, personas, counsellor, monkeypatch
):
    planted = _plant()
    # The matcher's catalog is rebuilt when the catalog's history grows; planting
    # wrote no history, so drop the one kept from before.
    monkeypatch.setattr("referrals.snapshot._kept", None)
    targets = [path for _route, path in every_path(build_world(counsellor))]
    clients = _clients(personas)
    seen = Seen(bodies=[], problems=[], pages={})

    _get_every_page(seen, clients, targets)
    _submit_every_form(seen, clients, personas)
    # The parameters last: their pages also show what the forms may have stored.
    names = {name for page in seen.pages.values() for name in page.query_names}
    _get_every_page(seen, clients, targets, query_names=frozenset(names | {"q", "page", "next"}))

    assert not seen.problems, "\n".join(seen.problems)
    everything = "\n".join(seen.bodies)
    assert any(form in everything for form in escaped(INPUT)), "no page echoes a request"
    unseen = [
        p.column
        for p in planted
        if p.must_show
        and p.column not in NOT_SHOWN
        and not any(form in everything for form in escaped(p.n))
    ]
    assert not unseen, f"No page shows these columns; add them to NOT_SHOWN with why: {unseen}"


def _get_every_page(
    seen: Seen,
    clients: dict[str, Client],
    targets: list[str],
    query_names: frozenset[str] = frozenset(),
) -> None:
    """Every page as each persona; with query names, the payload in each of them and
    as a name too. Plain requests gather the pages' forms and query parameters."""
    payload = PAYLOAD.format(n=INPUT)
    query = urlencode({**dict.fromkeys(query_names, payload), payload: "1"})
    for persona, client in clients.items():
        for path in targets:
            if query_names:
                seen.check(f"GET {path}?… as {persona}", path, client.get(f"{path}?{query}"))
                continue
            response = client.get(path)
            seen.check(f"GET {path} as {persona}", path, response)
            if response.get("Content-Type", "").startswith("text/html"):
                seen.pages[persona, path] = parse_page(path, response.content.decode())


def _submit_every_form(seen: Seen, clients: dict[str, Client], personas: dict[str, User]) -> None:
    """Every POST form a persona was shown, each field the persona fills in holding the
    payload (hidden fields and files aside), with a valid CSRF token."""
    payload = PAYLOAD.format(n=INPUT)
    for (persona, _path), page in seen.pages.items():
        for form in page.forms:
            filled = {item.name for item in form.fields if item.kind not in ("hidden", "submit")}
            if form.method != "post" or not filled:
                continue
            # A client of its own: a form may log out or change the session.
            client = browser(personas.get(persona))
            secret = clients[persona].cookies[settings.CSRF_COOKIE_NAME].value
            client.cookies[settings.CSRF_COOKIE_NAME] = secret
            data = {**form.data(), **{name: [payload] for name in filled}}
            data["csrfmiddlewaretoken"] = [secret]
            response = submit(client, form.action, data, multipart=form.multipart)
            seen.check(f"POST {form.action} as {persona}", form.action, response)


def test_the_api_answers_json_with_a_planted_catalog(reference_data, counsellor, monkeypatch):
    _plant()
    monkeypatch.setattr("referrals.snapshot._kept", None)
    response = match_with_token(counsellor)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    # JSON carries the text as it is; its content type keeps browsers from rendering it.
    names = [option["name"] for option in response.json()["options"]]
    assert any("<script>alert(" in name for name in names)
