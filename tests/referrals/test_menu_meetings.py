"""Meetings on the menu and the handout: nearest first, next start in the meeting's
own time zone, online ones for online or either, examples and other organisations'
meetings where they belong."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from catalog.models import Group, Meeting, MeetingSlot
from referrals.models import Referral
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

BELLEVILLE = {"latitude": 44.1628, "longitude": -77.3832}
TORONTO = "America/Toronto"


def meeting(group, name, *, lat=None, lon=None, weekday=1, at="19:30", tz=TORONTO, **extra):
    attendance = extra.pop("attendance", "in_person")
    found = Meeting.objects.create(
        group=group,
        name=name,
        attendance=attendance,
        latitude=lat,
        longitude=lon,
        address=extra.pop("address", "1 Front St" if lat is not None else ""),
        municipality=extra.pop("municipality", "Belleville" if lat is not None else ""),
        **extra,
    )
    MeetingSlot.objects.create(
        meeting=found, weekday=weekday, starts=dt.time.fromisoformat(at), timezone=tz
    )
    return found


def match(client, **profile):
    body = {"reference": "P-0042", "substances": ["alcohol"], **profile}
    response = client.post("/api/v1/match", json.dumps(body), content_type="application/json")
    return response


def first_option(client) -> Group:
    menu = match(client).json()
    return Group.objects.get(slug=menu["options"][0]["group"])


def meetings_of(menu, slug):
    return next(o["meetings"] for o in menu["options"] if o["group"] == slug)


def test_the_menu_names_nearby_meetings_nearest_first_within_the_radius(
    counsellor_client, reference_data, other_organisation
):
    group = first_option(counsellor_client)
    # About 0.9 km, 8 km and 40 km from the centre of Belleville.
    near = meeting(group, "Front Street Group", lat=44.1700, lon=-77.3800)
    farther = meeting(group, "Trenton Road Group", lat=44.1300, lon=-77.4700, weekday=3)
    meeting(group, "Picton Group", lat=44.0, lon=-77.1400)
    meeting(group, "Retired Group", lat=44.1630, lon=-77.3830, retired_at=dt.datetime.now(dt.UTC))
    meeting(
        group,
        "Example elsewhere",
        lat=44.1629,
        lon=-77.3831,
        organisation=other_organisation,
        is_example=True,
    )

    listed = meetings_of(
        match(counsellor_client, near=BELLEVILLE, attendance="in_person").json(), group.slug
    )

    assert [m["name"] for m in listed] == ["Front Street Group", "Trenton Road Group"]
    assert listed[0]["id"] == str(near.pk) and listed[1]["id"] == str(farther.pk)
    assert listed[0]["distance_km"] == pytest.approx(0.9, abs=0.2)
    assert listed[1]["distance_km"] == pytest.approx(8.0, abs=1.0)
    assert listed[0]["attendance"] == "in_person" and listed[0]["online_url"] == ""
    assert listed[0]["address"] == "1 Front St, Belleville"
    starts = dt.datetime.fromisoformat(listed[0]["starts"])
    # A Tuesday at 19:30 on Toronto's clock, in December at UTC-5.
    assert (starts.weekday(), starts.strftime("%H:%M")) == (1, "19:30")
    assert starts.utcoffset() in (dt.timedelta(hours=-5), dt.timedelta(hours=-4))
    assert starts > dt.datetime.now(dt.UTC)
    assert listed[0]["timezone"] == TORONTO

    wider = match(counsellor_client, near=BELLEVILLE, attendance="in_person", radius_km=50).json()
    assert [m["name"] for m in meetings_of(wider, group.slug)] == [
        "Front Street Group",
        "Trenton Road Group",
        "Picton Group",
    ]


def test_online_meetings_come_for_online_or_either_attendance_and_never_for_in_person(
    counsellor_client, reference_data
):
    group = first_option(counsellor_client)
    meeting(group, "Nearby", lat=44.1700, lon=-77.3800)
    meeting(
        group,
        "Online Daily",
        attendance="online",
        online_url="https://meet.example.org/daily",
        tz="Europe/Oslo",
    )

    either = meetings_of(match(counsellor_client, near=BELLEVILLE).json(), group.slug)
    assert [(m["name"], m["distance_km"]) for m in either] == [
        ("Nearby", pytest.approx(0.9, abs=0.2)),
        ("Online Daily", None),
    ]
    assert either[1]["online_url"] == "https://meet.example.org/daily"
    assert dt.datetime.fromisoformat(either[1]["starts"]).strftime("%H:%M") == "19:30"

    online = meetings_of(match(counsellor_client, attendance="online").json(), group.slug)
    assert [m["name"] for m in online] == ["Online Daily"]
    in_person = meetings_of(
        match(counsellor_client, near=BELLEVILLE, attendance="in_person").json(), group.slug
    )
    assert [m["name"] for m in in_person] == ["Nearby"]
    # Without a place, nothing in person can be near.
    assert meetings_of(match(counsellor_client, attendance="in_person").json(), group.slug) == []


def test_online_meetings_in_a_language_the_patient_does_not_speak_are_left_out(
    counsellor_client, reference_data
):
    group = first_option(counsellor_client)
    url = "https://meet.example.org/"
    meeting(group, "Dutch", attendance="online", online_url=url + "nl", languages="nl")
    meeting(group, "Norwegian", attendance="online", online_url=url + "nb", languages="nb")
    meeting(group, "Unstated", attendance="online", online_url=url + "x")

    listed = meetings_of(
        match(counsellor_client, attendance="online", languages=["nb"]).json(), group.slug
    )

    # The patient's language first; a meeting stating no language after it.
    assert [m["name"] for m in listed] == ["Norwegian", "Unstated"]
    assert listed[0]["languages"] == ["nb"]


def test_an_organisations_own_examples_show_to_it_marked_as_examples(
    counsellor_client, counsellor, reference_data
):
    group = first_option(counsellor_client)
    meeting(
        group,
        "Example meeting",
        lat=44.1700,
        lon=-77.3800,
        organisation=counsellor.organisation,
        is_example=True,
    )
    listed = meetings_of(match(counsellor_client, near=BELLEVILLE).json(), group.slug)
    assert [(m["name"], m["example"]) for m in listed] == [("Example meeting", True)]


def test_near_and_place_together_are_refused_naming_place(counsellor_client, reference_data):
    response = match(counsellor_client, near=BELLEVILLE, place="Belleville")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "place"
    bad = match(counsellor_client, near={"latitude": 91, "longitude": 0}, radius_km=0)
    assert bad.status_code == 422
    fields = {item["field"] for item in bad.json()["detail"]}
    assert fields == {"near.latitude", "radius_km"}


def test_queries_per_match_do_not_grow_with_the_number_of_meetings(
    counsellor_client, reference_data, max_queries
):
    group = first_option(counsellor_client)
    meeting(group, "One", lat=44.1700, lon=-77.3800)
    with max_queries(20) as few:
        match(counsellor_client, near=BELLEVILLE)
    for index in range(40):
        meeting(group, f"Many {index}", lat=44.17 + index / 1000, lon=-77.38, weekday=index % 7)
        meeting(
            group, f"Online {index}", attendance="online", online_url=f"https://m.example/{index}"
        )
    with max_queries(few.number) as many:
        listed = meetings_of(match(counsellor_client, near=BELLEVILLE).json(), group.slug)
    assert many.number == few.number
    assert len(listed) == 6  # three nearby, three online


def test_the_handout_names_the_chosen_groups_and_an_alternatives_next_meetings(
    counsellor_client, counsellor, reference_data
):
    na, aa = Group.objects.get(slug="na"), Group.objects.get(slug="aa")
    referral: Referral = ReferralFactory.create(
        counsellor=counsellor,
        reference="P-0007",
        profile={"reference": "P-0007", "near": BELLEVILLE, "attendance": "either"},
        chosen_group="na",
    )
    first = meeting(na, "Basic Text Group", lat=44.1700, lon=-77.3800)
    meeting(aa, "Tweed Group", lat=44.4759, lon=-77.3114)  # 35 km: beyond 25 km
    meeting(aa, "Online Big Book", attendance="online", online_url="https://meet.example.org/bb")

    page = counsellor_client.get(f"/referrals/{referral.pk}/handout/").content.decode()

    assert "Basic Text Group" in page and "Online Big Book" in page
    assert "Tweed Group" not in page
    assert page.count("<svg") >= 2  # a QR code for the map link and for the online link
    assert "openstreetmap.org/?mlat=44.17000" in page
    calendar_url = f"/referrals/{referral.pk}/meetings/{first.pk}.ics"
    assert calendar_url in page

    response = counsellor_client.get(calendar_url)
    assert response["Content-Type"].startswith("text/calendar")
    event = next(c for c in Calendar.from_ical(response.content).walk("VEVENT"))
    starts = event.decoded("dtstart")
    assert (starts.weekday(), starts.strftime("%H:%M")) == (1, "19:30")
    assert str(starts.tzinfo) == TORONTO
    assert "Basic Text Group" in str(event["summary"])
    assert re.search(r"TZID=America/Toronto", response.content.decode())


def test_the_calendar_file_is_only_for_the_referrals_own_meetings(
    counsellor_client, outsider_client, counsellor, reference_data
):
    na = Group.objects.get(slug="na")
    referral: Referral = ReferralFactory.create(
        counsellor=counsellor,
        reference="P-0008",
        profile={"reference": "P-0008", "near": BELLEVILLE},
        chosen_group="na",
    )
    far = meeting(na, "Far away", lat=10.0, lon=10.0)
    assert (
        counsellor_client.get(f"/referrals/{referral.pk}/meetings/{far.pk}.ics").status_code == 404
    )
    near = meeting(na, "Near", lat=44.1700, lon=-77.3800)
    url = f"/referrals/{referral.pk}/meetings/{near.pk}.ics"
    assert counsellor_client.get(url).status_code == 200
    assert outsider_client.get(url).status_code == 404


def test_a_man_is_never_offered_a_meeting_for_women_only(counsellor_client, reference_data):
    group = first_option(counsellor_client)
    meeting(group, "Women's Step Group", lat=44.1700, lon=-77.3800, women_only=True)
    meeting(group, "Open Discussion", lat=44.1710, lon=-77.3810)

    def names(gender):
        menu = match(counsellor_client, near=BELLEVILLE, gender=gender).json()
        return [m["name"] for m in meetings_of(menu, group.slug)]

    assert names("male") == ["Open Discussion"]
    assert names("female") == ["Women's Step Group", "Open Discussion"]
    assert (
        "women"
        in meetings_of(
            match(counsellor_client, near=BELLEVILLE, gender="female").json(), group.slug
        )[0]["types"]
    )


def test_a_woman_who_prefers_women_only_meetings_sees_them_first(counsellor_client, reference_data):
    group = first_option(counsellor_client)
    # The mixed meeting is nearer; the women's meeting 3 km further.
    meeting(group, "Open Discussion", lat=44.1630, lon=-77.3830)
    meeting(group, "Women's Step Group", lat=44.1900, lon=-77.3830, women_only=True)
    # Online, the open meeting is tomorrow and the women's the day after.
    tomorrow = (dt.datetime.now(ZoneInfo(TORONTO)).weekday() + 1) % 7
    meeting(
        group,
        "Women Online",
        attendance="online",
        online_url="https://meet.example.org/w",
        women_only=True,
        weekday=(tomorrow + 1) % 7,
    )
    meeting(
        group,
        "Online Open",
        attendance="online",
        online_url="https://meet.example.org/o",
        weekday=tomorrow,
    )

    def names(**profile):
        menu = match(counsellor_client, near=BELLEVILLE, gender="female", **profile).json()
        return [m["name"] for m in meetings_of(menu, group.slug)]

    assert names(prefers_women_only=True) == [
        "Women's Step Group",
        "Open Discussion",
        "Women Online",
        "Online Open",
    ]
    # Without the preference: nearest first, then soonest online.
    assert names() == ["Open Discussion", "Women's Step Group", "Online Open", "Women Online"]
