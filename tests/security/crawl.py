"""Every page of the site, found by walking the URLconf, with its URL arguments filled
from real objects; and the forms of a page, as a browser would submit them.

The security tests request what `routes()` finds, so a view added later is covered
without being listed. A URL pattern that takes arguments needs a line in `ARGUMENTS`
saying which objects fill them; until it has one, `paths()` fails and names it.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from catalog import interchange as catalog_interchange
from catalog import meeting_import
from catalog.feed_views import TEMPLATE
from catalog.history import group_history, meeting_history
from catalog.models import Group, Meeting, MeetingFeed, MeetingSlot, Source
from curation.history import HistoryEntry
from curation.models import PendingImport
from referrals.exports import TABLES
from referrals.followup import Checkpoint, Outcome
from referrals.matching import match
from referrals.models import Referral
from referrals.profile import parse_profile
from referrals.services import record_choice, record_follow_up, save_referral
from referrals.snapshot import current_snapshot
from studies import interchange as studies_interchange
from studies.history import study_history
from studies.models import Finding, Quote, Study, Theme
from tests.referrals.test_interfaces import PROFILE


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str | None
    arguments: tuple[str, ...]

    def __str__(self) -> str:
        return self.name or f"/{self.pattern}"


def routes() -> list[Route]:
    """Every URL pattern of the site but Django's admin (its views have their own CSRF
    protection and escaping, tested by Django)."""
    return list(_walk(get_resolver().url_patterns, prefix="", namespace=None, arguments=()))


def _walk(
    patterns: list[Any], *, prefix: str, namespace: str | None, arguments: tuple[str, ...]
) -> Iterator[Route]:
    for entry in patterns:
        names = arguments + _arguments(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(
                entry.url_patterns,
                prefix=prefix + str(entry.pattern),
                namespace=inner,
                arguments=names,
            )
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield Route(pattern=prefix + str(entry.pattern), name=name, arguments=names)


def _arguments(pattern: Any) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters is not None:
        return tuple(converters)
    return tuple(pattern.regex.groupindex)  # a re_path()


@dataclass(frozen=True)
class World:
    """Real objects of the personas' organisation, to fill URL arguments with."""

    referral: Referral
    group: Group
    source: Source
    study: Study
    theme: Theme
    quote: Quote
    finding: Finding
    group_change: HistoryEntry
    study_change: HistoryEntry
    catalog_upload: PendingImport
    studies_upload: PendingImport
    feed: MeetingFeed
    feed_upload: PendingImport


def online_meeting_of(referral: Referral) -> Meeting:
    """An online meeting of the referral's chosen group: one its handout lists."""
    meeting = Meeting.objects.create(
        group=Group.objects.get(slug=referral.chosen_group),
        name="Online meeting",
        attendance=Meeting.Attendance.ONLINE,
        online_url="https://meet.example.org/online",
    )
    MeetingSlot.objects.create(
        meeting=meeting, weekday=0, starts=datetime.time(19), timezone="Europe/Oslo"
    )
    return meeting


def build_world(counsellor: User) -> World:
    """A referral of the counsellor with a choice and a first follow-up, and an
    undoable change in a group's and a study's history. Needs the reference data.

    The history changes overwrite a column of rows other than the quote whose edit
    page is requested, so that text planted before (test_script_injection.py) stays
    on that page."""
    profile = {**PROFILE, "reference": "P-0900"}
    referral = save_referral(
        counsellor=counsellor,
        profile=profile,
        menu=match(parse_profile(profile), current_snapshot()),
        language="en",
    )
    record_choice(referral=referral, group=referral.options[0]["group"])
    record_follow_up(
        referral=referral,
        recorded_by=counsellor,
        checkpoint=Checkpoint.FIRST_MEETING,
        outcome=Outcome.ATTENDED,
        first_meeting_on=timezone.localdate(),
    )
    group = Group.objects.get(slug="na")
    value = group.trait_values.select_related("trait").first()
    value.note = "Checked again."
    value.save()
    study = Study.objects.get(key="vederhus-2020")
    quote, changed = study.quotes.order_by("position")[:2]
    changed.locator = "Results, first paragraph"
    changed.save()
    finding = study.findings.select_related("theme").order_by("position").first()
    return World(
        referral=Referral.objects.get(pk=referral.pk),
        group=group,
        source=Source.objects.order_by("key").first(),
        study=study,
        theme=finding.theme,
        quote=quote,
        finding=finding,
        group_change=next(entry for entry in group_history(group) if entry.can_undo),
        study_change=next(entry for entry in study_history(study) if entry.can_undo),
        **_uploads(counsellor),
    )


