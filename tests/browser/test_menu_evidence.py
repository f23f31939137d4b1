from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.reference import load_catalog
from referrals.models import Referral
from studies.reference import load_studies
from tests.browser.conftest import log_in
from tests.factories import UserFactory, disengaged_at_one_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counsellor_reads_the_evidence_of_a_caution_by_keyboard_and_refers_again(page):
    load_catalog()
    load_studies()
    UserFactory(username="kari.counsellor", roles=[Role.COUNSELLOR])
    log_in(page, "kari.counsellor")
    page.get_by_role("link", name="New referral").first.click()

    menu = page.locator("#menu")
    page.get_by_label("Opioids").check()
    page.get_by_label("Averse").check()
    first = menu.locator("li.option").first
    expect(first.get_by_text("Starting point, the same for every group.")).to_be_visible()
    expect(
        first.get_by_text(re.compile(r"Score \d\.\d\d: the sum of the parts above"))
    ).to_be_visible()

    # NA's powerlessness caution carries its own evidence: Arne's words and the summary.
    na = menu.locator('[data-group="na"]')
    caution = na.locator("li.part-caution", has_text="admit powerlessness")
    summary = caution.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(caution.locator("blockquote")).to_contain_text("You are nothing in yourself")
    expect(caution.locator("figcaption")).to_contain_text("Arne")

    # Groups below the menu are there, folded, with their reasons.
    considered = menu.locator("details.considered > summary")
    considered.focus()
    page.keyboard.press("Enter")
    expect(menu.locator("details.considered li.option").first).to_be_visible()

    page.get_by_role("textbox", name="Reference").fill("P-0108")
    page.get_by_role("button", name="Save referral").click()
    expect(page.get_by_text("Saved the referral P-0108.")).to_be_visible()
    expect(page.get_by_text("The answers this menu was made from")).to_be_visible()

    referral = Referral.objects.get(reference="P-0108")
    reasons = ["perceived-negative-focus"]
    disengaged_at_one_month(referral, referral.counsellor, group="na", reasons=reasons)
    page.reload()
    page.get_by_role("link", name="Refer again").click()
    expect(page.get_by_label("Group attended before (1)")).to_have_value("na")
    expect(menu.get_by_text("a reason the patient left Narcotics Anonymous").first).to_be_visible()
