"""Who may open what: every view and API endpoint against every role, including users
of another organisation guessing identifiers. A new URL must be added here."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiToken
from accounts.roles import Role
from catalog import history as catalog_history
from catalog.interchange import export_json as catalog_export
from catalog.models import Group
from curation.models import PendingImport
from referrals.services import record_choice
from studies.history import study_history
from studies.interchange import export_json as studies_export
from studies.models import Finding, Quote, Study, Theme
from tests.factories import MeetingFeedFactory, ReferralFactory, UserFactory
from tests.security.crawl import online_meeting_of

pytestmark = pytest.mark.django_db

# Personas: anonymous, a user with no role, the three roles of one organisation, and a
# counsellor and a supervisor of another organisation.
PERSONAS = (
    "anonymous",
    "no_role",
    "counsellor",
    "supervisor",
    "catalog_admin",
    "outsider",
    "outsider_supervisor",
)
LOGIN = "login"  # redirected to the log-in page (the API answers 401 instead)
OK = 200
EVERYONE = dict.fromkeys(PERSONAS[1:], OK)


def _only(*allowed: str, status: int = OK, others: int = 403) -> dict[str, object]:
    return {p: (status if p in allowed else others) for p in PERSONAS[1:]}


READERS = ("counsellor", "supervisor", "catalog_admin", "outsider", "outsider_supervisor")
COUNSELLORS = ("counsellor", "outsider")
DASHBOARD = ("counsellor", "supervisor", "outsider", "outsider_supervisor")
REFERRAL_READERS = DASHBOARD
REVIEWERS = ("supervisor", "catalog_admin", "outsider_supervisor")


def _of_one_referral(*allowed: str, status: int = OK) -> dict[str, object]:
    """A referral of the first organisation: whoever elsewhere holds the same role gets
    404, as if it did not exist; roles without the permission get 403."""
    expected = _only(*allowed, status=status)
    for outsider, role in (("outsider", "counsellor"), ("outsider_supervisor", "supervisor")):
        if role in allowed:
            expected[outsider] = 404
    return expected


# URL name → (method, expected status per persona but anonymous). Anonymous visitors are
# sent to log in (or get 401 from the API) unless ANONYMOUS says otherwise.
MATRIX: dict[str, tuple[str, Mapping[str, object]]] = {
    "home": ("GET", EVERYONE),
    "accounts:login": ("GET", dict.fromkeys(PERSONAS[1:], 302)),
    "accounts:login-verify": ("GET", dict.fromkeys(PERSONAS[1:], LOGIN)),
    "accounts:logout": ("GET", dict.fromkeys(PERSONAS[1:], LOGIN)),
    "accounts:logout-everywhere": ("POST", dict.fromkeys(PERSONAS[1:], LOGIN)),
    "accounts:two-factor": ("GET", EVERYONE),
    # An empty code: the form is shown again with its error.
    "accounts:two-factor-on": ("POST", dict.fromkeys(PERSONAS[1:], 400)),
    "accounts:two-factor-off": ("POST", dict.fromkeys(PERSONAS[1:], 302)),
    "catalog:group-list": ("GET", _only(*READERS)),
    "catalog:group-compare": ("GET", _only(*READERS)),
    "catalog:group-detail": ("GET", _only(*READERS)),
    "catalog:group-create": ("GET", _only("catalog_admin")),
    "catalog:group-edit": ("GET", _only("catalog_admin")),
    "catalog:group-history": ("GET", _only("catalog_admin")),
    "catalog:history-undo": ("GET", _only("catalog_admin")),
    "catalog:catalog-export-json": ("GET", _only("catalog_admin")),
    "catalog:catalog-export-zip": ("GET", _only("catalog_admin")),
    "catalog:catalog-import": ("GET", _only("catalog_admin")),
    # Only the curator who uploaded the file sees its preview; other roles are refused
    # before the file is looked up.
    "catalog:catalog-import-preview": ("GET", _only("catalog_admin")),
    "catalog:meeting-guide-feed": ("GET", _only(*READERS)),
    "catalog:hsds-export": ("GET", _only(*READERS)),
    "catalog:meeting-finder": ("GET", _only(*READERS)),
    "catalog:meeting-detail": ("GET", _only(*READERS)),
    "catalog:meeting-create": ("GET", _only("catalog_admin")),
    "catalog:meeting-edit": ("GET", _only("catalog_admin")),
    "catalog:meeting-retire": ("POST", _only("catalog_admin", status=302)),
    "catalog:meeting-history": ("GET", _only("catalog_admin")),
    "catalog:meeting-history-undo": ("GET", _only("catalog_admin")),
    "catalog:meeting-template": ("GET", _only("catalog_admin")),
    "catalog:feed-list": ("GET", _only("catalog_admin")),
    "catalog:feed-create": ("GET", _only("catalog_admin")),
    "catalog:feed-edit": ("GET", _only("catalog_admin")),
    "catalog:feed-import": ("GET", _only("catalog_admin")),
    # Only the curator who uploaded the file sees its preview.
    "catalog:feed-import-preview": ("GET", _only("catalog_admin")),
    "catalog:source-list": ("GET", _only(*READERS)),
    "catalog:source-create": ("GET", _only("catalog_admin")),
    "catalog:source-edit": ("GET", _only("catalog_admin")),
    "studies:study-list": ("GET", _only(*READERS)),
    "studies:quote-search": ("GET", _only(*READERS)),
    "studies:studies-export": ("GET", _only("catalog_admin")),
    "studies:studies-import": ("GET", _only("catalog_admin")),
    "studies:studies-import-preview": ("GET", _only("catalog_admin")),
    "studies:study-detail": ("GET", _only(*READERS)),
    "studies:theme-detail": ("GET", _only(*READERS)),
    "studies:quote-edit": ("GET", _only("catalog_admin")),
    "studies:finding-edit": ("GET", _only("catalog_admin")),
    "studies:study-history": ("GET", _only("catalog_admin")),
    "studies:history-undo": ("GET", _only("catalog_admin")),
    "referrals:referral-list": ("GET", _only(*REFERRAL_READERS)),
    "referrals:referral-create": ("GET", _only(*COUNSELLORS)),
    "referrals:referral-detail": ("GET", _of_one_referral("counsellor", "supervisor")),
    "referrals:referral-choose": ("POST", _of_one_referral("counsellor", status=302)),
    "referrals:referral-handout": ("GET", _of_one_referral("counsellor", "supervisor")),
    "referrals:referral-handout-pdf": ("GET", _of_one_referral("counsellor", "supervisor")),
    # Its counsellor, or a supervisor of its organisation, may void it.
    "referrals:referral-void": ("GET", _of_one_referral("counsellor", "supervisor")),
    "referrals:referral-meeting-calendar": (
        "GET",
        _of_one_referral("counsellor", "supervisor"),
    ),
    "referrals:follow-up": ("GET", _of_one_referral("counsellor")),
    "referrals:follow-ups-due": ("GET", _only(*COUNSELLORS)),
    "referrals:dashboard": ("GET", _only(*DASHBOARD)),
    "referrals:dashboard-csv": ("GET", _only(*DASHBOARD)),
    "referrals:subject": ("GET", _only("supervisor", "outsider_supervisor")),
    "audit:entry-list": ("GET", _only(*REVIEWERS)),
    "audit:entry-export": ("GET", _only(*REVIEWERS)),
    "api:openapi-json": ("GET", EVERYONE),
    "api:openapi-view": ("GET", EVERYONE),
    "api:match_profile": ("POST", _only(*COUNSELLORS)),
    "api:api-root": ("GET", dict.fromkeys(PERSONAS[1:], 404)),
    "api:list_groups": ("GET", _only(*READERS)),
    "api:list_meetings": ("GET", _only(*READERS)),
    "set_language": ("POST", dict.fromkeys(PERSONAS[1:], 302)),
}
# What an anonymous visitor gets where it is not the log-in page.
ANONYMOUS: dict[str, object] = {
    "accounts:login": OK,
    "accounts:logout-everywhere": LOGIN,
    "api:openapi-json": OK,
    "api:openapi-view": OK,
    "api:match_profile": 401,
    "api:api-root": 404,
    "api:list_groups": 401,
    "api:list_meetings": 401,
    "set_language": 302,
}
NOT_IN_MATRIX = {"admin/login/"}  # a redirect to accounts:login


def _url_names(patterns=None, namespace: str | None = None) -> set[str]:
    names: set[str] = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue
            names |= _url_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            if pattern.name is None:
                assert str(pattern.pattern) in NOT_IN_MATRIX, pattern
                continue
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_url_is_in_the_matrix():
    assert _url_names() == set(MATRIX)


@pytest.fixture
def world(reference_data, organisation, other_organisation):
    people = {
        "no_role": UserFactory(username="norole", organisation=organisation),
        "counsellor": UserFactory(
            username="counsellor", organisation=organisation, roles=[Role.COUNSELLOR]
        ),
        "supervisor": UserFactory(
            username="supervisor", organisation=organisation, roles=[Role.SUPERVISOR]
        ),
        "catalog_admin": UserFactory(
            username="admin", organisation=organisation, roles=[Role.CATALOG_ADMIN]
        ),
        "outsider": UserFactory(
            username="outsider", organisation=other_organisation, roles=[Role.COUNSELLOR]
        ),
        "outsider_supervisor": UserFactory(
            username="outsider-supervisor",
            organisation=other_organisation,
            roles=[Role.SUPERVISOR],
        ),
    }
    referral = record_choice(
        referral=ReferralFactory.create(counsellor=people["counsellor"], reference="P-0042"),
        group="na",
    )
    group = Group.objects.get(slug="na")
    group_entry = next(e for e in catalog_history.group_history(group) if e.can_undo)
    study = Study.objects.get(key=Quote.objects.values_list("study__key", flat=True)[0])
    study_entry = next(e for e in study_history(study) if e.can_undo)
    meeting = online_meeting_of(referral)
    meeting_entry = next(e for e in catalog_history.meeting_history(meeting) if e.can_undo)
    feed = MeetingFeedFactory(key="aa-quinte", group=group, url="")
    kwargs = {
        "catalog:meeting-detail": {"pk": meeting.pk},
        "catalog:meeting-edit": {"pk": meeting.pk},
        "catalog:meeting-retire": {"pk": meeting.pk},
        "catalog:meeting-history": {"pk": meeting.pk},
        "catalog:meeting-history-undo": {
            "pk": meeting.pk,
            "kind": meeting_entry.kind,
            "history_id": meeting_entry.record.history_id,
        },
        "catalog:group-detail": {"slug": "na"},
        "catalog:group-edit": {"slug": "na"},
        "catalog:group-history": {"slug": "na"},
        "catalog:history-undo": {
            "slug": "na",
            "kind": group_entry.kind,
            "history_id": group_entry.record.history_id,
        },
        "catalog:source-edit": {"key": group.trait_values.first().source.key},
        "catalog:catalog-import-preview": {"pk": _upload(people, PendingImport.Kind.CATALOG)},
        "catalog:feed-edit": {"key": feed.key},
        "catalog:feed-import": {"key": feed.key},
        "catalog:feed-import-preview": {"key": feed.key, "pk": _feed_upload(people, feed)},
        "studies:studies-import-preview": {"pk": _upload(people, PendingImport.Kind.STUDIES)},
        "studies:study-detail": {"key": study.key},
        "studies:theme-detail": {
            "key": study.key,
            "theme_key": Theme.objects.filter(study=study).first().key,
        },
        "studies:quote-edit": {
            "key": study.key,
            "quote_key": Quote.objects.filter(study=study).first().key,
        },
        "studies:finding-edit": {
            "key": study.key,
            "finding_key": Finding.objects.filter(study=study).first().key,
        },
        "studies:study-history": {"key": study.key},
        "studies:history-undo": {
            "key": study.key,
            "kind": study_entry.kind,
            "history_id": study_entry.record.history_id,
        },
        "referrals:referral-detail": {"pk": referral.pk},
        "referrals:referral-choose": {"pk": referral.pk},
        "referrals:referral-handout": {"pk": referral.pk},
        "referrals:referral-handout-pdf": {"pk": referral.pk},
        "referrals:referral-void": {"pk": referral.pk},
        "referrals:referral-meeting-calendar": {
            "pk": referral.pk,
            "meeting": online_meeting_of(referral).pk,
        },
        "referrals:follow-up": {"pk": referral.pk, "checkpoint": "first_meeting"},
        "referrals:dashboard-csv": {"table": "chosen"},
    }
    return people, kwargs


def _upload(people, kind: str):
    """A file the catalog admin uploaded (the export, which changes nothing), by id."""
    exported = (catalog_export if kind == PendingImport.Kind.CATALOG else studies_export)()
    pending = PendingImport.keep(
        kind=kind, filename="export.json", data=exported, user=people["catalog_admin"]
    )
    return pending.pk


def _feed_upload(people, feed):
    """A Meeting Guide file of no meetings the catalog admin uploaded into ``feed``."""
    pending = PendingImport.keep(
        kind=PendingImport.Kind.MEETINGS,
        filename="feed.json",
        data=b"[]",
        user=people["catalog_admin"],
        target=feed.key,
    )
    return pending.pk


def _client(people, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        # Fresh from the database: logging out everywhere changed its session token.
        people[persona].refresh_from_db()
        client.force_login(people[persona])
    return client


def _request(client: Client, name: str, method: str, url: str, people, persona: str):
    if name == "api:match_profile":
        headers = {}
        if persona != "anonymous":
            _token, key = ApiToken.issue(people[persona], "matrix")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        body = json.dumps({"reference": "P-0042", "country": "NO"})
        return client.post(url, body, content_type="application/json", **headers)
    if method == "POST":
        data = (
            {"group": "aa", "language": "nb", "next": "/"}
            if "choose" in name or name == "set_language"
            else {}
        )
        return client.post(url, data)
    return client.get(url)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_role_gets_exactly_what_it_may_have(world, persona):
    from django.urls import reverse

    people, kwargs = world
    problems = []
    for name, (method, expected_by_persona) in MATRIX.items():
        expected = (
            ANONYMOUS.get(name, LOGIN) if persona == "anonymous" else expected_by_persona[persona]
        )
        url = reverse(name, kwargs=kwargs.get(name))
        response = _request(_client(people, persona), name, method, url, people, persona)
        if expected == LOGIN:
            got_login = response.status_code == 302 and response["Location"].startswith(
                "/accounts/login/"
            )
            if not got_login:
                problems.append(
                    f"{method} {url}: expected the log-in page, got {response.status_code}"
                )
        elif response.status_code != expected:
            problems.append(f"{method} {url}: expected {expected}, got {response.status_code}")
    assert not problems, "\n".join(problems)


def test_another_organisations_referral_ids_all_answer_404(world, other_organisation):
    """Identifier guessing: every referral id of the first organisation, on every
    referral address, is 'not found' for a counsellor and a supervisor elsewhere."""
    people, _kwargs = world
    from referrals.models import Referral

    ids = list(Referral.objects.values_list("pk", flat=True))
    ids.append(max(ids) + 1)  # and one that does not exist: the same answer
    for persona in ("outsider", "outsider_supervisor"):
        client = _client(people, persona)
        for pk in ids:
            for path in (f"/referrals/{pk}/", f"/referrals/{pk}/handout/"):
                assert client.get(path).status_code == 404, (persona, path)
            if persona == "outsider":
                assert client.post(f"/referrals/{pk}/choose/", {"group": "aa"}).status_code == 404
                assert client.get(f"/referrals/{pk}/follow-up/first_meeting/").status_code == 404
