from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _slugs(client, query: str) -> set[str]:
    response = client.get(f"/catalog/{query}")
    assert response.status_code == 200
    return {group.slug for group in response.context["page"]}


def test_filter_by_kind(counsellor_client, reference_catalog):
    assert _slugs(counsellor_client, "?kind=secular") == {
        "sos",
        "smart-recovery",
        "lifering",
        "wfs",
    }


def test_filter_by_trait_offered(counsellor_client, reference_catalog):
    assert _slugs(counsellor_client, "?has=women_only") == {"wfs"}
    assert _slugs(counsellor_client, "?has=dual_diagnosis_focus") == {"dra"}
    with_sponsors = _slugs(counsellor_client, "?has=sponsorship")
    assert "na" in with_sponsors
    assert "smart-recovery" not in with_sponsors


def test_several_traits_must_all_hold(counsellor_client, reference_catalog):
    both = _slugs(counsellor_client, "?has=sponsorship&has=dual_diagnosis_focus")
    assert both <= _slugs(counsellor_client, "?has=sponsorship")
    assert both <= {"dra"}


def test_filter_by_trait_known_absent(counsellor_client, reference_catalog):
    no_higher_power = _slugs(counsellor_client, "?lacks=higher_power")
    assert "sos" in no_higher_power
    assert "na" not in no_higher_power


def test_filter_by_country_online_and_language(counsellor_client, reference_catalog):
    in_norway = _slugs(counsellor_client, "?country=NO")
    assert {"na", "smart-recovery"} <= in_norway
    assert "wfs" not in in_norway
    assert _slugs(counsellor_client, "?country=BE") >= {"na", "aa"}
    online = _slugs(counsellor_client, "?online=true")
    assert "smart-recovery" in online
    assert online.isdisjoint(_slugs(counsellor_client, "?online=false"))
    dutch = _slugs(counsellor_client, "?language=nl")
    assert "na" in dutch
    assert "wfs" not in dutch


def test_bad_filter_values_are_reported_not_ignored(counsellor_client, reference_catalog):
    response = counsellor_client.get("/catalog/?kind=church")
    assert "Select a valid choice" in response.content.decode()
    assert list(response.context["page"]) == []
