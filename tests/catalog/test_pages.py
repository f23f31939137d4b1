from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from catalog.models import Group, Trait, TraitValue
from tests.factories import AvailabilityFactory, GroupFactory, TraitValueFactory

pytestmark = pytest.mark.django_db


def test_every_page_requires_log_in(reference_catalog):
    client = Client()
    for path in ("/", "/catalog/", "/catalog/groups/na/", "/catalog/compare/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_log_in_page_is_open_and_logs_in(counsellor):
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    response = client.post(
        "/accounts/login/", {"username": "counsellor", "password": "a-long-test-password"}
    )
    assert response.status_code == 302
    assert client.get("/catalog/").status_code == 200


def test_log_out_ends_the_session(counsellor_client):
    response = counsellor_client.post("/accounts/logout/", follow=True)
    assert "You have logged out." in response.content.decode()
    assert counsellor_client.get("/catalog/").status_code == 302


def test_log_out_from_a_stale_tab_lands_on_the_log_in_page():
    client = Client()
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert client.get("/accounts/logout/")["Location"] == "/accounts/login/"


def test_catalog_list_shows_every_group(counsellor_client, reference_catalog):
    response = counsellor_client.get("/catalog/")
    assert response.status_code == 200
    for group in Group.objects.all():
        assert group.name in response.content.decode()


def test_group_page_shows_traits_by_dimension_with_sources(counsellor_client, reference_catalog):
    response = counsellor_client.get("/catalog/groups/na/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Narcotics Anonymous" in page
    for label in ("Philosophy", "Goal", "Medication", "Format", "Support structure"):
        assert label in page
    value = TraitValue.objects.get(group__slug="na", trait__key="sponsorship")
    assert value.source is not None
    assert escape(value.source.title) in page
    assert f'href="#source-{value.source.key}"' in page
    assert "134" in page  # weekly meetings in Norway, from the Norwegian study


def test_unknown_group_is_404(counsellor_client, vocabulary):
    assert counsellor_client.get("/catalog/groups/no-such-group/").status_code == 404


def test_comparison_shows_groups_side_by_side_in_the_order_chosen(
    counsellor_client, reference_catalog
):
    response = counsellor_client.get("/catalog/compare/?groups=smart-recovery&groups=na")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index(">SMART Recovery<") < page.index(">Narcotics Anonymous<")
    assert "Sponsorship" in page


@pytest.mark.parametrize(
    "query", ["?groups=na", "?groups=na&groups=aa&groups=ca&groups=ma&groups=dra"]
)
def test_comparison_needs_two_to_four_groups(counsellor_client, reference_catalog, query):
    response = counsellor_client.get(f"/catalog/compare/{query}")
    assert "Choose two to four groups to compare." in response.content.decode()


def _add_groups(start: int, stop: int) -> None:
    for number in range(start, stop):
        group = GroupFactory(slug=f"g-{number}", name=f"Group {number}")
        for key in ("sponsorship", "women_only", "higher_power"):
            TraitValueFactory(group=group, trait=Trait.objects.get(key=key))
        AvailabilityFactory(group=group)


@pytest.mark.parametrize(
    "path",
    [
        "/catalog/",
        "/catalog/?has=sponsorship&country=NO&online=true&language=nb",
        "/catalog/groups/g-0/",
        "/catalog/compare/?groups=g-0&groups=g-1&groups=g-2&groups=g-3",
    ],
)
def test_queries_per_page_do_not_grow_with_the_catalog(
    counsellor_client, vocabulary, max_queries, path
):
    _add_groups(0, 4)
    with max_queries(12) as small:
        assert counsellor_client.get(path).status_code == 200
    _add_groups(4, 30)
    with max_queries(small.number):
        assert counsellor_client.get(path).status_code == 200


def test_language_can_be_chosen_before_logging_in():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "nb", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.cookies["django_language"].value == "nb"