def _uploads(counsellor: User) -> dict[str, Any]:
    """Files a catalog admin of the organisation uploaded, waiting for their preview to be
    applied: one that adds a source to the catalog (and names no group, so that what it
    changes stays the same whatever other forms change meanwhile), and the studies as
    they are."""
    curator = (
        User.objects.filter(
            organisation_id=counsellor.organisation_id, groups__name=Role.CATALOG_ADMIN
        ).first()
        or counsellor
    )
    catalog = {
        "format": catalog_interchange.FORMAT_NAME,
        "version": catalog_interchange.FORMAT_VERSION,
        "sources": [
            {"key": "uploaded", "title": "Uploaded", "publisher": "", "url": "", "kind": "primary"}
        ],
        "groups": [],
    }
    feed = meeting_import.ensure_feed(
        "aa-by-hand", format=MeetingFeed.Format.CSV, group=None, name="Meetings by hand"
    )
    return {
        "feed": feed,
        # The CSV template's first example, as a meeting of its own: applying it adds it.
        "feed_upload": PendingImport.keep(
            kind=PendingImport.Kind.MEETINGS,
            filename="meetings.csv",
            data=b"".join(
                TEMPLATE.read_bytes().splitlines(keepends=True)[i] for i in (0, 2)
            ).replace(b"#example-1", b"example-1"),
            user=curator,
            target=feed.key,
        ),
        "catalog_upload": PendingImport.keep(
            kind=PendingImport.Kind.CATALOG,
            filename="catalog.json",
            data=json.dumps(catalog).encode(),
            user=curator,
        ),
        "studies_upload": PendingImport.keep(
            kind=PendingImport.Kind.STUDIES,
            filename="studies.json",
            data=studies_interchange.export_json(),
            user=curator,
        ),
    }


def _meeting_undo(meeting: Meeting) -> dict[str, Any]:
    entry = next(e for e in meeting_history(meeting) if e.can_undo)
    return {"pk": meeting.pk, **_undo(entry)}


def _undo(entry: HistoryEntry) -> dict[str, Any]:
    return {"kind": entry.kind, "history_id": entry.record.history_id}


# How to fill the arguments of each URL pattern that takes some: one dict per page.
ARGUMENTS: dict[str, Callable[[World], list[dict[str, Any]]]] = {
    "catalog:group-detail": lambda w: [{"slug": w.group.slug}],
    "catalog:meeting-detail": lambda w: [{"pk": online_meeting_of(w.referral).pk}],
    "catalog:meeting-edit": lambda w: [{"pk": online_meeting_of(w.referral).pk}],
    "catalog:meeting-retire": lambda w: [{"pk": online_meeting_of(w.referral).pk}],
    "catalog:meeting-history": lambda w: [{"pk": online_meeting_of(w.referral).pk}],
    "catalog:meeting-history-undo": lambda w: [_meeting_undo(online_meeting_of(w.referral))],
    "catalog:group-edit": lambda w: [{"slug": w.group.slug}],
    "catalog:group-history": lambda w: [{"slug": w.group.slug}],
    "catalog:history-undo": lambda w: [{"slug": w.group.slug, **_undo(w.group_change)}],
    "catalog:source-edit": lambda w: [{"key": w.source.key}],
    "catalog:catalog-import-preview": lambda w: [{"pk": w.catalog_upload.pk}],
    "catalog:feed-edit": lambda w: [{"key": w.feed.key}],
    "catalog:feed-import": lambda w: [{"key": w.feed.key}],
    "catalog:feed-import-preview": lambda w: [{"key": w.feed.key, "pk": w.feed_upload.pk}],
    "studies:studies-import-preview": lambda w: [{"pk": w.studies_upload.pk}],
    "studies:study-detail": lambda w: [{"key": w.study.key}],
    "studies:theme-detail": lambda w: [{"key": w.study.key, "theme_key": w.theme.key}],
    "studies:quote-edit": lambda w: [{"key": w.study.key, "quote_key": w.quote.key}],
    "studies:finding-edit": lambda w: [{"key": w.study.key, "finding_key": w.finding.key}],
    "studies:study-history": lambda w: [{"key": w.study.key}],
    "studies:history-undo": lambda w: [{"key": w.study.key, **_undo(w.study_change)}],
    "referrals:referral-detail": lambda w: [{"pk": w.referral.pk}],
    "referrals:referral-choose": lambda w: [{"pk": w.referral.pk}],
    "referrals:referral-handout": lambda w: [{"pk": w.referral.pk}],
    "referrals:referral-handout-pdf": lambda w: [{"pk": w.referral.pk}],
    "referrals:referral-void": lambda w: [{"pk": w.referral.pk}],
    "referrals:referral-meeting-calendar": lambda w: [
        {"pk": w.referral.pk, "meeting": online_meeting_of(w.referral).pk}
    ],
    "referrals:follow-up": lambda w: [
        {"pk": w.referral.pk, "checkpoint": checkpoint} for checkpoint in Checkpoint.values
    ],
    "referrals:dashboard-csv": lambda w: [{"table": table} for table in TABLES],
}


