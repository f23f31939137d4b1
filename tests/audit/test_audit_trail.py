from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AppendOnlyError, AuditEntry
from catalog.models import Group
from referrals.models import Referral
from referrals.services import record_choice
from tests.catalog.test_editing import _form_data
from tests.curation import pages
from tests.factories import PASSWORD, ReferralFactory, UserFactory
from tests.referrals.test_interfaces import FORM

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action


def _entries(**lookup) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**lookup).order_by("id"))


@pytest.fixture
def referral(counsellor):
    return record_choice(referral=ReferralFactory.create(counsellor=counsellor), group="na")


def test_saving_a_referral_records_who_when_what_and_from_where(
    counsellor, counsellor_client, reference_data
):
    response = counsellor_client.post(
        "/referrals/new/", {**FORM, "save": "1"}, REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    [entry] = _entries(action=Action.CREATE, area="referrals")
    assert entry.user == counsellor
    assert entry.username == "counsellor"
    assert entry.organisation_id == counsellor.organisation_id
    assert (entry.object_type, entry.object_id) == ("referral", str(referral.pk))
    assert entry.reference == "P-0042"
    assert entry.ip_address == "10.1.2.3"
    assert entry.path == "/referrals/new/"
    assert entry.at is not None


def test_each_view_of_a_referral_is_recorded(counsellor_client, referral, supervisor_client):
    counsellor_client.get(f"/referrals/{referral.pk}/")
    counsellor_client.get(f"/referrals/{referral.pk}/handout/?language=nb")
    supervisor_client.get(f"/referrals/{referral.pk}/")
    views = _entries(action=Action.VIEW, object_type="referral")
    assert [(e.username, e.summary) for e in views] == [
        ("counsellor", ""),
        ("counsellor", "handout (nb)"),
        ("supervisor", ""),
    ]
    assert {e.reference for e in views} == {referral.reference}


def test_a_refused_view_of_another_organisations_referral_records_nothing(
    outsider_client, referral
):
    assert outsider_client.get(f"/referrals/{referral.pk}/").status_code == 404
    assert not _entries(object_type="referral", action=Action.VIEW)


def test_the_choice_and_each_follow_up_are_recorded_as_changes(
    counsellor, counsellor_client, reference_data
):
    referral = ReferralFactory.create(counsellor=counsellor)
    counsellor_client.post(f"/referrals/{referral.pk}/choose/", {"group": "aa"})
    counsellor_client.post(
        f"/referrals/{referral.pk}/follow-up/first_meeting/",
        {"outcome": "not_attended", "contacted_on": timezone.localdate().isoformat()},
    )
    changes = _entries(action=Action.CHANGE, area="referrals")
    assert [e.summary for e in changes] == [
        "choice recorded",
        "follow-up recorded: first_meeting",
    ]
    assert all(e.user == counsellor and e.reference == referral.reference for e in changes)


def test_lists_dashboards_and_exports_are_recorded_with_their_filters(
    supervisor_client, supervisor, referral
):
    supervisor_client.get("/referrals/?q=P-00")
    supervisor_client.get("/referrals/dashboard/?period=3m")
    supervisor_client.get("/referrals/dashboard/chosen.csv?period=3m")
    entries = _entries(area="referrals", organisation=supervisor.organisation)
    assert [(e.action, e.summary) for e in entries if e.object_type != "referral"] == [
        (Action.VIEW, "referral list?q=P-00"),
        (Action.VIEW, "dashboard?period=3m"),
        (Action.EXPORT, "dashboard chosen.csv?period=3m"),
    ]


def test_a_catalog_edit_is_recorded_with_its_curator(
    admin_client_, catalog_admin, reference_catalog
):
    data = _form_data(admin_client_, "/catalog/groups/lifering/edit/")
    data["description"] = "A changed description."
    assert admin_client_.post("/catalog/groups/lifering/edit/", data).status_code == 302
    group = Group.objects.get(slug="lifering")
    [entry] = _entries(area="catalog", action=Action.CHANGE, object_type="group")
    assert entry.user == catalog_admin
    assert entry.object_id == str(group.pk)
    assert entry.organisation is None
    assert entry.path == "/catalog/groups/lifering/edit/"


def test_an_import_records_every_change_in_a_few_queries(
    admin_client_, catalog_admin, reference_catalog, django_assert_max_num_queries
):
    document = json.loads(admin_client_.get("/catalog/export.json").content)
    for group in document["groups"]:
        group["description"] += " Checked again."
    data = json.dumps(document).encode()
    assert (
        pages.import_file(admin_client_, "/catalog/import/", "catalog.json", data).status_code
        == 302
    )
    changed = _entries(area="catalog", action=Action.CHANGE, object_type="group")
    assert len(changed) == len(document["groups"])
    assert all(e.user == catalog_admin and "Imported from a file" in e.summary for e in changed)


def test_loading_the_reference_data_records_what_it_created(reference_data):
    created = AuditEntry.objects.filter(action=Action.CREATE)
    assert created.filter(area="catalog", object_type="group").count() == Group.objects.count()
    assert created.filter(area="studies", object_type="quote").exists()
    assert not created.exclude(user=None).exists(), "the system, not a person, loaded them"


def test_log_ins_failures_and_log_outs_are_recorded(client, counsellor):
    client.post("/accounts/login/", {"username": "counsellor", "password": "wrong"})
    client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    client.post("/accounts/login/", {"username": "counsellor", "password": PASSWORD})
    client.post("/accounts/logout/")
    entries = _entries(area="accounts")
    assert [(e.action, e.username) for e in entries] == [
        (Action.LOG_IN_FAILED, "counsellor"),
        (Action.LOG_IN_FAILED, "nobody"),
        (Action.LOG_IN, "counsellor"),
        (Action.LOG_OUT, "counsellor"),
    ]
    # A failed attempt on a real account is filed under its organisation, for review.
    assert entries[0].organisation_id == counsellor.organisation_id
    assert entries[1].organisation_id is None


def test_an_entry_cannot_be_changed_or_deleted_through_the_application(referral):
    entry = AuditEntry.objects.create(area="referrals", action=Action.VIEW, summary="seen")
    entry.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(summary="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).summary == "seen"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database's own guard is PostgreSQL's"
)
def test_postgresql_refuses_to_change_or_delete_an_entry_whatever_the_code_path():
    from django.db import DatabaseError, transaction

    entry = AuditEntry.objects.create(area="referrals", action=Action.VIEW, summary="seen")
    for statement in (
        "UPDATE audit_auditentry SET summary = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="can only be appended"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).summary == "seen"


# The access log pages


def test_a_supervisor_reviews_their_organisations_log_only(
    supervisor_client, referral, outsider, max_queries
):
    other = ReferralFactory.create(counsellor=outsider, reference="P-9999")
    from audit import log

    log.referral_event(Action.VIEW, other, user=outsider)
    log.referral_event(Action.VIEW, referral)
    with max_queries(12):
        page = supervisor_client.get("/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert referral.reference in text
    assert "P-9999" not in text


def test_the_log_page_costs_the_same_queries_with_many_entries(
    supervisor_client, referral, max_queries
):
    from audit import log

    log.referral_event(Action.VIEW, referral)
    with max_queries(12) as few:
        supervisor_client.get("/audit/")
    for _ in range(60):
        log.referral_event(Action.VIEW, referral)
    with max_queries(few.number):
        supervisor_client.get("/audit/")


def test_a_catalog_admin_reviews_the_catalogs_log_and_no_referrals(
    admin_client_, referral, reference_catalog
):
    from audit import log

    log.referral_event(Action.VIEW, referral)
    page = admin_client_.get("/audit/?area=catalog").content.decode()
    assert "LifeRing" in page
    assert referral.reference not in admin_client_.get("/audit/").content.decode()


def test_counsellors_cannot_read_the_log(counsellor_client):
    assert counsellor_client.get("/audit/").status_code == 403
    assert counsellor_client.get("/audit/export.csv").status_code == 403


def test_the_log_filters_by_reference_action_and_user(
    supervisor_client, supervisor, counsellor, referral
):
    from audit import log

    second = ReferralFactory.create(counsellor=counsellor, reference="P-7777")
    log.referral_event(Action.VIEW, second, user=counsellor)
    log.referral_event(Action.EXPORT, referral, user=supervisor)
    page = supervisor_client.get("/audit/?reference=P-7777").content.decode()
    assert "P-7777" in page and f">{referral.reference}<" not in page
    page = supervisor_client.get("/audit/?action=export").content.decode()
    assert referral.reference in page and "P-7777" not in page
    page = supervisor_client.get(f"/audit/?user={counsellor.pk}&action=view").content.decode()
    assert "P-7777" in page


def test_a_user_of_another_organisation_is_not_a_filter_choice(supervisor_client, outsider):
    page = supervisor_client.get(f"/audit/?user={outsider.pk}")
    assert "Select a valid choice" in page.content.decode()


def test_the_log_downloads_as_csv_with_the_same_filters(supervisor_client, referral, supervisor):
    from audit import log

    log.referral_event(Action.VIEW, referral, user=supervisor, summary='=HYPERLINK("x")')
    response = supervisor_client.get("/audit/export.csv?action=view")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["When (UTC)", "User", "Organisation", "Area", "Action"]
    [row] = [r for r in rows[1:] if r[7] == referral.reference]
    assert row[1] == "supervisor" and row[4] == "view"
    assert row[8] == '\'=HYPERLINK("x")', "a formula is not left for a spreadsheet to run"
    # Downloading the log is itself recorded.
    assert AuditEntry.objects.filter(action=Action.EXPORT, object_type="audit log").exists()


def test_failed_log_ins_on_a_colleague_show_in_the_supervisors_log(
    client, supervisor_client, counsellor
):
    client.post("/accounts/login/", {"username": "counsellor", "password": "wrong"})
    page = supervisor_client.get("/audit/?action=log_in_failed").content.decode()
    assert "Failed log-in" in page and "counsellor" in page


def test_nobody_else_sees_an_outsiders_log_ins(client, supervisor_client, outsider):
    UserFactory(username="x-user", organisation=outsider.organisation)
    client.post("/accounts/login/", {"username": "outsider", "password": "wrong"})
    page = supervisor_client.get("/audit/?action=log_in_failed").content.decode()
    assert "outsider" not in page


def test_a_quote_edit_is_recorded_in_the_studies_log(admin_client_, catalog_admin, reference_data):
    from studies.models import Quote
    from tests.studies.test_curation import _quote_data

    quote = Quote.objects.filter(study__key="vederhus-2020").first()
    data = _quote_data(quote)
    data["locator"] = "p. 5, changed"
    response = admin_client_.post(f"/studies/vederhus-2020/quotes/{quote.key}/edit/", data)
    assert response.status_code == 302
    entries = _entries(area="studies", action=Action.CHANGE, user=catalog_admin)
    assert entries, "the change is recorded"
    assert {(e.object_type, e.object_id) for e in entries} == {("quote", str(quote.pk))}
    page = admin_client_.get("/audit/?area=studies&action=change").content.decode()
    assert "Changed" in page and "quote" in page


def test_no_column_of_the_csv_is_left_for_a_spreadsheet_to_run(supervisor_client, counsellor):
    formula = ReferralFactory.create(counsellor=counsellor, reference="=HYPERLINK(1)")
    from audit import log

    log.referral_event(Action.VIEW, formula, user=counsellor)
    rows = list(
        csv.reader(
            io.StringIO(supervisor_client.get("/audit/export.csv").content.decode("utf-8-sig"))
        )
    )
    assert not [value for row in rows[1:] for value in row if value[:1] in ("=", "+", "-", "@")]
    assert any(row[7] == "'=HYPERLINK(1)" for row in rows[1:])


@pytest.mark.parametrize(
    ("forwarded", "remote", "recorded"),
    [
        ("203.0.113.9", "10.0.0.1", "203.0.113.9"),
        ("unknown", "10.0.0.1", None),
        ("198.51.100.7:5678", "10.0.0.1", None),
    ],
)
def test_the_client_address_is_the_proxys_report_or_nothing(
    settings, rf, forwarded, remote, recorded
):
    from audit.context import client_ip

    settings.TRUSTED_PROXIES = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == recorded


def test_the_log_page_shows_as_many_entries_as_it_counts(supervisor_client, referral):
    from audit import log

    log.referral_event(Action.VIEW, referral)
    lower = referral.reference.lower()
    page = supervisor_client.get(f"/audit/?reference={lower}&since=")
    assert page.context["page"].paginator.count == len(page.context["page"].object_list)
    assert referral.reference in page.content.decode(), "found whatever the case"
    # Reading the log is recorded with the filters used, not the empty ones.
    entry = AuditEntry.objects.filter(object_type="audit log").latest("id")
    assert entry.summary == f"reference={lower}"


def test_the_log_says_what_happened_in_words_not_codes(
    supervisor_client, supervisor, counsellor, counsellor_client, reference_data, max_queries
):
    referral = ReferralFactory.create(
        counsellor=counsellor, created_at=timezone.now() - dt.timedelta(days=20)
    )
    counsellor_client.post(f"/referrals/{referral.pk}/choose/", {"group": "aa"})
    counsellor_client.post(
        f"/referrals/{referral.pk}/follow-up/first_meeting/",
        {"outcome": "not_attended"},
    )
    counsellor_client.get(f"/referrals/{referral.pk}/")
    supervisor_client.get(f"/referrals/dashboard/?period=3m&counsellor={counsellor.pk}")
    supervisor_client.get("/referrals/?outcome=disengaged&reason=conformity-pressure")
    with max_queries(12):
        page = supervisor_client.get("/audit/").content.decode()
    assert "Recorded the patient&#x27;s choice" in page
    assert "Recorded a follow-up: First meeting" in page
    assert f"Dashboard (Period: Last 3 months; Counsellor: {counsellor.username})" in page
    assert (
        "Referral list (Outcome: Disengaged; Reason for disengaging: Conformity pressure)" in page
    )
    assert "Access log" in page
    assert "The referral" in page  # opened, with nothing more to say
    for internal in (
        "first_meeting",
        "period=3m",
        "follow-up recorded",
        "outcome=disengaged",
        '<td class="text-break">referral</td>',
        '<td class="text-break">user</td>',
    ):
        assert internal not in page
