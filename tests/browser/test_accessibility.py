"""WCAG 2.1 AA in a real browser: axe-core finds nothing serious on any page, in any
language, run under the app's own Content-Security-Policy; every control shows its
focus; the navigation stays on one line at 1280 px."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from accounts.roles import Role
from catalog.reference import load_catalog
from studies.reference import load_studies
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
LOCALES = {"en": "en-GB", "nb": "nb-NO", "nl": "nl-NL"}
# WCAG 2.1 A and AA; a finding of these impacts fails the page.
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = ("serious", "critical")


def log_in(page, username: str) -> None:
    """Log in whatever the page's language (by the fields, not their labels)."""
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def _pages(world) -> dict[str, list[str]]:
    pk = world["referral"]
    return {
        "kari.counsellor": [
            "/",
            "/referrals/new/",
            "/referrals/",
            f"/referrals/{pk}/",
            f"/referrals/{pk}/handout/",
            f"/referrals/{pk}/follow-up/one_month/",
            f"/referrals/{pk}/void/",
            "/referrals/follow-ups/",
            "/catalog/meetings/find/?place=Oslo",
            "/catalog/",
            "/catalog/groups/na/",
            "/catalog/compare/",
            "/accounts/security/",
        ],
        "siv.supervisor": [
            "/referrals/dashboard/",
            "/referrals/?outcome=attended",
            "/referrals/subject/?reference=P-0101",
            "/audit/",
        ],
        "cato.admin": [
            "/catalog/groups/na/edit/",
            "/catalog/groups/na/history/",
            "/catalog/import/",
            "/catalog/feeds/",
            "/catalog/sources/",
            "/studies/",
            f"/studies/{world['study']}/",
        ],
    }


def _findings(page) -> list[dict]:
    """Serious and critical axe findings on the page, evaluated under its CSP (a script
    evaluated by the browser's debugging protocol, not injected into the page)."""
    if not getattr(page, "_axe_loaded", False):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})", RULES
    )
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in FAILING
    ]


@pytest.mark.parametrize("language", ["en", "nb", "nl"])
def test_axe_finds_nothing_serious_on_any_page(browser, live_server, world, language):
    if not AXE.exists():
        missing = "axe-core is installed by `make test` (npm ci), which needs npm"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    found: dict[str, list[dict]] = {}
    for username, paths in _pages(world).items():
        context = browser.new_context(base_url=live_server.url, locale=LOCALES[language])
        page = context.new_page()
        csp_violations: list[str] = []
        page.on(
            "console",
            lambda m, bag=csp_violations: (
                bag.append(m.text) if "Content Security Policy" in m.text else None
            ),
        )
        log_in(page, username)
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.ok, (path, response and response.status)
            assert "content-security-policy" in response.headers, path
            if path == "/referrals/new/":
                page.get_by_role("checkbox").nth(0).check()
                page.locator("#menu li.option").first.wait_for()
            problems = _findings(page)
            if problems:
                found[f"{username} {path}"] = problems
        assert not csp_violations, csp_violations
        context.close()
    assert not found, json.dumps(found, indent=1)


@pytest.fixture
def counsellor_page(browser, live_server):
    load_catalog()
    load_studies()
    UserFactory(username="kari.counsellor", roles=[Role.COUNSELLOR])
    contexts = []

    def opened(language: str):
        context = browser.new_context(
            base_url=live_server.url,
            locale=LOCALES[language],
            viewport={"width": 1280, "height": 800},
        )
        contexts.append(context)
        page = context.new_page()
        log_in(page, "kari.counsellor")
        return page

    yield opened
    # Closed before the database is: an open browser keeps the server's threads busy.
    for context in contexts:
        context.close()


def test_every_control_shows_a_clear_focus_ring(counsellor_page):
    page = counsellor_page("en")
    page.goto("/referrals/new/")
    for control in (
        page.get_by_role("textbox", name="Reference"),
        page.get_by_role("checkbox").first,
    ):
        control.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        style = control.evaluate(
            "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
        )
        assert style[0] == "solid" and float(style[1].removesuffix("px")) >= 2, style


@pytest.mark.parametrize("language", ["nb", "nl"])
def test_the_navigation_stays_on_one_line_at_1280_pixels(counsellor_page, language):
    page = counsellor_page(language)
    page.goto("/")
    links = page.locator("#main-nav .nav-link")
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}
    assert len(tops) == 1, f"the sections wrap onto {len(tops)} lines"
