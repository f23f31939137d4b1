"""A counsellor sees real-looking meetings under the menu's options and prints them on
the handout. The meetings here are made up for the test, in the test database only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.models import Group, Meeting, MeetingSlot
from catalog.reference import load_catalog
from studies.reference import load_studies
from tests.browser.conftest import log_in
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _meeting(group: Group, name: str, **fields) -> Meeting:
    meeting = Meeting.objects.create(group=group, name=name, **fields)
    MeetingSlot.objects.create(
        meeting=meeting, weekday=3, starts=dt.time(18, 30), timezone="Europe/Oslo"
    )
    return meeting


def test_counsellor_sees_meetings_near_the_patient_and_prints_them_on_the_handout(page):
    load_catalog()
    load_studies()
    call_command("load_places", "--countries", "NO", verbosity=0)
    clinic = OrganisationFactory(name="Drammen Clinic", slug="drammen", country="NO")
    UserFactory(username="kari.counsellor", organisation=clinic, roles=[Role.COUNSELLOR])
    na = Group.objects.get(slug="na")
    _meeting(
        na,
        "Tuesday Hope Group",
        location="Community house",
        address="Bragernes torg 1",
        municipality="Drammen",
        latitude=59.7441,
        longitude=10.2050,
        languages="nb",
        openness="open",
    )
    _meeting(
        na,
        "Online Just for Today",
        attendance="online",
        online_url="https://meet.example.org/jft",
        languages="nb",
    )

    log_in(page, "kari.counsellor")
    page.get_by_role("link", name="New referral").first.click()
    menu = page.locator("#menu")
    page.get_by_label("Opioids").check()
    place = page.get_by_label("Travels from")
    place.fill("Drammen")
    place.press("Tab")  # leaving the field re-ranks, by keyboard

    option = menu.locator('li.option[data-group="na"]')
    meetings = option.locator("li.meeting")
    expect(meetings.first).to_contain_text("Tuesday Hope Group")
    expect(meetings.first).to_contain_text("Thursday")
    expect(meetings.first).to_contain_text("18:30")
    expect(meetings.first).to_contain_text(re.compile(r"0\.\d km away"))
    expect(meetings.nth(1)).to_contain_text("https://meet.example.org/jft")

    page.get_by_role("textbox", name="Reference").fill("P-0109")
    page.get_by_role("button", name="Save referral").click()
    expect(page.get_by_text("Saved the referral P-0109.")).to_be_visible()
    page.locator('input[name=group][value="na"]').check()
    page.get_by_role("button", name="Record the choice").click()
    page.get_by_role("link", name="Handout").click()

    chosen = page.locator("section[aria-labelledby=chosen-heading]")
    expect(chosen.locator(".handout-meeting").first).to_contain_text("Bragernes torg 1")
    expect(chosen.locator(".handout-meeting .qr svg").first).to_be_visible()
    calendar = chosen.get_by_role("link", name="Add to calendar (.ics)")
    with page.expect_download() as download:
        calendar.click()
    assert download.value.suggested_filename.endswith(".ics")

    # Printed: the meetings and their QR codes stay; the calendar link does not.
    page.emulate_media(media="print")
    expect(chosen.locator(".handout-meeting").first).to_be_visible()
    expect(calendar).to_be_hidden()
    assert page.pdf(format="A4")[:4] == b"%PDF"
