from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.roles import Role
from catalog.reference import load_catalog
from referrals.filters import months_back
from referrals.models import Referral
from tests.factories import PASSWORD, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_filters_the_dashboard_drills_down_and_downloads_a_csv(page, settings):
    from django.utils import timezone

    load_catalog()
    organisation = OrganisationFactory(slug="fjord-clinic", name="Fjord Clinic")
    UserFactory(username="siri.supervisor", organisation=organisation, roles=[Role.SUPERVISOR])
    settings.DEBUG = True  # the demo command refuses otherwise
    call_command(
        "create_demo_referrals", referrals=120, organisation="fjord-clinic", stdout=io.StringIO()
    )
    since = months_back(timezone.localdate(), 12)
    ingrid = Referral.objects.filter(
        counsellor__username="fjord-clinic-ingrid", created_at__date__gte=since
    )
    expected = ingrid.count()
    assert expected

    page.goto("/")
    page.get_by_label("Username").fill("siri.supervisor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.get_by_role("heading", name="Referral patterns")).to_be_visible()
    expect(page.locator("#counsellors tbody tr")).to_have_count(4)

    page.get_by_label("Counsellor", exact=True).select_option(label="Ingrid")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#counsellors tbody tr")).to_have_count(1)
    expect(page.locator('[data-kpi="referrals"]')).to_have_text(str(expected))

    # The number drills down to the pseudonymous referrals behind it.
    page.locator('[data-kpi="referrals"] a').click()
    expect(page.get_by_text("Showing referrals where")).to_be_visible()
    expect(page.get_by_text(f"{expected} referrals")).to_be_visible()
    # Back to the dashboard by its own link, with the filters still applied.
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page.get_by_role("heading", name="Referral patterns")).to_be_visible()
    ingrid_pk = ingrid.values_list("counsellor_id", flat=True).first()
    expect(page.get_by_label("Counsellor", exact=True)).to_have_value(str(ingrid_pk))

    with page.expect_download() as download:
        page.locator("#counsellors-heading + a", has_text="CSV").click()
    lines = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    # What the file counts comes first, the counsellor filter among it.
    about = lines[: lines.index([])]
    assert ["# Counsellor: Ingrid"] in about
    rows = lines[len(about) + 1 :]
    assert rows[0][0] == "Counsellor"
    assert [row[0] for row in rows[1:]] == ["Ingrid"]
    assert rows[1][1] == str(expected)
