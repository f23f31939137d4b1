from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import reset_queries
from django.test import Client
from django.utils import translation

from accounts.roles import Role
from catalog.reference import load_catalog, sync_vocabulary
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture(autouse=True)
def english():
    """Every test starts in English: a request in another language leaves that
    language active in the thread afterwards."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def forget_timetable():
    """Each test's database starts afresh, and with a clock frozen by the test the
    history rows that tell a kept timetable is current can repeat from one test to
    the next, as they cannot in use: every test reads the meetings anew."""
    from catalog import timetable

    timetable.forget()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def vocabulary(db):
    sync_vocabulary()


@pytest.fixture
def reference_catalog(db):
    """The catalog as shipped, loaded the way `make run` loads it."""
    return load_catalog()


@pytest.fixture
def reference_data(reference_catalog):
    """Catalog and studies as shipped."""
    from studies.reference import load_studies

    load_studies()


@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Oslo Clinic", slug="oslo-clinic")


@pytest.fixture
def other_organisation(db):
    return OrganisationFactory(name="Ghent Service", slug="ghent-service", country="BE")


@pytest.fixture
def counsellor(organisation):
    return UserFactory(username="counsellor", organisation=organisation, roles=[Role.COUNSELLOR])


@pytest.fixture
def supervisor(organisation):
    return UserFactory(username="supervisor", organisation=organisation, roles=[Role.SUPERVISOR])


@pytest.fixture
def catalog_admin(organisation):
    return UserFactory(username="admin", organisation=organisation, roles=[Role.CATALOG_ADMIN])


@pytest.fixture
def outsider(other_organisation):
    """A counsellor of another organisation."""
    return UserFactory(
        username="outsider", organisation=other_organisation, roles=[Role.COUNSELLOR]
    )


@pytest.fixture
def no_role_user(organisation):
    return UserFactory(username="norole", organisation=organisation)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def counsellor_client(counsellor):
    return _client_for(counsellor)


@pytest.fixture
def supervisor_client(supervisor):
    return _client_for(supervisor)


@pytest.fixture
def admin_client_(catalog_admin):
    return _client_for(catalog_admin)


@pytest.fixture
def outsider_client(outsider):
    return _client_for(outsider)


@pytest.fixture
def no_role_client(no_role_user):
    return _client_for(no_role_user)


@pytest.fixture
def max_queries(django_assert_max_num_queries):
    """django_assert_max_num_queries, with Django's query log emptied first.

    Loading the reference data logs thousands of queries, and Django keeps only the
    last 9,000: without a reset the guard could count nothing and pass vacuously.
    """

    @contextmanager
    def guard(number: int):
        reset_queries()
        with django_assert_max_num_queries(number) as captured:
            yield captured
        # Counted now: the log is emptied again by the next guard.
        captured.number = len(captured.captured_queries)
        assert captured.number, "the guard saw no queries at all"

    return guard
