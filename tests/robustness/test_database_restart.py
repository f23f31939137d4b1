"""PostgreSQL restarts while counsellors save referrals: no saved referral is lost or
saved twice, and the app serves again as soon as the database is back.

The app runs under gunicorn, as in production, with its persistent connections
(CONN_MAX_AGE): those are what a restart breaks, and what the health checks of
CONN_HEALTH_CHECKS must replace. Django's live server would not show it, since it
closes its connections after every request.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from referrals.models import Referral
from tests.referrals.test_interfaces import FORM

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=f"restarts PostgreSQL; the test database is {connection.vendor}",
)

ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
SAVED = re.compile(r"^/referrals/(\d+)/$")
# Saves to see before the restart, and after it.
SAVES = 6
PATIENCE = 30.0


def _cluster(port: str) -> tuple[str, str] | None:
    """The version and name of the local cluster listening on ``port``."""
    listed = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout
    for line in listed.splitlines():
        version, name, cluster_port, *_rest = line.split()
        if cluster_port == port:
            return version, name
    return None


@pytest.fixture
def restart_postgresql() -> Callable[[], None]:
    """Restarts the cluster holding the test database and returns once it accepts
    connections again. Skipped where that cannot be done; in CI that is a failure."""
    database = connection.settings_dict
    host, port = database["HOST"] or "127.0.0.1", str(database["PORT"] or 5432)
    cluster = None
    if shutil.which("pg_ctlcluster") is None:
        problem = "pg_ctlcluster is not installed"
    elif os.geteuid() != 0:
        problem = "restarting PostgreSQL needs root"
    elif host not in LOCAL_HOSTS:
        problem = f"the test database is on {host}, not on this machine"
    elif (cluster := _cluster(port)) is None:
        problem = f"no local PostgreSQL cluster listens on port {port}"
    else:
        problem = ""
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"cannot restart PostgreSQL in CI: {problem}")
        pytest.skip(f"cannot restart PostgreSQL: {problem}")
    assert cluster is not None
    version, name = cluster

    def restart() -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"], check=True
        )
        ready = ["pg_isready", "-q", "-h", host, "-p", port]
        _wait_for(lambda: subprocess.run(ready).returncode == 0, "PostgreSQL to accept connections")

    return restart


def _wait_for(condition: Callable[[], bool], what: str, explain: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {PATIENCE:.0f} s for {what}. {explain()}")
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _request(
    port: str | int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> http.client.HTTPResponse | None:
    """The response, read; None when the server gave none (refused, reset)."""
    client = http.client.HTTPConnection("127.0.0.1", int(port), timeout=15)
    try:
        client.request(method, path, body=body, headers=headers or {})
        response = client.getresponse()
        response.read()
        return response
    except (OSError, http.client.HTTPException):
        return None
    finally:
        client.close()


@dataclass
class Server:
    port: int
    log: Path

    def tail(self) -> str:
        return "gunicorn said:\n" + "\n".join(self.log.read_text().splitlines()[-40:])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The app under gunicorn, on the test database, until the test ends (before the
    test database is emptied)."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    address = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    url = f"postgres://{credentials}@{address}/{database['NAME']}"
    found = Server(port=_free_port(), log=tmp_path / "gunicorn.log")
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{found.port}", "--workers", "2", "--timeout", "30"]
    with found.log.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, "CONN_MAX_AGE": "60"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            if process.poll() is not None:
                pytest.fail(f"gunicorn stopped. {found.tail()}")
            response = _request(found.port, "GET", "/healthz")
            return response is not None and response.status == 200

        _wait_for(healthy, "gunicorn to serve", found.tail)
        yield found
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Attempt:
    reference: str
    started: float
    status: int | None = None
    referral_id: int | None = None

    @property
    def saved(self) -> bool:
        return self.referral_id is not None


class Counsellor:
    """A logged-in counsellor saving referrals through the intake page, as a browser
    would, in as many tabs as threads call ``save_until_stopped``; records what each
    save was answered."""

    def __init__(self, server: Server, cookies: dict[str, str], csrf_token: str) -> None:
        self.server = server
        self.cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        self.csrf_token = csrf_token
        self.attempts: list[Attempt] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def save_until_stopped(self, prefix: str) -> None:
        for number in range(1, 10_000):
            if self.stop.is_set():
                return
            attempt = Attempt(reference=f"{prefix}-{number:04d}", started=time.monotonic())
            with self.lock:
                self.attempts.append(attempt)
            form = {
                **FORM,
                "reference": attempt.reference,
                "save": "1",
                "csrfmiddlewaretoken": self.csrf_token,
            }
            response = _request(
                self.server.port,
                "POST",
                "/referrals/new/",
                body=urlencode(form, doseq=True),
                headers={
                    "Cookie": self.cookie,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            if response is None:
                continue
            attempt.status = response.status
            saved = SAVED.match(response.getheader("Location", ""))
            if response.status == 302 and saved:
                attempt.referral_id = int(saved.group(1))

    def saved_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for a in self.attempts if a.saved and a.started >= moment)

    def report(self) -> str:
        return "Answers: " + ", ".join(f"{a.reference}: {a.status}" for a in self.attempts)


def _log_in(server: Server, user: object) -> tuple[dict[str, str], str]:
    """The session and CSRF cookies of a logged-in counsellor, and the CSRF token."""
    client = Client()
    client.force_login(user)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    session = "; ".join(f"{name}={value}" for name, value in cookies.items())
    page = _request(server.port, "GET", "/referrals/new/", headers={"Cookie": session})
    assert page is not None and page.status == 200
    for header in page.headers.get_all("Set-Cookie") or []:
        jar: SimpleCookie = SimpleCookie(header)
        if settings.CSRF_COOKIE_NAME in jar:
            cookies[settings.CSRF_COOKIE_NAME] = jar[settings.CSRF_COOKIE_NAME].value
    return cookies, cookies[settings.CSRF_COOKIE_NAME]


@pytest.mark.django_db(transaction=True)
def test_a_restart_loses_no_saved_referral_and_the_app_serves_again(
    restart_postgresql, server, reference_data, counsellor
):
    cookies, csrf_token = _log_in(server, counsellor)
    saving = Counsellor(server, cookies, csrf_token)

    def explain() -> str:
        return f"{saving.report()}\n{server.tail()}"

    tabs = [threading.Thread(target=saving.save_until_stopped, args=(tab,)) for tab in "AB"]
    for tab in tabs:
        tab.start()
    try:
        started = time.monotonic()
        _wait_for(lambda: saving.saved_since(started) >= SAVES, "saves", explain)
        restarting = time.monotonic()
        restart_postgresql()
        ready = time.monotonic()
        _wait_for(lambda: saving.saved_since(ready) >= SAVES, "saves after a restart", explain)
    finally:
        saving.stop.set()
        for tab in tabs:
            tab.join(timeout=PATIENCE)
        # The restart ended this process's connection too; the test database is emptied
        # through a new one.
        connections.close_all()

    attempts = saving.attempts
    assert any(restarting <= a.started < ready for a in attempts), (
        "saves were sent while PostgreSQL restarted"
    )
    after = [a for a in attempts if a.started >= ready]
    assert all(a.saved for a in after), f"every save once it was back worked. {explain()}"

    sent = [a.reference for a in saving.attempts]
    rows = Referral.objects.filter(reference__in=sent).values_list("reference", "pk")
    found = Counter(reference for reference, _pk in rows)
    ids = dict(rows)
    for attempt in attempts:
        if attempt.saved:
            assert found[attempt.reference] == 1, attempt
            assert ids[attempt.reference] == attempt.referral_id, attempt
    assert max(found.values()) == 1, "nothing was saved twice"