def paths(route: Route, world: World) -> list[str]:
    """The addresses to request for a URL pattern."""
    if not route.arguments:
        return [reverse(route.name) if route.name else f"/{route.pattern}"]
    fill = ARGUMENTS.get(route.name or "")
    if fill is None:
        pytest.fail(
            f"The URL pattern /{route.pattern} ({route.name or 'unnamed'}) takes "
            f"{', '.join(route.arguments)}, and tests/security/crawl.py does not know how "
            "to fill them: add it to ARGUMENTS (and World if it needs a new object), so "
            "that the CSRF and script-injection tests request it."
        )
    return [reverse(route.name, kwargs=kwargs) for kwargs in fill(world)]


def browser(user: User | None = None) -> Client:
    """A client whose requests are checked for CSRF tokens, as a browser's are."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        # As the database has it: "log out everywhere" changes what signs a session.
        user.refresh_from_db()
        client.force_login(user)
    return client


def match_with_token(user: User) -> Any:
    """POST the contract's example profile to the match API with a bearer token, and
    no CSRF token."""
    from accounts.models import ApiToken

    _token, key = ApiToken.issue(user, "security tests")
    return browser().post(
        "/api/v1/match",
        json.dumps(PROFILE),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def submit(client: Client, path: str, data: dict[str, list[str]], *, multipart: bool) -> Any:
    """POST form data encoded as a browser encodes the form."""
    if multipart:
        return client.post(path, data)
    return client.post(
        path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
    )


def every_path(world: World) -> list[tuple[Route, str]]:
    return [(route, path) for route in routes() for path in paths(route, world)]


# --- Forms and links of a page -----------------------------------------------


@dataclass
class Field:
    name: str
    value: str
    kind: str  # an <input>'s type, or "select" or "textarea"


@dataclass
class Form:
    method: str
    action: str  # a path
    multipart: bool = False
    fields: list[Field] = field(default_factory=list)

    def data(self) -> dict[str, list[str]]:
        """What a browser submits for the form unchanged (with its default button)."""
        data: dict[str, list[str]] = {}
        for item in self.fields:
            data.setdefault(item.name, []).append(item.value)
        return data


@dataclass
class Page:
    forms: list[Form] = field(default_factory=list)
    query_names: set[str] = field(default_factory=set)  # of links and GET forms


class _PageParser(HTMLParser):
    def __init__(self, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.page = Page()
        self.form: Form | None = None
        self.submitted = False  # the form's default button is in
        self.select: tuple[str, bool] | None = None  # name, multiple
        self.options: list[tuple[str, bool]] = []  # value, selected
        self.option: dict[str, str | None] | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        attrs = dict(attributes)
        if tag == "option" and self.select is not None:
            self.option = {"value": attrs.get("value"), "selected": attrs.get("selected", "-")}
            self.text = ""
        elif tag == "a" and attrs.get("href"):
            query = urlsplit(attrs["href"] or "").query
            self.page.query_names.update(name for name, _value in parse_qsl(query))
        elif tag == "form":
            action = urlsplit(urljoin(self.path, attrs.get("action") or self.path)).path
            self.form = Form(
                method=(attrs.get("method") or "get").lower(),
                action=action,
                multipart=attrs.get("enctype") == "multipart/form-data",
            )
            self.submitted = False
            self.page.forms.append(self.form)
        elif self.form is None or "disabled" in attrs or not attrs.get("name"):
            return
        elif tag == "input":
            self._input(attrs)
        elif tag == "button" and (attrs.get("type") or "submit") == "submit":
            self._button(attrs)
        elif tag == "select":
            self.select = (attrs["name"] or "", "multiple" in attrs)
            self.options = []
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.text = ""

    def _input(self, attrs: dict[str, str | None]) -> None:
        assert self.form is not None
        kind = (attrs.get("type") or "text").lower()
        name, value = attrs["name"] or "", attrs.get("value") or ""
        if kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self.form.fields.append(Field(name, value or "on", kind))
        elif kind == "submit":
            self._button(attrs)
        elif kind not in ("file", "image", "reset", "button"):
            self.form.fields.append(Field(name, value, kind))

    def _button(self, attrs: dict[str, str | None]) -> None:
        assert self.form is not None
        if not self.submitted:
            self.form.fields.append(Field(attrs["name"] or "", attrs.get("value") or "", "submit"))
            self.submitted = True

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self.option is not None:
            value = self.option["value"]
            self.options.append(
                (self.text.strip() if value is None else value, self.option["selected"] != "-")
            )
            self.option = None
        elif tag == "select" and self.select is not None and self.form is not None:
            name, multiple = self.select
            chosen = [value for value, selected in self.options if selected]
            if not chosen and not multiple and self.options:
                chosen = [self.options[0][0]]
            self.form.fields.extend(Field(name, value, "select") for value in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            # A browser drops the one newline that may follow <textarea>.
            value = self.text[1:] if self.text.startswith("\n") else self.text
            self.form.fields.append(Field(self.textarea, value, "textarea"))
            self.textarea = None
        elif tag == "form":
            if self.form is not None and self.form.method == "get":
                self.page.query_names.update(item.name for item in self.form.fields)
            self.form = None


def parse_page(path: str, html: str) -> Page:
    parser = _PageParser(path)
    parser.feed(html)
    parser.close()
    return parser.page
