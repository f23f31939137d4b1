"""Retention with anonymisation, and a data subject's export and erasure."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from referrals.models import FollowUp, Referral
from referrals.services import anonymise_expired, record_choice, record_follow_up
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)


def _closed(counsellor, *, closed_on: dt.date, reference: str) -> Referral:
    referral = record_choice(
        referral=ReferralFactory.create(
            counsellor=counsellor,
            reference=reference,
            profile={"reference": reference, "psychiatric_comorbidity": True},
        ),
        group="na",
    )
    record_follow_up(
        referral=referral,
        recorded_by=counsellor,
        checkpoint="first_meeting",
        outcome="not_attended",
        contacted_on=timezone.localdate(),
    )
    Referral.objects.filter(pk=referral.pk).update(closed_on=closed_on)
    return Referral.objects.get(pk=referral.pk)


@pytest.fixture
def retention(settings):
    settings.REFERRAL_RETENTION_DAYS = 730
    return dt.timedelta(days=730)


def test_closed_referrals_past_retention_are_anonymised(counsellor, retention):
    old = _closed(
        counsellor, closed_on=TODAY - retention - dt.timedelta(days=1), reference="P-0001"
    )
    recent = _closed(counsellor, closed_on=TODAY - retention, reference="P-0002")
    open_ = record_choice(
        referral=ReferralFactory.create(counsellor=counsellor, reference="P-0003"), group="aa"
    )
    assert anonymise_expired(today=TODAY) == 1
    old.refresh_from_db()
    assert old.reference == ""
    assert old.profile == {}
    assert old.anonymised_on == TODAY
    assert all(
        set(option) <= {"group", "name", "kind", "rank", "score"} for option in old.menu["options"]
    )
    assert [o["group"] for o in old.menu["options"]], "which groups were offered stays"
    # What the dashboard counts stays.
    assert (old.chosen_group, old.attended, old.closed_on) == ("na", False, old.closed_on)
    assert FollowUp.objects.filter(referral=old).exists()
    for kept in (recent, open_):
        kept.refresh_from_db()
        assert kept.reference and kept.anonymised_on is None


def test_a_referral_never_acted_on_is_anonymised_after_retention_from_saving(counsellor, retention):
    stale = ReferralFactory.create(
        counsellor=counsellor,
        reference="P-0004",
        created_at=timezone.now() - retention - dt.timedelta(days=2),
    )
    fresh = ReferralFactory.create(counsellor=counsellor, reference="P-0005")
    assert anonymise_expired(today=timezone.localdate()) == 1
    assert Referral.objects.get(pk=stale.pk).reference == ""
    assert Referral.objects.get(pk=fresh.pk).reference == "P-0005"


def test_anonymising_is_idempotent_and_recorded_without_the_reference(counsellor, retention):
    old = _closed(
        counsellor, closed_on=TODAY - retention - dt.timedelta(days=9), reference="P-0006"
    )
    assert anonymise_expired(today=TODAY) == 1
    snapshot = Referral.objects.values().get(pk=old.pk)
    assert anonymise_expired(today=TODAY) == 0
    assert anonymise_expired(today=TODAY + dt.timedelta(days=1)) == 0
    assert Referral.objects.values().get(pk=old.pk) == snapshot
    [entry] = AuditEntry.objects.filter(action="anonymise")
    assert (entry.object_id, entry.reference, entry.user) == (str(old.pk), "", None)


def test_the_command_anonymises_and_can_count_first(counsellor, retention, capsys):
    _closed(
        counsellor,
        closed_on=timezone.localdate() - retention - dt.timedelta(days=1),
        reference="P-0007",
    )
    call_command("anonymise_referrals", "--dry-run")
    assert "1 referral(s) past 730 days" in capsys.readouterr().out
    assert Referral.objects.filter(anonymised_on__isnull=True).count() == 1
    call_command("anonymise_referrals")
    assert "Anonymised 1 referral(s)" in capsys.readouterr().out
    call_command("anonymise_referrals")
    assert "Anonymised 0 referral(s)" in capsys.readouterr().out


def test_an_anonymised_referral_page_still_opens(counsellor, counsellor_client, retention):
    old = _closed(
        counsellor, closed_on=TODAY - retention - dt.timedelta(days=1), reference="P-0008"
    )
    anonymise_expired(today=TODAY)
    response = counsellor_client.get(f"/referrals/{old.pk}/")
    assert response.status_code == 200
    assert "P-0008" not in response.content.decode()
    assert f"Anonymised referral {old.pk}" in response.content.decode()
    listed = counsellor_client.get("/referrals/").content.decode()
    assert f"Anonymised referral {old.pk}</a>" in listed


# A data subject's requests


def _subject(client, reference: str, action: str, **extra):
    return client.post("/referrals/subject/", {"reference": reference, "action": action, **extra})


def test_a_supervisor_exports_everything_held_under_a_reference(
    supervisor_client, counsellor, outsider
):
    mine = _closed(counsellor, closed_on=TODAY, reference="P-0042")
    second = ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    ReferralFactory.create(counsellor=outsider, reference="P-0042", profile={"secret": "elsewhere"})
    ReferralFactory.create(counsellor=counsellor, reference="P-0043")
    response = _subject(supervisor_client, "P-0042", "export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert document["reference"] == "P-0042"
    assert [r["id"] for r in document["referrals"]] == [mine.pk, second.pk]
    assert document["referrals"][0]["profile"]["psychiatric_comorbidity"] is True
    assert document["referrals"][0]["follow_ups"][0]["outcome"] == "not_attended"
    assert "elsewhere" not in response.content.decode()
    assert any(e["action"] == "change" for e in document["access_log"])
    entry = AuditEntry.objects.filter(action="export", reference="P-0042").get()
    assert entry.username == "supervisor"


def test_a_lookup_says_how_much_is_held(supervisor_client, counsellor):
    ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    page = _subject(supervisor_client, "P-0042", "lookup").content.decode()
    assert "1 referral" in page and "Erase" in page
    assert "0 referrals" in _subject(supervisor_client, "P-0404", "lookup").content.decode()


def test_erasure_needs_the_reference_typed_twice(supervisor_client, counsellor):
    ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    response = _subject(supervisor_client, "P-0042", "erase", confirm="P-0043")
    assert "Type the same reference again" in response.content.decode()
    assert Referral.objects.filter(reference="P-0042").exists()


def test_erasure_removes_the_referrals_and_follow_ups_of_this_organisation_only(
    supervisor_client, counsellor, outsider
):
    mine = _closed(counsellor, closed_on=TODAY, reference="P-0042")
    theirs = ReferralFactory.create(counsellor=outsider, reference="P-0042")
    response = _subject(supervisor_client, "P-0042", "erase", confirm="P-0042")
    assert response.status_code == 302
    assert not Referral.objects.filter(pk=mine.pk).exists()
    assert not FollowUp.objects.filter(referral_id=mine.pk).exists()
    assert Referral.objects.filter(pk=theirs.pk).exists()
    entry = AuditEntry.objects.get(action="erase")
    assert (entry.reference, entry.username) == ("P-0042", "supervisor")
    assert entry.summary == f"1 referral(s): {mine.pk}"


def test_counsellors_cannot_export_or_erase(counsellor_client, counsellor):
    ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    assert counsellor_client.get("/referrals/subject/").status_code == 403
    assert _subject(counsellor_client, "P-0042", "erase", confirm="P-0042").status_code == 403
    assert Referral.objects.filter(reference="P-0042").exists()


def test_an_anonymised_referral_takes_no_new_choice_or_follow_up(counsellor, retention):
    from django.core.exceptions import ValidationError

    stale = ReferralFactory.create(
        counsellor=counsellor,
        reference="P-0009",
        created_at=timezone.now() - retention - dt.timedelta(days=2),
    )
    closed = _closed(
        counsellor, closed_on=TODAY - retention - dt.timedelta(days=1), reference="P-0010"
    )
    anonymise_expired(today=timezone.localdate())
    with pytest.raises(ValidationError, match="anonymised"):
        record_choice(referral=stale, group="na")
    with pytest.raises(ValidationError, match="anonymised"):
        record_follow_up(
            referral=closed,
            recorded_by=counsellor,
            checkpoint="first_meeting",
            outcome="attended",
            first_meeting_on=TODAY,
        )


def test_a_reference_is_found_however_its_letters_are_cased(supervisor_client, counsellor):
    # Never "nothing is held" for a patient whose reference was typed in lower case.
    held = ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    assert "1 referral" in _subject(supervisor_client, "p-0042", "lookup").content.decode()
    document = json.loads(_subject(supervisor_client, "p-0042", "export").content)
    assert [r["id"] for r in document["referrals"]] == [held.pk]
    _subject(supervisor_client, "p-0042", "erase", confirm="p-0042")
    assert not Referral.objects.filter(pk=held.pk).exists()


def test_a_lookup_lists_what_an_erasure_would_remove(supervisor_client, counsellor, max_queries):
    followed = _closed(counsellor, closed_on=TODAY, reference="P-0042")
    ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    with max_queries(15):
        page = _subject(supervisor_client, "P-0042", "lookup").content.decode()
    assert "2 referrals" in page
    assert f'href="/referrals/{followed.pk}/"' in page
    assert "Did not attend" in page and str(counsellor) in page


def test_a_patient_gets_a_copy_they_can_read_in_their_language(
    supervisor_client, counsellor, reference_data
):
    referral = _closed(counsellor, closed_on=TODAY, reference="P-0042")
    Referral.objects.filter(pk=referral.pk).update(language="nb")
    response = supervisor_client.post(
        "/referrals/subject/", {"reference": "P-0042", "action": "readable", "language": "en"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "What is held under P-0042" in page
    assert "Psychiatric comorbidity" in page  # the answers, in words
    assert "First meeting: Did not attend" in page
    assert "Who looked at it or changed it" in page
    assert "Recorded a follow-up: First meeting" in page
    assert "not_attended" not in page and "psychiatric_comorbidity" not in page
    entry = AuditEntry.objects.filter(action="export", reference="P-0042").get()
    assert entry.summary == "readable export (en)"
