from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from referrals import tallies
from referrals.models import FollowUp, Referral

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple]:
    return sorted(
        Referral.objects.values_list(
            "reference",
            "counsellor__username",
            "first_ranked",
            "chosen_group",
            "attended",
            "disengaged",
            "created_at__date",
        )
    )


def test_demo_referrals_are_reproducible_and_realistic(reference_catalog, settings):
    settings.DEBUG = True
    call_command("create_demo_referrals", referrals=80, seed=7, stdout=io.StringIO())
    first = _snapshot()
    assert len(first) == 80
    assert all(reference.startswith("D-") for reference, *_rest in first)
    assert {row[1] for row in first} >= {"demo-clinic-ingrid", "demo-clinic-jonas"}
    assert FollowUp.objects.filter(outcome="disengaged", reasons__isnull=True).count() == 0
    assert Referral.objects.filter(disengaged=True).exists()
    assert Referral.objects.exclude(chosen_group="").filter(attended__isnull=True).exists()
    assert tallies.mismatches() == 0, "the dashboard counts what was generated"

    out = io.StringIO()
    call_command("create_demo_referrals", referrals=80, seed=7, stdout=out)
    assert "left as they are" in out.getvalue()
    assert Referral.objects.count() == 80

    call_command("create_demo_referrals", referrals=80, seed=7, replace=True, stdout=io.StringIO())
    again = _snapshot()
    assert tallies.mismatches() == 0
    assert [row[:6] for row in again] == [row[:6] for row in first]


def test_demo_referrals_refuse_a_production_configuration(reference_catalog, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_referrals", referrals=5, stdout=io.StringIO())
    assert not Referral.objects.exists()
