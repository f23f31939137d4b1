from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ADMIN_ONLY_GET = [
    "/catalog/groups/new/",
    "/catalog/groups/na/edit/",
    "/catalog/groups/na/history/",
    "/catalog/export.json",
    "/catalog/export.zip",
    "/catalog/import/",
    "/catalog/sources/new/",
]
READ_PAGES = ["/", "/catalog/", "/catalog/groups/na/", "/catalog/compare/", "/catalog/sources/"]


@pytest.mark.parametrize("persona", ["counsellor_client", "supervisor_client", "outsider_client"])
def test_only_catalog_admins_reach_the_curation_pages(request, reference_catalog, persona):
    client = request.getfixturevalue(persona)
    for path in ADMIN_ONLY_GET:
        assert client.get(path).status_code == 403, path
    assert client.post("/catalog/groups/na/edit/", {}).status_code == 403
    assert client.post("/catalog/import/", {}).status_code == 403
    assert client.post("/catalog/groups/na/history/group/1/undo/").status_code == 403


def test_catalog_admins_reach_the_curation_pages(admin_client_, reference_catalog):
    for path in ADMIN_ONLY_GET:
        assert admin_client_.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "persona", ["counsellor_client", "supervisor_client", "admin_client_", "outsider_client"]
)
def test_every_role_reads_the_catalog(request, reference_catalog, persona):
    client = request.getfixturevalue(persona)
    for path in READ_PAGES:
        assert client.get(path).status_code == 200, path


def test_a_user_without_a_role_cannot_read_the_catalog(no_role_client, reference_catalog):
    assert no_role_client.get("/catalog/").status_code == 403
    assert "no role yet" in no_role_client.get("/").content.decode()


def test_navigation_follows_the_role(counsellor_client, admin_client_, reference_catalog):
    assert "Import and export" not in counsellor_client.get("/catalog/").content.decode()
    assert "Import and export" in admin_client_.get("/catalog/").content.decode()
    assert (
        "/catalog/groups/na/edit/"
        not in counsellor_client.get("/catalog/groups/na/").content.decode()
    )
