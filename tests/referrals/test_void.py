"""A referral saved by mistake is voided: kept, marked and audited, counted nowhere."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEntry
from referrals import tallies
from referrals.models import Referral, Tally
from referrals.services import record_choice, void_referral
from tests.factories import ReferralFactory, UserFactory
from tests.referrals.test_interfaces import FORM

pytestmark = pytest.mark.django_db


def _sum(field: str) -> int:
    return sum(Tally.objects.filter(grain="month").values_list(field, flat=True))


@pytest.fixture
def mistaken(counsellor):
    """Saved twice by mistake, with the choice recorded on the second."""
    kept = ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    twice = ReferralFactory.create(counsellor=counsellor, reference="P-0042")
    record_choice(referral=twice, group="na")
    return kept, Referral.objects.get(pk=twice.pk)


def test_a_counsellor_voids_a_duplicate_with_a_reason(counsellor_client, mistaken, max_queries):
    kept, twice = mistaken
    assert _sum("referrals") == 2 and _sum("awaiting") == 1
    url = f"/referrals/{twice.pk}/void/"
    with max_queries(12):
        page = counsellor_client.get(url).content.decode()
    assert "Void referral P-0042" in page and "cannot be undone" in page

    refused = counsellor_client.post(url, {"note": "saved twice"})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert Referral.objects.get(pk=twice.pk).voided_at is None

    version = counsellor_client.get(url).context["form"]["version"].value()
    response = counsellor_client.post(
        url, {"reason": "duplicate", "note": "Saved twice", "version": version}, follow=True
    )
    detail = response.content.decode()
    assert "Voided the referral" in detail
    assert "A duplicate of another referral" in detail and "Saved twice" in detail
    twice.refresh_from_db()
    assert twice.voided_by.username == twice.counsellor.username
    assert twice.follow_up_due_on is None
    # Counted nowhere: the dashboard's tallies hold only the referral that stays.
    assert _sum("referrals") == 1 and _sum("awaiting") == 0
    assert tallies.mismatches() == 0

    listed = counsellor_client.get("/referrals/").content.decode()
    assert f"/referrals/{kept.pk}/" in listed and f"/referrals/{twice.pk}/" not in listed
    voided = counsellor_client.get("/referrals/?voided=true").content.decode()
    assert f"/referrals/{twice.pk}/" in voided and f"/referrals/{kept.pk}/" not in voided
    assert "Voided" in voided

    entry = (
        AuditEntry.objects.filter(object_id=twice.pk, action=AuditEntry.Action.CHANGE)
        .order_by("pk")
        .last()
    )
    assert entry.summary == "referral voided: duplicate"
    # The note may say more than the log should.
    assert "Saved twice" not in entry.summary


def test_a_voided_referral_takes_no_choice_follow_up_or_second_void(
    counsellor, counsellor_client, mistaken
):
    _kept, twice = mistaken
    void_referral(referral=twice, user=counsellor, reason="entered_in_error")
    with pytest.raises(ValidationError, match="voided"):
        record_choice(referral=twice, group="aa")
    with pytest.raises(ValidationError, match="voided"):
        void_referral(referral=twice, user=counsellor, reason="duplicate")
    follow_up = counsellor_client.get(
        f"/referrals/{twice.pk}/follow-up/first_meeting/", follow=True
    )
    assert "can no longer change" in follow_up.content.decode()
    again = counsellor_client.get(f"/referrals/{twice.pk}/void/", follow=True)
    assert "voided already" in again.content.decode()
    detail = counsellor_client.get(f"/referrals/{twice.pk}/").content.decode()
    assert "Record the choice" not in detail and "Void…" not in detail
    assert not twice.follow_ups.exists()
    due = counsellor_client.get("/referrals/follow-ups/").content.decode()
    assert "P-0042" not in due


def test_an_unknown_reason_is_named(counsellor, mistaken):
    with pytest.raises(ValidationError) as refused:
        void_referral(referral=mistaken[1], user=counsellor, reason="bored")
    assert "reason" in refused.value.message_dict


def test_who_may_void(organisation, mistaken, supervisor_client, outsider_client, admin_client_):
    from tests.conftest import _client_for

    colleague = UserFactory(organisation=organisation, roles=[Role.COUNSELLOR])
    url = f"/referrals/{mistaken[1].pk}/void/"
    assert _client_for(colleague).get(url).status_code == 404
    assert outsider_client.get(url).status_code == 404
    assert admin_client_.get(url).status_code == 403
    # A supervisor may void the organisation's, e.g. one left by a colleague who left.
    response = supervisor_client.post(url, {"reason": "wrong_reference"})
    assert response.status_code == 302
    assert Referral.objects.get(pk=mistaken[1].pk).void_reason == "wrong_reference"


def test_a_voided_referral_no_longer_holds_back_a_save_under_its_reference(
    reference_data, counsellor, counsellor_client
):
    from referrals.views import REPEAT_WINDOW

    recent = ReferralFactory.create(counsellor=counsellor, reference="P-0077")
    Referral.objects.filter(pk=recent.pk).update(
        created_at=timezone.now() - REPEAT_WINDOW + dt.timedelta(minutes=1)
    )
    void_referral(referral=recent, user=counsellor, reason="wrong_reference")
    response = counsellor_client.post(
        "/referrals/new/", {**FORM, "reference": "P-0077", "save": "1"}
    )
    assert response.status_code == 302
    assert Referral.objects.filter(reference="P-0077", voided_at__isnull=True).count() == 1
