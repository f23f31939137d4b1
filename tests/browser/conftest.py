"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOW_TO_ENABLE = (
    "Browser tests need Debian's Chromium at /usr/bin/chromium: "
    "run `apt-get install chromium` (CI installs it)."
)
# The browser talks only to the test server: no background connections.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(HOW_TO_ENABLE)
        pytest.skip(HOW_TO_ENABLE)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make between browser steps are still synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str) -> None:
    """Log in through the log-in page with the test users' password."""
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def world(live_server):
    """A clinic with one user per role and referrals in several states (followed up,
    overdue, disengaged), for tests that walk every page."""
    import datetime as dt

    from django.utils import timezone

    from accounts.roles import Role
    from catalog.reference import load_catalog
    from referrals.services import record_choice, record_follow_up
    from studies.models import Study
    from studies.reference import load_studies
    from tests.factories import ReferralFactory, UserFactory, disengaged_at_one_month

    load_catalog()
    load_studies()
    counsellor = UserFactory(username="kari.counsellor", roles=[Role.COUNSELLOR])
    organisation = counsellor.organisation
    UserFactory(username="siv.supervisor", roles=[Role.SUPERVISOR], organisation=organisation)
    UserFactory(username="cato.admin", roles=[Role.CATALOG_ADMIN], organisation=organisation)
    followed = ReferralFactory.create(
        counsellor=counsellor,
        reference="P-0101",
        created_at=timezone.now() - dt.timedelta(days=40),
    )
    record_choice(referral=followed, group="na")
    record_follow_up(
        referral=followed,
        recorded_by=counsellor,
        checkpoint="first_meeting",
        outcome="attended",
        first_meeting_on=timezone.localdate(followed.created_at),
    )
    overdue = ReferralFactory.create(
        counsellor=counsellor,
        reference="P-0102",
        created_at=timezone.now() - dt.timedelta(days=20),
    )
    record_choice(referral=overdue, group="aa")
    left = ReferralFactory.create(counsellor=counsellor, reference="P-0103")
    disengaged_at_one_month(left, counsellor, group="na", reasons=["conformity-pressure"])
    study = Study.objects.order_by("key").first()
    return {"referral": followed.pk, "study": study.key}
