"""Meeting feeds curated in the pages by catalog admins: the list, adding and editing a
feed, and uploading a file into it through the shared preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from catalog.models import Meeting, MeetingFeed, Source
from curation.models import PendingImport
from tests.curation import pages
from tests.factories import GroupFactory, MeetingFeedFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
ONTARIO = DATA / "meeting-guide-ontario-2017.json"


@pytest.fixture
def aa(db):
    return GroupFactory(slug="aa", name="Alcoholics Anonymous")


@pytest.fixture
def quinte(aa):
    return MeetingFeedFactory(
        key="aa-quinte",
        name="AA Quinte and Kingston",
        url="",
        group=aa,
        timezone="America/Toronto",
    )


def test_a_catalog_admin_adds_a_feed_with_its_own_source(admin_client_, aa):
    response = admin_client_.post(
        "/catalog/feeds/new/",
        {
            "key": "aa-quinte",
            "name": "AA Quinte and Kingston",
            "format": "meeting-guide",
            "url": "aaquinte.org/wp-admin/admin-ajax.php?action=meetings",
            "group": aa.pk,
            "timezone": "America/Toronto",
            "active": "on",
        },
    )
    assert response.status_code == 302
    feed = MeetingFeed.objects.get(key="aa-quinte")
    # A URL typed without a scheme is taken as https; the feed cites its own source.
    assert feed.url == "https://aaquinte.org/wp-admin/admin-ajax.php?action=meetings"
    assert feed.source.title == "AA Quinte and Kingston (meeting feed)"
    assert feed.source.url == feed.url
    page = admin_client_.get("/catalog/feeds/").content.decode()
    assert "AA Quinte and Kingston" in page and "never" in page


def test_a_feed_other_than_csv_must_name_its_fellowship(admin_client_):
    response = admin_client_.post(
        "/catalog/feeds/new/",
        {"key": "na-x", "name": "NA", "format": "bmlt", "url": "", "timezone": ""},
    )
    assert response.status_code == 200
    assert "Choose the group whose meetings the feed lists" in response.content.decode()
    assert response.context["form"].errors["group"]
    assert not MeetingFeed.objects.exists() and not Source.objects.exists()


def test_editing_a_feed_keeps_its_key_and_its_source_in_step(admin_client_, quinte):
    response = admin_client_.post(
        f"/catalog/feeds/{quinte.key}/edit/",
        {
            "key": "renamed",
            "name": "AA Quinte",
            "format": "meeting-guide",
            "url": "https://aaquinte.org/meetings.json",
            "group": quinte.group.pk,
            "timezone": "America/Toronto",
        },
    )
    assert response.status_code == 302
    quinte.refresh_from_db()
    assert quinte.key == "aa-quinte"  # fixed: commands and addresses name it
    assert (quinte.name, quinte.active) == ("AA Quinte", False)
    assert quinte.source.title == "AA Quinte (meeting feed)"
    assert quinte.source.url == "https://aaquinte.org/meetings.json"


def test_a_file_uploaded_into_a_feed_is_previewed_then_applied(admin_client_, quinte):
    upload = pages.upload(
        admin_client_, "/catalog/feeds/aa-quinte/import/", "ontario.json", ONTARIO.read_bytes()
    )
    preview = pages.preview_path(upload)
    pending = PendingImport.objects.get()
    assert preview == f"/catalog/feeds/aa-quinte/import/{pending.pk}/"
    assert (pending.kind, pending.target) == ("meetings", "aa-quinte")
    page = admin_client_.get(preview)
    assert "Nothing has been written yet." in page.content.decode()
    counts = {s.kind: s.created for s in page.context["sections"]}
    assert counts["meeting"] == 45
    assert not Meeting.objects.exists()

    before = timezone.now()
    response = pages.apply(admin_client_, preview)
    assert response.status_code == 302 and response["Location"] == "/catalog/feeds/"
    assert Meeting.objects.filter(feed=quinte, retired_at__isnull=True).count() == 45
    assert Meeting.history.filter(history_type="+").count() == 45
    quinte.refresh_from_db()
    assert quinte.refreshed_at is not None and quinte.refreshed_at >= before
    assert quinte.last_report.startswith("45 created")
    listing = admin_client_.get("/catalog/feeds/").content.decode()
    assert "Imported ontario.json into AA Quinte and Kingston: 45 created" in listing
    # The upload is applied once only.
    again = admin_client_.post(preview, {"digest": page.context["plan"].digest})
    assert again["Location"] == "/catalog/feeds/aa-quinte/import/"
    assert Meeting.objects.count() == 45


def test_a_file_that_cannot_be_read_is_refused_with_its_problem(admin_client_, quinte):
    response = pages.upload(
        admin_client_, "/catalog/feeds/aa-quinte/import/", "feed.json", b'{"not": "a list"'
    )
    assert response.status_code == 200
    assert "feed.json" in response.content.decode()
    assert response.context["errors"]
    assert not PendingImport.objects.exists() and not Meeting.objects.exists()


def test_an_upload_is_previewed_only_for_the_feed_it_was_uploaded_into(admin_client_, quinte, aa):
    other = MeetingFeedFactory(key="other", group=aa, url="")
    preview = pages.preview_path(
        pages.upload(
            admin_client_, "/catalog/feeds/aa-quinte/import/", "o.json", ONTARIO.read_bytes()
        )
    )
    elsewhere = preview.replace("/aa-quinte/", f"/{other.key}/")
    assert admin_client_.get(elsewhere).status_code == 404


def test_counsellors_cannot_see_or_change_feeds(counsellor_client, quinte):
    for path in ("/catalog/feeds/", "/catalog/feeds/new/", "/catalog/feeds/aa-quinte/import/"):
        assert counsellor_client.get(path).status_code == 403


def test_the_feed_list_costs_the_same_queries_for_many_feeds(admin_client_, aa, max_queries):
    for number in range(3):
        MeetingFeedFactory(key=f"feed-{number}", group=aa)
    with max_queries(12) as few:
        admin_client_.get("/catalog/feeds/")
    for number in range(3, 30):
        MeetingFeedFactory(key=f"feed-{number}", group=aa)
    with max_queries(12) as many:
        response = admin_client_.get("/catalog/feeds/")
    assert many.number == few.number
    assert response.content.decode().count("Upload a file") == 30
