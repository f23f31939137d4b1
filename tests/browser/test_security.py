from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.reference import load_catalog
from studies.reference import load_studies
from tests.browser.conftest import log_in
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch_policy(page) -> list[str]:
    """Every message the browser logs about a blocked script, style or image."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


def test_no_page_needs_anything_the_content_security_policy_blocks(page):
    load_catalog()
    load_studies()
    clinic = OrganisationFactory(slug="fjord-clinic", name="Fjord Clinic")
    UserFactory(username="kari", organisation=clinic, roles=[Role.COUNSELLOR])
    UserFactory(username="siri", organisation=clinic, roles=[Role.SUPERVISOR])
    UserFactory(username="ola", organisation=clinic, roles=[Role.CATALOG_ADMIN])
    refused = _watch_policy(page)

    log_in(page, "kari")
    page.goto("/referrals/new/")
    page.get_by_role("textbox", name="Reference").fill("P-0042")
    page.get_by_label("Averse").check()
    expect(page.locator("#menu [data-group]").first).to_be_visible()
    page.get_by_role("button", name="Save referral").click()
    expect(page.get_by_role("heading", name="P-0042")).to_be_visible()
    page.goto(page.url + "handout/")
    page.goto("/accounts/security/")
    expect(page.locator(".qr-code svg")).to_be_visible()
    page.get_by_role("button", name="Log out", exact=True).click()

    log_in(page, "siri")
    for path in ("/referrals/dashboard/", "/audit/", "/referrals/subject/"):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
    page.get_by_role("button", name="Log out", exact=True).click()

    log_in(page, "ola")
    for path in ("/catalog/", "/catalog/groups/na/", "/catalog/groups/na/edit/", "/studies/"):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
    assert refused == []


def test_a_counsellor_turns_on_two_factor_and_then_logs_in_with_a_code(page):
    clinic = OrganisationFactory(slug="fjord-clinic", name="Fjord Clinic")
    UserFactory(username="kari", organisation=clinic, roles=[Role.COUNSELLOR])

    log_in(page, "kari")
    page.get_by_role("link", name="kari · Fjord Clinic").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    # What a phone would read from the QR code: the key shown beside it.
    key = base64.b32decode(page.locator("code").inner_text().replace(" ", ""))
    page.get_by_label("Code from your authenticator app").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("Two-factor authentication is on.")).to_be_visible()
    page.get_by_role("button", name="Log out", exact=True).click()

    log_in(page, "kari")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.wait_for_timeout(1100)  # django-otp delays the next try after a wrong code
    page.get_by_label("Code from your authenticator app").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Welcome, kari")).to_be_visible()
