from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.models import TraitValue
from catalog.reference import load_catalog
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_changes_a_trait_and_sees_it_in_the_history(page):
    load_catalog()
    UserFactory(username="curator", roles=[Role.CATALOG_ADMIN])

    page.goto("/catalog/groups/na/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Narcotics Anonymous")).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Sponsorship: Value").select_option("varies")
    page.get_by_label("Sponsorship: Note").fill("Some groups practise it more than others.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Saved Narcotics Anonymous.")).to_be_visible()
    page.get_by_role("link", name="History").click()
    latest = page.locator("tbody tr").first
    expect(latest).to_contain_text("curator")
    expect(latest).to_contain_text("Sponsorship — changed")
    expect(latest).to_contain_text("Varies between local groups")
    expect(latest).to_contain_text("Some groups practise it more than others.")
    assert TraitValue.objects.get(group__slug="na", trait__key="sponsorship").value == "varies"
