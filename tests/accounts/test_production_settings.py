"""Production settings: refused when insecure, clean under `check --deploy`, and the
headers every response carries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k3J9-vQx2_Lr8TzW0pYb7NcF4hUe6Ma1SgDi5Ko0Xw9Rt2Vn8Bq4Zj7Hs1Lf3Cy6E"
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": SECRET, "ALLOWED_HOSTS": "menu.example.org"}


def _manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    # As a server would start: none of the test run's environment (the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE, for one) leaks in.
    leave_out = {*PRODUCTION, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in leave_out}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set in the environment"),
        ({"SECRET_KEY": "x" * 60}, "SECRET_KEY must be a random value of at least 50"),
        ({"SECRET_KEY": "short-but-varied-key"}, "SECRET_KEY must be a random value"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must name the host names"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must not contain '*'"),
        ({"BEHIND_TLS_PROXY": "1"}, "TRUSTED_PROXIES is 0"),
    ],
)
def test_an_insecure_production_configuration_refuses_to_start(environment, message):
    result = _manage("check", **{**PRODUCTION, **environment})
    assert result.returncode != 0
    assert "Refusing to start with an insecure production configuration" in result.stderr
    assert message in result.stderr


def test_every_problem_is_named_at_once():
    result = _manage("check", DEBUG="0", SECRET_KEY="", ALLOWED_HOSTS="")
    assert "SECRET_KEY must be set" in result.stderr
    assert "ALLOWED_HOSTS must name" in result.stderr


def test_production_uses_secure_host_only_cookies_and_strict_transport():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    )
    result = _manage("shell", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "31536000",
        "True",
    ]


@pytest.mark.django_db
def test_pages_forbid_inline_script_framing_and_sniffing(client, counsellor_client):
    for response in (client.get("/accounts/login/"), counsellor_client.get("/")):
        policy = response["Content-Security-Policy"]
        directives = {}
        for part in policy.split(";"):
            name, _space, value = part.strip().partition(" ")
            directives[name] = value
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_referral_pages_are_never_cached(counsellor_client, reference_data):
    for path in ("/referrals/", "/referrals/new/", "/referrals/follow-ups/"):
        response = counsellor_client.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], path


@pytest.mark.django_db
def test_strict_transport_security_is_sent_over_https(settings, client):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
