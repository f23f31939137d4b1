from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.models import Meeting, TraitValue
from catalog.reference import load_catalog
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, GroupFactory, UserFactory

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


def test_admin_adds_a_feed_and_uploads_its_file_after_a_preview(page):
    """A catalog admin adds a meeting feed by keyboard, uploads the real Ontario
    Meeting Guide file into it, reads the preview and applies it."""
    GroupFactory(slug="aa", name="Alcoholics Anonymous")
    UserFactory(username="curator", roles=[Role.CATALOG_ADMIN])
    log_in(page, "curator")
    page.get_by_role("navigation").get_by_role("link", name="Import and export").click()
    page.get_by_role("link", name="Meeting feeds").click()
    expect(page.get_by_role("heading", name="Meeting feeds")).to_be_visible()
    page.get_by_role("link", name="Add a feed").click()

    # Keyboard only, from the key field to Save.
    page.get_by_label("Key").focus()
    page.keyboard.type("aa-quinte")
    page.keyboard.press("Tab")
    page.keyboard.type("AA Quinte and Kingston")
    page.get_by_label("Format").select_option(label="Meeting Guide JSON")
    page.get_by_label("Group").select_option(label="Alcoholics Anonymous")
    page.get_by_label("Time zone").fill("America/Toronto")
    page.get_by_label("Time zone").press("Enter")
    expect(page.get_by_text("Saved the feed AA Quinte and Kingston.")).to_be_visible()

    page.get_by_role("link", name="Upload a file into AA Quinte and Kingston").click()
    data = Path(__file__).parents[1] / "catalog" / "data" / "meeting-guide-ontario-2017.json"
    page.get_by_label("File").set_input_files(str(data))
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.get_by_text("Nothing has been written yet.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Meeting 45 0 0 0"))).to_be_visible()
    assert not Meeting.objects.exists()

    page.get_by_role("button", name="Apply these changes").click()
    expect(
        page.get_by_text(re.compile(r"Imported .+ into AA Quinte and Kingston: 45 created"))
    ).to_be_visible()
    row = page.get_by_role("row", name=re.compile("AA Quinte and Kingston"))
    expect(row).to_contain_text("45")
    assert Meeting.objects.filter(retired_at__isnull=True).count() == 45
