"""A write of many rows that fails midway, as when the database goes away, leaves
nothing half-written: not the rows, not their history, not their audit entries."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.utils import timezone
from simple_history.manager import HistoryManager

from audit.models import AuditEntry
from catalog import interchange as catalog_interchange
from catalog.models import Availability, Group, Source, TraitValue
from curation.models import PendingImport
from referrals import tallies
from referrals.followup import Checkpoint, Outcome
from referrals.models import FollowUp, FollowUpReason, Referral
from referrals.services import record_choice, record_follow_up
from studies import interchange as studies_interchange
from studies.models import Finding, FindingTrait, Participant, Quote, ReferenceText, Study, Theme
from tests.curation import pages
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

LOST = "server closed the connection unexpectedly"


@contextmanager
def failing(
    target: Any, name: str, *, on_call: int, written: Callable[[], object]
) -> Iterator[list[object]]:
    """Make ``target.name`` fail on its ``on_call``-th call as a lost connection does.

    Yields a list that gets what ``written()`` returns just before the failure, to show
    that something had been written by then: the failure came midway.
    """
    method = getattr(target, name)
    calls = itertools.count(1)
    seen: list[object] = []

    def write(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == on_call:
            seen.append(written())
            raise OperationalError(LOST)
        return method(*args, **kwargs)

    # The connection then looks as a lost one does, so the page answers 503, not 500.
    lost = mock.patch.object(connections[DEFAULT_DB_ALIAS], "is_usable", lambda: False)
    with mock.patch.object(target, name, write), lost:
        yield seen


# --- The catalog import -----------------------------------------------------


def _catalog() -> tuple[object, ...]:
    """The catalog as its export sees it, with the row counts of its history and audit."""
    return (
        catalog_interchange.export_json(),
        *(model.objects.count() for model in (Source, Group, TraitValue, Availability)),
        *(model.history.count() for model in (Source, Group, TraitValue, Availability)),
        AuditEntry.objects.count(),
    )


def _catalog_changes() -> bytes:
    """A valid file that adds a source, changes every fact of one group and drops a fact
    of another: creations, updates and deletions."""
    document = json.loads(catalog_interchange.export_json())
    document["sources"].append(
        {"key": "new-source", "title": "New", "publisher": "", "url": "", "kind": "primary"}
    )
    for fact in document["groups"][0]["traits"]:
        fact["locator"] = "page 9"
    del document["groups"][1]["traits"][0]
    return json.dumps(document).encode()


def test_a_catalog_import_failing_midway_writes_nothing(reference_catalog):
    before = _catalog()
    new_source = Source.objects.filter(key="new-source").exists
    document = catalog_interchange.parse_json(_catalog_changes())
    with (
        # The second history written in bulk is the trait values': the new source and the
        # changed values are written by then.
        failing(HistoryManager, "bulk_history_create", on_call=2, written=new_source) as written,
        pytest.raises(OperationalError),
    ):
        catalog_interchange.apply(document, reason="test")
    assert written == [True]
    assert _catalog() == before
    assert not TraitValue.objects.filter(locator="page 9").exists()


def test_a_catalog_import_through_the_page_failing_midway_writes_nothing(
    admin_client_, reference_catalog
):
    before = _catalog()
    uploaded = pages.upload(admin_client_, "/catalog/import/", "catalog.json", _catalog_changes())
    preview = pages.preview_path(uploaded)
    digest = pages.digest(admin_client_, preview)
    new_source = Source.objects.filter(key="new-source").exists
    with failing(HistoryManager, "bulk_history_create", on_call=2, written=new_source) as written:
        response = admin_client_.post(preview, {"digest": digest})
    assert written == [True]
    assert response.status_code == 503
    assert "nothing was half-saved" in response.content.decode()
    assert _catalog() == before
    # The upload is not used up: it can be applied once the database is back.
    assert PendingImport.objects.get().applied_at is None
    assert admin_client_.post(preview, {"digest": digest}).status_code == 302
    assert Source.objects.filter(key="new-source").exists()


def test_the_catalog_is_written_when_nothing_fails(reference_catalog):
    """The file above is one that imports: the failures are what stops it."""
    before = _catalog()
    catalog_interchange.apply(catalog_interchange.parse_json(_catalog_changes()), reason="test")
    assert _catalog() != before
    assert Source.objects.filter(key="new-source").exists()


# --- The studies import -----------------------------------------------------

STUDY_MODELS = (Study, Theme, Participant, Quote, ReferenceText, Finding, FindingTrait)
HISTORY_MODELS = (Study, Theme, Participant, Quote, Finding, FindingTrait)
SAMPLE = "Twelve former members of NA in Norway."


def _studies() -> tuple[object, ...]:
    return (
        studies_interchange.export_json(),
        *(model.objects.count() for model in STUDY_MODELS),
        *(model.history.count() for model in HISTORY_MODELS),
        AuditEntry.objects.count(),
    )


def _studies_changes() -> bytes:
    """The Norwegian study with another sample: replacing it deletes and rewrites its
    themes, participants, quotes and findings."""
    document = json.loads(studies_interchange.export_json())
    study = next(s for s in document["studies"] if s["key"] == "vederhus-2020")
    study["sample"] = SAMPLE
    return json.dumps(document).encode()


def _sample() -> str:
    return Study.objects.get(key="vederhus-2020").sample


def test_a_studies_import_failing_midway_writes_nothing(reference_data):
    before = _studies()
    payload = studies_interchange.parse_json(_studies_changes())
    with (
        failing(Quote, "save", on_call=5, written=_sample) as written,
        pytest.raises(OperationalError),
    ):
        studies_interchange.apply(payload, reason="test")
    assert written == [SAMPLE]
    assert _studies() == before
    assert _sample() != SAMPLE


def test_a_studies_import_through_the_page_failing_midway_writes_nothing(
    admin_client_, reference_data
):
    before = _studies()
    uploaded = pages.upload(admin_client_, "/studies/import/", "studies.json", _studies_changes())
    preview = pages.preview_path(uploaded)
    digest = pages.digest(admin_client_, preview)
    with failing(FindingTrait.objects, "create", on_call=2, written=_sample) as written:
        response = admin_client_.post(preview, {"digest": digest})
    assert written == [SAMPLE]
    assert response.status_code == 503
    assert _studies() == before


# --- Follow-ups -------------------------------------------------------------

FIRST, ONE = Checkpoint.FIRST_MEETING, Checkpoint.ONE_MONTH


@pytest.fixture
def referral(counsellor):
    referral = record_choice(referral=ReferralFactory(counsellor=counsellor), group="na")
    record_follow_up(
        referral=referral,
        recorded_by=counsellor,
        checkpoint=FIRST,
        outcome=Outcome.ATTENDED,
        first_meeting_on=timezone.localdate(referral.created_at),
    )
    return referral


def _follow_ups(referral: Referral) -> tuple[object, ...]:
    return (
        list(Referral.objects.filter(pk=referral.pk).values()),
        list(FollowUp.objects.filter(referral=referral).order_by("checkpoint").values()),
        sorted(
            FollowUpReason.objects.filter(follow_up__referral=referral).values_list(
                "follow_up__checkpoint", "code"
            )
        ),
        AuditEntry.objects.count(),
        sorted(tallies.counted().items()),
    )


def _one_month_recorded(referral: Referral) -> bool:
    return FollowUp.objects.filter(referral=referral, checkpoint=ONE).exists()


@pytest.mark.parametrize(
    ("target", "name", "call"),
    [
        (FollowUpReason.objects, "bulk_create", 1),
        (Referral, "save", 1),
        # The second of the tallies' updates: the first is written by then.
        (tallies, "_add", 2),
    ],
    ids=["the reasons", "the referral's status", "the dashboard's tallies"],
)
def test_a_follow_up_failing_midway_writes_nothing(referral, counsellor, target, name, call):
    before = _follow_ups(referral)
    with (
        failing(
            target, name, on_call=call, written=lambda: _one_month_recorded(referral)
        ) as written,
        pytest.raises(OperationalError),
    ):
        record_follow_up(
            referral=referral,
            recorded_by=counsellor,
            checkpoint=ONE,
            outcome=Outcome.DISENGAGED,
            reasons=["conformity-pressure", "other"],
            contacted_on=timezone.localdate(),
        )
    assert written == [True]
    assert _follow_ups(referral) == before


def test_a_correction_failing_midway_keeps_the_reasons_it_would_replace(referral, counsellor):
    record = {
        "referral": referral,
        "recorded_by": counsellor,
        "checkpoint": ONE,
        "contacted_on": timezone.localdate(),
    }
    record_follow_up(**record, outcome=Outcome.DISENGAGED, reasons=["conformity-pressure"])
    before = _follow_ups(referral)
    reasons = FollowUpReason.objects.filter(follow_up__referral=referral).exists
    with (
        failing(FollowUpReason.objects, "bulk_create", on_call=1, written=reasons) as written,
        pytest.raises(OperationalError),
    ):
        record_follow_up(**record, outcome=Outcome.DISENGAGED, reasons=["double-trouble"])
    assert written == [False], "the old reasons were deleted before the failure"
    assert _follow_ups(referral) == before
