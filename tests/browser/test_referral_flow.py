from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.reference import load_catalog
from referrals.models import Referral
from studies.reference import load_studies
from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counsellor_fills_the_intake_watches_the_menu_re_rank_saves_and_opens_the_handout(page):
    load_catalog()
    load_studies()
    UserFactory(username="kari.counsellor", roles=[Role.COUNSELLOR])

    log_in(page, "kari.counsellor")
    page.get_by_role("link", name="New referral").first.click()

    menu = page.locator("#menu")
    page.get_by_label("Welcome").check()
    page.get_by_label("Sharing in turns").check()
    first = menu.locator("li.option").first
    expect(first).to_be_visible()
    before = first.get_attribute("data-group")

    page.get_by_label("Averse").check()
    page.get_by_label("Dialogue and feedback").check()
    expect(menu.locator("li.option").first).not_to_have_attribute("data-group", before or "")
    page.get_by_label("Trauma history").check()
    expect(menu.get_by_text("Beside the menu")).to_be_visible()

    reference = page.get_by_role("textbox", name="Reference")
    reference.fill("P-0107")
    # Enter in a field never saves: the menu re-ranks as the counsellor types.
    reference.press("Enter")
    expect(page.get_by_role("button", name="Save referral")).to_be_enabled()
    page.wait_for_timeout(300)
    assert not Referral.objects.exists()
    # A double click saves once.
    page.get_by_role("button", name="Save referral").dblclick()
    expect(page.get_by_text("Saved the referral P-0107.")).to_be_visible()
    assert Referral.objects.count() == 1

    page.locator("input[name=group]").first.check()
    page.get_by_role("button", name="Record the choice").click()
    expect(page.get_by_text("Recorded the patient's choice.")).to_be_visible()

    page.get_by_role("link", name="Handout").click()
    expect(page).to_have_url(re.compile(r"/handout/$"))
    expect(page.get_by_role("heading", name="The group you chose")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Advice from people who have been in groups")
    ).to_be_visible()
    assert Referral.objects.get(reference="P-0107").chosen_group


def test_the_handout_prints_on_one_a4_page_from_the_browser_in_every_language(page):
    """Counsellors print from the browser: Chromium's print of a typical handout."""
    from tests.referrals.test_handout import pdf_pages, typical_referral

    load_catalog()
    load_studies()
    counsellor = UserFactory(username="kari.counsellor", roles=[Role.COUNSELLOR])
    referral = typical_referral(counsellor, counsellor.organisation)
    log_in(page, "kari.counsellor")
    page.emulate_media(media="print")
    for language in ("en", "nb", "nl"):
        page.goto(f"/referrals/{referral.pk}/handout/?language={language}")
        expect(page.locator(".handout-meeting").first).to_be_visible()
        assert pdf_pages(page.pdf(format="A4")) == 1, language


def test_a_second_tab_is_told_the_referral_changed_and_a_mistake_is_voided_by_keyboard(
    page, browser, live_server
):
    from tests.factories import ReferralFactory

    load_catalog()
    load_studies()
    counsellor = UserFactory(username="kari.counsellor", roles=[Role.COUNSELLOR])
    referral = ReferralFactory.create(counsellor=counsellor, reference="P-0401")
    log_in(page, "kari.counsellor")
    other = page.context.new_page()  # the same counsellor, a second tab
    for tab in (page, other):
        tab.goto(f"/referrals/{referral.pk}/")

    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Record the choice").click()
    expect(page.get_by_text("Recorded the patient's choice.")).to_be_visible()

    other.get_by_role("radio").nth(1).check()
    other.get_by_role("button", name="Record the choice").click()
    expect(other.get_by_text("since you opened it")).to_be_visible()
    referral.refresh_from_db()
    first = referral.options[0]["group"]
    assert referral.chosen_group == first

    # Voided by keyboard alone: the link, a reason, the button.
    other.goto(f"/referrals/{referral.pk}/")
    void = other.get_by_role("link", name="Void…")
    void.focus()
    other.keyboard.press("Enter")
    other.get_by_role("radio", name="A duplicate of another referral").focus()
    other.keyboard.press("Space")
    other.get_by_role("button", name="Void the referral").focus()
    other.keyboard.press("Enter")
    expect(other.get_by_text("Voided the referral.")).to_be_visible()
    referral.refresh_from_db()
    assert referral.void_reason == "duplicate"
