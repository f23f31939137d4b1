"""Curating meetings: add with weekly times, edit, retire and reinstate, history with
undo; read by every catalog reader, changed only by catalog admins; an organisation's
own meetings seen only by it."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.history import meeting_history
from catalog.models import Group, Meeting, MeetingSlot
from catalog.nearby import Search, in_person

pytestmark = pytest.mark.django_db

FORM = {
    "group": "",
    "name": "Tuesday Hope Group",
    "attendance": "in_person",
    "location": "Community house",
    "address": "Bragernes torg 1",
    "municipality": "Drammen",
    "postcode": "3017",
    "country": "NO",
    "latitude": "59.7441",
    "longitude": "10.2050",
    "languages": ["nb"],
    "openness": "open",
    "slot-TOTAL_FORMS": "2",
    "slot-INITIAL_FORMS": "0",
    "slot-MIN_NUM_FORMS": "0",
    "slot-MAX_NUM_FORMS": "1000",
    "slot-0-weekday": "1",
    "slot-0-starts": "19:30",
    "slot-0-ends": "21:00",
    "slot-0-timezone": "Europe/Oslo",
    "slot-1-weekday": "4",
    "slot-1-starts": "18:00",
    "slot-1-timezone": "Europe/Oslo",
}


def _form(**changes):
    return {**FORM, "group": Group.objects.get(slug="na").pk, **changes}


def test_an_admin_adds_a_meeting_with_two_weekly_times_and_sees_it(
    admin_client_, reference_catalog
):
    response = admin_client_.post("/catalog/meetings/new/", _form())
    meeting = Meeting.objects.get(name="Tuesday Hope Group")
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    assert sorted(meeting.slots.values_list("weekday", "starts")) == [
        (1, dt.time(19, 30)),
        (4, dt.time(18, 0)),
    ]
    page = admin_client_.get(meeting.get_absolute_url()).content.decode()
    assert "Bragernes torg 1" in page and "Tuesday 19:30\u201321:00 (Europe/Oslo)" in page
    assert "Norwegian Bokmål" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"longitude": ""}, "latitude", "Give both latitude and longitude, or neither."),
        (
            {"address": "", "municipality": "", "latitude": "", "longitude": ""},
            "address",
            "needs an address, a town or coordinates",
        ),
        ({"attendance": "online"}, "online_url", "needs a link or a telephone number"),
        ({"slot-0-timezone": "Mars/Olympus"}, "slot-0-timezone", "is not a time zone"),
    ],
)
def test_each_rule_is_explained_on_its_field(
    admin_client_, reference_catalog, changes, field, message
):
    response = admin_client_.post("/catalog/meetings/new/", _form(**changes))
    assert response.status_code == 200
    assert not Meeting.objects.exists()
    page = response.content.decode()
    assert message in page
    assert f'id="error_1_id_{field}"' in page or f'id="id_{field}"' in page


def test_a_meeting_needs_a_weekly_time(admin_client_, reference_catalog):
    data = _form(
        **{
            "slot-0-weekday": "",
            "slot-0-starts": "",
            "slot-0-ends": "",
            "slot-1-weekday": "",
            "slot-1-starts": "",
        }
    )
    # The weekly times left as the page offers them: a zone, no day, no time.
    data["slot-0-timezone"] = data["slot-1-timezone"] = "Europe/Oslo"
    response = admin_client_.post("/catalog/meetings/new/", data)
    assert "Give at least one weekly time." in response.content.decode()
    assert not Meeting.objects.exists()


def test_retired_meetings_leave_the_search_and_come_back_when_reinstated(
    admin_client_, reference_catalog
):
    admin_client_.post("/catalog/meetings/new/", _form())
    meeting = Meeting.objects.get()
    search = Search(near=(59.7439, 10.2045))
    now = dt.datetime.now(dt.UTC)
    assert [m.id for m in in_person(search, now)] == [meeting.pk]
    admin_client_.post(f"/catalog/meetings/{meeting.pk}/retire/")
    assert in_person(search, now) == []
    assert "Retired on" in admin_client_.get(meeting.get_absolute_url()).content.decode()
    admin_client_.post(f"/catalog/meetings/{meeting.pk}/retire/")
    assert [m.id for m in in_person(search, now)] == [meeting.pk]


def test_the_history_undoes_a_changed_start_time(admin_client_, reference_catalog):
    admin_client_.post("/catalog/meetings/new/", _form())
    meeting = Meeting.objects.get()
    slot = meeting.slots.get(weekday=1)
    slot.starts = dt.time(20, 0)
    slot.save()
    entry = next(
        e
        for e in meeting_history(meeting)
        if e.kind == "meetingslot" and e.record.history_type == "~"
    )
    page = admin_client_.get(f"/catalog/meetings/{meeting.pk}/history/").content.decode()
    assert "Weekly time: Tuesday 20:00" in page
    admin_client_.post(
        f"/catalog/meetings/{meeting.pk}/history/meetingslot/{entry.record.history_id}/undo/"
    )
    slot.refresh_from_db()
    assert slot.starts == dt.time(19, 30)


def test_counsellors_read_but_cannot_change(counsellor_client, reference_catalog):
    meeting = Meeting.objects.create(
        group=Group.objects.get(slug="na"), name="Read me", municipality="Drammen"
    )
    MeetingSlot.objects.create(
        meeting=meeting, weekday=0, starts=dt.time(18), timezone="Europe/Oslo"
    )
    assert counsellor_client.get(meeting.get_absolute_url()).status_code == 200
    assert counsellor_client.get(f"/catalog/meetings/{meeting.pk}/edit/").status_code == 403
    assert counsellor_client.get("/catalog/meetings/new/").status_code == 403
    assert counsellor_client.post(f"/catalog/meetings/{meeting.pk}/retire/").status_code == 403


def test_an_organisations_own_example_is_invisible_to_another(
    counsellor_client, outsider_client, counsellor, reference_catalog
):
    meeting = Meeting.objects.create(
        group=Group.objects.get(slug="na"),
        name="Example — NA Drammen",
        municipality="Drammen",
        organisation=counsellor.organisation,
        is_example=True,
    )
    page = counsellor_client.get(meeting.get_absolute_url()).content.decode()
    assert "Invented for demonstration; not a real meeting." in page
    assert outsider_client.get(meeting.get_absolute_url()).status_code == 404


def test_the_detail_page_costs_the_same_queries_with_many_weekly_times(
    counsellor_client, reference_catalog, max_queries
):
    meeting = Meeting.objects.create(
        group=Group.objects.get(slug="na"), name="Many", municipality="Drammen"
    )
    MeetingSlot.objects.create(
        meeting=meeting, weekday=0, starts=dt.time(18), timezone="Europe/Oslo"
    )
    with max_queries(20) as few:
        counsellor_client.get(meeting.get_absolute_url())
    for day in range(1, 7):
        MeetingSlot.objects.create(
            meeting=meeting, weekday=day, starts=dt.time(18), timezone="Europe/Oslo"
        )
    with max_queries(few.number):
        counsellor_client.get(meeting.get_absolute_url())


def test_the_demo_organisation_gets_example_meetings_once(reference_catalog):
    from django.core.management import call_command

    from tests.factories import OrganisationFactory

    OrganisationFactory(slug="demo-clinic", name="Demo Clinic")
    call_command("create_demo_meetings", verbosity=0)
    call_command("create_demo_meetings", verbosity=0)
    meetings = Meeting.objects.all()
    assert meetings.count() == 8
    assert all(m.is_example and m.organisation.slug == "demo-clinic" for m in meetings)
    assert all(m.name.startswith("Example — ") for m in meetings)
    assert MeetingSlot.objects.count() == 8
    # A demonstration can show a woman's women-only meetings first, in person and online.
    women_only = meetings.filter(women_only=True)
    assert {m.attendance for m in women_only} == {"in_person", "online"}
