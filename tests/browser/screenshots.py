"""Screenshots of every role's main pages in en, nb and nl, for review by eye.

Run by `make screenshots` (not part of `make test`): the pictures go to
tmp/screenshots/<language>/<number>-<page>.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import Organisation
from referrals.models import Referral
from tests.browser.test_accessibility import LOCALES, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "tmp" / "screenshots"


@pytest.fixture
def clinic(world):
    """The accessibility tests' clinic, with the telephone its handout prints."""
    Organisation.objects.filter(users__username="kari.counsellor").update(
        telephone="+47 00 00 00 00"
    )
    return Referral.objects.get(pk=world["referral"])


@pytest.mark.parametrize("language", ["en", "nb", "nl"])
def test_screenshots(browser, live_server, clinic, language):
    folder = OUT / language
    folder.mkdir(parents=True, exist_ok=True)
    shots = iter(range(1, 100))

    def shoot(page, name: str) -> None:
        page.screenshot(path=str(folder / f"{next(shots):02d}-{name}.png"), full_page=True)

    def as_user(username: str):
        context = browser.new_context(
            base_url=live_server.url,
            locale=LOCALES[language],
            viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        log_in(page, username)
        return context, page

    context, page = as_user("kari.counsellor")
    page.goto("/referrals/new/")
    page.locator("input[name=substances][value=alcohol]").check()
    page.locator("input[name=trauma_history]").check()
    page.locator("#menu li.option").first.wait_for()
    shoot(page, "intake")
    page.locator("#id_reference").fill("P-0201")
    page.locator("button[name=save]:not([disabled])").click()
    page.wait_for_url(lambda url: "/new/" not in url)
    shoot(page, "referral")
    for path, name in [
        (f"/referrals/{clinic.pk}/", "referral-followed"),
        (f"/referrals/{clinic.pk}/follow-up/one_month/", "follow-up"),
        (f"/referrals/{clinic.pk}/handout/", "handout"),
        (f"/referrals/{clinic.pk}/void/", "void"),
        ("/referrals/follow-ups/", "follow-ups-due"),
        ("/catalog/meetings/find/?place=Oslo", "meeting-finder"),
    ]:
        page.goto(path)
        shoot(page, name)
    context.close()

    context, page = as_user("siv.supervisor")
    for path, name in [
        ("/referrals/dashboard/", "dashboard"),
        ("/referrals/?period=12m&outcome=disengaged", "drill-down"),
        ("/audit/", "access-log"),
    ]:
        page.goto(path)
        shoot(page, name)
    page.goto("/referrals/subject/")
    page.locator("#id_reference").fill("P-0101")
    page.locator("button[value=lookup]").click()
    shoot(page, "subject-lookup")
    page.locator("button[value=readable]").click()
    shoot(page, "subject-readable")
    context.close()

    context, page = as_user("cato.admin")
    for path, name in [
        ("/catalog/groups/na/edit/", "group-edit"),
        ("/catalog/groups/na/history/", "group-history"),
        ("/catalog/import/", "import"),
        ("/catalog/feeds/", "feeds"),
        ("/studies/", "studies"),
    ]:
        page.goto(path)
        shoot(page, name)
    context.close()
    assert len(list(folder.glob("*.png"))) >= 18
