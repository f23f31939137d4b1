"""The intake as a counsellor uses it: clinical questions first, a short language list
to search, a menu that keeps what was opened and stays on the page while an answer is
corrected, and one line for screen readers when it changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.reference import load_catalog
from referrals.models import Referral
from studies.reference import load_studies
from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def intake(page):
    load_catalog()
    load_studies()
    UserFactory(username="kari.counsellor", roles=[Role.COUNSELLOR])
    log_in(page, "kari.counsellor")
    page.get_by_role("link", name="New referral").first.click()
    return page


def test_an_invalid_answer_is_marked_and_the_menu_stays_with_what_was_opened(intake):
    page = intake
    menu = page.locator("#menu")
    page.get_by_label("Opioids").check()
    page.get_by_label("Averse").check()
    caution = menu.locator('[data-group="na"] li.part-caution', has_text="admit powerlessness")
    caution.locator("summary").click()
    expect(caution.locator("blockquote")).to_be_visible()

    # Re-ranked: the evidence opened stays open, and the change is summed up in one line.
    page.get_by_label("Trauma history").check()
    expect(page.locator("#menu-status")).to_contain_text("Menu updated:")
    caution = menu.locator('[data-group="na"] li.part-caution', has_text="admit powerlessness")
    expect(caution.locator("blockquote")).to_be_visible()
    assert menu.get_attribute("aria-live") is None, "the whole menu is not read out again"

    # An age out of range: the field says so; the menu stays, leaving the age out.
    age = page.get_by_role("spinbutton", name="Age")
    age.fill("7")
    age.blur()
    expect(age).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#js-error-age")).to_contain_text("12")
    expect(menu.locator("li.option").first).to_be_visible()
    expect(menu.get_by_role("status")).to_contain_text("leaves out the answers to correct: Age")

    age.fill("34")
    age.blur()
    expect(age).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".js-field-error")).to_have_count(0)
    expect(menu.get_by_role("status")).to_have_count(0)

    # A save refused for the age keeps the menu and marks the field.
    age.fill("7")
    age.blur()
    expect(age).to_have_attribute("aria-invalid", "true")
    page.get_by_role("textbox", name="Reference").fill("P-0301")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Save referral").click()
    expect(page.locator("#id_age.is-invalid")).to_be_visible()
    expect(page.locator("#menu li.option").first).to_be_visible()
    assert not Referral.objects.exists()


def test_the_intake_by_keyboard_alone_with_languages_found_by_typing(intake):
    page = intake
    form = page.locator("#intake-form")
    # The clinical questions come before the patient's languages.
    substances = form.locator("#div_id_substances").bounding_box()
    languages = form.locator("#div_id_languages").bounding_box()
    assert substances["y"] < languages["y"]

    page.get_by_role("textbox", name="Reference").focus()
    page.keyboard.type("P-0302")
    page.get_by_role("checkbox", name="Alcohol", exact=True).focus()
    page.keyboard.press("Space")
    find = page.get_by_role("searchbox", name="Find a language")
    find.focus()
    page.keyboard.type("somal")
    expect(form.locator("#div_id_languages .form-check:not([hidden])")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Somali")).to_be_checked()
    page.keyboard.press("Control+A")
    page.keyboard.type("norw")
    page.keyboard.press("Enter")
    expect(page.locator("#menu li.option").first).to_be_visible()
    page.wait_for_load_state("networkidle")  # the last re-rank is in
    page.get_by_role("button", name="Save referral").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Referral P-0302")).to_be_visible()
    referral = Referral.objects.get()
    assert set(referral.profile["languages"]) >= {"so"}
    assert len(referral.profile["languages"]) == 2
