"""The patient's handout: one A4 page in every language, the clinic to call, each
group's own site for the patient's country, and the same page as a PDF file."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from catalog.models import Group, Meeting, MeetingSlot
from referrals.matching import match
from referrals.models import Referral
from referrals.pdf import page_count
from referrals.profile import parse_profile
from referrals.services import record_choice, save_referral
from referrals.snapshot import current_snapshot

pytestmark = pytest.mark.django_db

DRAMMEN = {"latitude": 59.7441, "longitude": 10.2050}


def _meeting(group: Group, name: str, weekday: int, **place) -> None:
    found = Meeting.objects.create(group=group, name=name, languages="nb", **place)
    MeetingSlot.objects.create(
        meeting=found, weekday=weekday, starts=dt.time(18, 30), timezone="Europe/Oslo"
    )


@pytest.fixture
def typical(reference_data, counsellor, organisation):
    return typical_referral(counsellor, organisation)


def typical_referral(counsellor, organisation) -> Referral:
    """A woman in Drammen with trauma, drinking and smoking cannabis: a menu of every
    group that fits, the chosen one and the first alternative with meetings nearby."""
    organisation.telephone = "+47 00 00 00 00"
    organisation.contact_note = "Weekdays 08:00-15:30"
    organisation.save()
    profile = {
        "reference": "P-0042",
        "country": "NO",
        "gender": "female",
        "substances": ["alcohol", "cannabis"],
        "trauma_history": True,
        "psychiatric_comorbidity": True,
        "near": DRAMMEN,
        "attendance": "either",
    }
    menu = match(parse_profile(profile), current_snapshot())
    referral = save_referral(counsellor=counsellor, profile=profile, menu=menu, language="en")
    first, second = menu.options[0].group, menu.options[1].group
    for slug in (first, second):
        group = Group.objects.get(slug=slug)
        for number, weekday in enumerate((1, 3, 5)):
            _meeting(
                group,
                f"{group.name} Drammen {number}",
                weekday,
                address=f"Torget {number + 1}",
                municipality="Drammen",
                country="NO",
                latitude=DRAMMEN["latitude"] + number / 1000,
                longitude=DRAMMEN["longitude"],
            )
    return record_choice(referral=referral, group=first)


@pytest.mark.parametrize("language", ["en", "nb", "nl"])
def test_a_typical_handout_prints_on_one_a4_page(counsellor_client, typical, language):
    response = counsellor_client.get(f"/referrals/{typical.pk}/handout/?language={language}")
    html = response.content.decode()
    assert html.count('class="handout-meeting"') >= 4, "the meetings are on it"
    assert page_count(html) == 1


def test_the_handout_names_the_clinic_and_no_scores(counsellor_client, typical, max_queries):
    with max_queries(20):
        page = counsellor_client.get(f"/referrals/{typical.pk}/handout/").content.decode()
    assert "Questions? Call" in page and "+47 00 00 00 00" in page
    assert "Weekdays 08:00-15:30" in page and typical.organisation.name in page
    # A patient cannot use the matcher's arithmetic.
    assert "How it was weighed" not in page and "starting point" not in page


def test_each_group_links_its_own_site_for_the_patients_country(counsellor_client, typical):
    page = counsellor_client.get(f"/referrals/{typical.pk}/handout/").content.decode()
    # The shipped catalog knows the Norwegian sites of NA and SMART Recovery...
    assert 'href="https://nanorge.org/"' in page and 'href="https://na.org/"' not in page
    assert 'href="https://smartrecoverynorge.no/"' in page
    # ... and none of AA for Norway: its general site.
    assert 'href="https://aa.org/"' in page


def test_the_pdf_is_the_same_page_as_a_file(counsellor_client, typical, max_queries):
    with max_queries(20):
        response = counsellor_client.get(f"/referrals/{typical.pk}/handout.pdf?language=nb")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == (
        f'attachment; filename="handout-p-0042-{typical.created_at.date().isoformat()}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    assert (
        response.content.count(b"/Type /Page\n") + response.content.count(b"/Type /Page>") <= 1
        or pdf_pages(response.content) == 1
    )


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_the_pdf_is_only_for_those_who_may_see_the_referral(outsider_client, typical):
    assert outsider_client.get(f"/referrals/{typical.pk}/handout.pdf").status_code == 404
    assert Referral.objects.count() == 1
