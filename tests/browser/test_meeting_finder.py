"""A counsellor finds a meeting near a town, by keyboard, then narrows the search to
meetings online. The meetings and places are made up for the test."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.models import Meeting, MeetingSlot, Place, PlaceName
from tests.browser.conftest import log_in
from tests.factories import GroupFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _meeting(name: str, weekday: int, starts: str, zone: str, **fields) -> None:
    meeting = Meeting.objects.create(group=GroupFactory(slug="na"), name=name, **fields)
    MeetingSlot.objects.create(
        meeting=meeting, weekday=weekday, starts=dt.time.fromisoformat(starts), timezone=zone
    )


def test_counsellor_finds_a_meeting_near_a_town_and_then_online(page):
    drammen = Place.objects.create(
        reference="test:drammen", name="Drammen", country="NO", region="Buskerud",
        latitude=59.7439, longitude=10.2045, population=100_000,
    )  # fmt: skip
    PlaceName.objects.create(key="drammen", place=drammen)
    clinic = OrganisationFactory(name="Drammen Clinic", slug="drammen", country="NO")
    UserFactory(username="kari.counsellor", organisation=clinic, roles=[Role.COUNSELLOR])
    _meeting(
        "Bragernes Hope Group", 3, "18:30", "Europe/Oslo",
        address="Bragernes torg 1", municipality="Drammen", latitude=59.7441,
        longitude=10.2050, languages="nb", openness="open",
    )  # fmt: skip
    _meeting(
        "Toronto Online Daily", 1, "19:30", "America/Toronto",
        attendance="online", online_url="https://meet.example.org/daily", languages="en",
    )  # fmt: skip

    log_in(page, "kari.counsellor")
    page.get_by_role("navigation").get_by_role("link", name="Meetings", exact=True).click()
    expect(page.get_by_role("heading", name="Find a meeting")).to_be_visible()

    # Keyboard only: into the place field, a town, Enter.
    page.get_by_label("Town, municipality or postcode").focus()
    page.keyboard.type("Drammen")
    page.keyboard.press("Enter")

    status = page.get_by_role("status")
    expect(status).to_have_text("Found 1 meeting within 25 km of Drammen and 1 online meeting.")
    results = page.locator("#finder-results li.meeting")
    expect(results.first).to_contain_text("Bragernes Hope Group")
    expect(results.first).to_contain_text("Thu")
    expect(results.first).to_contain_text(re.compile(r"0\.\d km away"))
    expect(results.nth(1)).to_contain_text("Toronto time")
    expect(results.nth(1)).to_contain_text("in Oslo")
    expect(page).to_have_url(re.compile(r"place=Drammen"))

    page.get_by_label("Online", exact=True).check()

    expect(status).to_have_text("Found 1 online meeting.")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("https://meet.example.org/daily")
    expect(page.get_by_label("Town, municipality or postcode")).to_be_disabled()
    expect(page).to_have_url(re.compile(r"attendance=online"))
