from __future__ import annotations

import pytest

from studies.models import Finding, Quote, Study, Theme

pytestmark = pytest.mark.django_db


def test_study_list_and_page_show_citation_participants_and_themes(
    counsellor_client, reference_data
):
    listing = counsellor_client.get("/studies/").content.decode()
    assert "https://doi.org/10.1186/s13722-020-00191-w" in listing
    page = counsellor_client.get("/studies/vederhus-2020/").content.decode()
    assert "https://doi.org/10.1186/s13722-020-00191-w" in page
    for pseudonym in ("Per", "Kari", "Håkon", "Arne"):
        assert f'<th scope="row">{pseudonym}</th>' in page
    assert "The safe place can become a cage" in page
    assert "Our common welfare should come first" in page
    quote = Quote.objects.filter(study__key="vederhus-2020").first()
    assert quote.text[:40].replace("'", "&#x27;") in page


def test_theme_page_shows_quotes_traits_and_groups(counsellor_client, reference_data):
    finding = Finding.objects.filter(trait_links__trait__key="step_work").first()
    theme = finding.theme
    page = counsellor_client.get(f"/studies/{theme.study.key}/themes/{theme.key}/").content.decode()
    assert theme.name.replace("'", "&#x27;") in page
    assert "Step work" in page
    assert "Narcotics Anonymous" in page  # NA carries step work


def test_search_finds_quotes_by_their_words(counsellor_client, reference_data):
    response = counsellor_client.get("/studies/search/?q=sponsor")
    assert response.status_code == 200
    found = list(response.context["page"])
    assert found
    assert all("sponsor" in quote.text.lower() for quote in found)
    nothing = counsellor_client.get("/studies/search/?q=zeppelin").context["page"]
    assert list(nothing) == []


def test_group_page_says_what_the_studies_say(counsellor_client, reference_data):
    page = counsellor_client.get("/catalog/groups/na/").content.decode()
    assert "What the studies say" in page
    caution = Finding.objects.filter(trait_links__trait__key="powerlessness").first()
    assert caution.counsellor_text[:40].replace("'", "&#x27;") in page


def test_pages_require_the_role(no_role_client, reference_data):
    for path in ("/studies/", "/studies/vederhus-2020/", "/studies/search/?q=sponsor"):
        assert no_role_client.get(path).status_code == 403


def test_unknown_study_and_theme_are_404(counsellor_client, reference_data):
    assert counsellor_client.get("/studies/nope/").status_code == 404
    assert counsellor_client.get("/studies/vederhus-2020/themes/nope/").status_code == 404


@pytest.mark.parametrize("persona", ["counsellor_client", "supervisor_client", "outsider_client"])
def test_only_catalog_admins_curate_studies(request, reference_data, persona):
    client = request.getfixturevalue(persona)
    quote = Quote.objects.first()
    finding = Finding.objects.first()
    for path in (
        "/studies/export.json",
        "/studies/import/",
        "/studies/vederhus-2020/history/",
        f"/studies/{quote.study.key}/quotes/{quote.key}/edit/",
        f"/studies/{finding.study.key}/findings/{finding.key}/edit/",
    ):
        assert client.get(path).status_code == 403, path


def _add_quotes(study: Study, count: int, start: int) -> None:
    theme = study.themes.first()
    for number in range(start, start + count):
        quote = Quote.objects.create(
            study=study, key=f"extra-{number}", text=f"Extra quote {number}", position=100 + number
        )
        quote.themes.add(theme)


@pytest.mark.parametrize(
    "path",
    ["/studies/vederhus-2020/", "/studies/search/?q=quote", "/catalog/groups/na/"],
)
def test_queries_do_not_grow_with_the_number_of_quotes(
    counsellor_client, reference_data, max_queries, path
):
    study = Study.objects.get(key="vederhus-2020")
    _add_quotes(study, 2, 0)
    with max_queries(20) as few:
        assert counsellor_client.get(path).status_code == 200
    _add_quotes(study, 40, 2)
    with max_queries(few.number):
        assert counsellor_client.get(path).status_code == 200


def test_theme_page_queries_do_not_grow_with_quotes(counsellor_client, reference_data, max_queries):
    theme = Theme.objects.filter(study__key="vederhus-2020", quotes__isnull=False).first()
    path = f"/studies/vederhus-2020/themes/{theme.key}/"
    with max_queries(20) as few:
        counsellor_client.get(path)
    for number in range(30):
        quote = Quote.objects.create(
            study=theme.study, key=f"more-{number}", text="x", position=200 + number
        )
        quote.themes.add(theme)
    with max_queries(few.number):
        counsellor_client.get(path)
