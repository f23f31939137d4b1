"""Export and import of studies, in the JSON format of the shipped evidence.

A study travels whole: its theme tree, participants, quotes, reference texts and
findings. A file is checked completely before anything is written, and written
in one transaction; an invalid file is rejected with every problem located
(``studies[0].quotes[3].speaker``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import log
from catalog.models import Group, Trait
from studies.models import (
    Finding,
    FindingTrait,
    Participant,
    Quote,
    ReferenceText,
    Study,
    Theme,
    quote_errors,
)
from studies.sources import is_source_text

FORMAT_NAME = "recovery-menu-studies"
FORMAT_VERSION = 1
IMPORT_REASON = gettext_noop("Imported from a file")

STUDY_FIELDS = (
    "key",
    "title",
    "authors",
    "year",
    "journal",
    "citation_detail",
    "doi",
    "country",
    "method",
    "framework",
    "sample",
    "source_text",
)
STUDY_KEYS = (*STUDY_FIELDS, "themes", "participants", "quotes", "reference_texts", "findings")
THEME_KEYS = ("key", "name", "level", "description", "children")
PARTICIPANT_CORE = ("pseudonym", "age", "gender")
QUOTE_KEYS = (
    "key",
    "text",
    "speaker",
    "themes",
    "language",
    "translated",
    "original_language",
    "locator",
    "kind",
)
REFERENCE_KEYS = ("key", "title", "items")
FINDING_KEYS = (
    "key",
    "theme",
    "quote",
    "traits",
    "summary",
    "fellowship",
    "locator",
    "counsellor_text",
    "patient_text",
    "applies_when",
)
TRAIT_LINK_KEYS = ("trait", "direction")


class StudiesImportError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportSummary:
    created: int
    replaced: int
    unchanged: int


# --- Export -----------------------------------------------------------------


def _theme_tree(themes: list[Theme]) -> list[dict[str, Any]]:
    children: dict[int | None, list[Theme]] = {}
    for theme in themes:
        children.setdefault(theme.parent_id, []).append(theme)

    def node(theme: Theme) -> dict[str, Any]:
        return {
            "key": theme.key,
            "name": theme.name,
            "level": theme.level,
            "description": theme.description,
            "children": [node(child) for child in children.get(theme.pk, [])],
        }

    return [node(theme) for theme in children.get(None, [])]


def export_study(study: Study) -> dict[str, Any]:
    themes = list(study.themes.order_by("position"))
    keys = {theme.pk: theme.key for theme in themes}
    quotes = study.quotes.select_related("speaker").prefetch_related("themes")
    findings = study.findings.select_related("theme", "quote").prefetch_related(
        "trait_links__trait"
    )
    return {
        **{name: str(getattr(study, name)) for name in STUDY_FIELDS if name != "year"},
        "year": study.year,
        "themes": _theme_tree(themes),
        "participants": [
            {
                "pseudonym": participant.pseudonym,
                "age": participant.age,
                "gender": participant.gender,
                **participant.details,
            }
            for participant in study.participants.all()
        ],
        "quotes": [
            {
                "key": quote.key,
                "text": quote.text,
                "speaker": quote.speaker.pseudonym if quote.speaker else None,
                "themes": sorted(
                    (keys[theme.pk] for theme in quote.themes.all()),
                    key=[t.key for t in themes].index,
                ),
                "language": quote.language,
                "translated": quote.translated,
                "original_language": quote.original_language,
                "locator": quote.locator,
                "kind": quote.kind,
            }
            for quote in quotes
        ],
        "reference_texts": [
            {"key": text.key, "title": text.title, "items": text.items}
            for text in study.reference_texts.all()
        ],
        "findings": [
            {
                "key": finding.key,
                "theme": finding.theme.key,
                "quote": finding.quote.key if finding.quote else None,
                "traits": [
                    {"trait": link.trait.key, "direction": link.direction}
                    for link in finding.trait_links.all()
                ],
                "summary": finding.summary,
                "fellowship": finding.fellowship,
                "locator": finding.locator,
                "counsellor_text": finding.counsellor_text,
                "patient_text": finding.patient_text,
                "applies_when": finding.applies_when,
            }
            for finding in findings
        ],
    }


def export_json(studies: list[Study] | None = None) -> bytes:
    selected = studies if studies is not None else list(Study.objects.order_by("key"))
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "studies": [export_study(study) for study in selected],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


# --- Parsing and validation -------------------------------------------------


def parse_json(data: bytes, name: str = "the file") -> dict[str, Any]:
    if not data.strip():
        raise StudiesImportError([_("%(name)s is empty.") % {"name": name}])
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise StudiesImportError(
            [_("%(name)s is not UTF-8 text. Save it as UTF-8 and try again.") % {"name": name}]
        ) from error
    except RecursionError as error:
        raise StudiesImportError(
            [_("%(name)s is nested too deeply to be a catalog.") % {"name": name}]
        ) from error
    except json.JSONDecodeError as error:
        raise StudiesImportError(
            [
                _("%(name)s is not valid JSON: %(message)s (line %(line)d, column %(column)d).")
                % {"name": name, "message": error.msg, "line": error.lineno, "column": error.colno}
            ]
        ) from error
    if not isinstance(payload, dict) or (payload.get("format"), payload.get("version")) != (
        FORMAT_NAME,
        FORMAT_VERSION,
    ):
        raise StudiesImportError(
            [
                _('%(name)s: "format" must be "%(format)s" and "version" %(version)d.')
                % {"name": name, "format": FORMAT_NAME, "version": FORMAT_VERSION}
            ]
        )
    if not isinstance(payload.get("studies"), list) or not payload["studies"]:
        raise StudiesImportError(
            [_('%(name)s: "studies" must be a non-empty list.') % {"name": name}]
        )
    return payload


class _Checker:
    """Collects every problem of a document, each with where it is."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def keys(
        self, where: str, item: object, expected: tuple[str, ...], *, extra: bool = False
    ) -> bool:
        if not isinstance(item, dict):
            self.add(where, _("expected an object."))
            return False
        missing = [key for key in expected if key not in item]
        unknown = [] if extra else sorted(str(key) for key in set(item) - set(expected))
        if missing or unknown:
            self.add(
                where,
                _(
                    "missing field(s): %(missing)s; unknown field(s): %(unknown)s; "
                    "expected: %(expected)s."
                )
                % {
                    "missing": ", ".join(missing) or "-",
                    "unknown": ", ".join(unknown) or "-",
                    "expected": ", ".join(expected),
                },
            )
            return False
        return True

    def texts(self, where: str, item: dict[str, Any], names: tuple[str, ...]) -> bool:
        """Identifiers and references must be text (a quote's speaker may be null)."""
        wrong = [
            name
            for name in names
            if name in item
            and not isinstance(item[name], str)
            and not (item[name] is None and name in ("speaker", "quote"))
        ]
        if wrong:
            self.add(where, _("field(s) %(fields)s must be text.") % {"fields": ", ".join(wrong)})
        return not wrong

    def items_of(self, where: str, item: dict[str, Any], key: str) -> list[Any]:
        value = item.get(key)
        if not isinstance(value, list):
            self.add(f"{where}.{key}", _("must be a list."))
            return []
        return value

    def located(self, where: str, errors: dict[str, list[ValidationError]]) -> None:
        for field, problems in errors.items():
            for problem in problems:
                for message in problem.messages:
                    self.add(f"{where}.{field}", message)

    def clean(self, where: str, instance: models.Model, exclude: list[str]) -> None:
        """The fields' own checks. The models' clean() reads the database for what the
        file holds itself, so the import checks those rules against the file."""
        try:
            instance.clean_fields(exclude=exclude)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    allowed = _allowed(instance, field)
                    self.add(f"{where}.{field}", f"{message}{allowed}")

    def unique(self, where: str, values: list[str], what: str) -> None:
        seen: set[str] = set()
        for value in values:
            if value in seen:
                self.add(
                    where, _("%(what)s “%(value)s” appears twice.") % {"what": what, "value": value}
                )
            seen.add(value)


def _allowed(instance: models.Model, field_name: str) -> str:
    try:
        field = instance._meta.get_field(field_name)
    except Exception:
        return ""
    choices = getattr(field, "choices", None)
    if not choices or field_name == "country":
        return ""
    return " " + _("Allowed: %(values)s.") % {"values": ", ".join(str(v) for v, _l in choices)}


@dataclass
class _Plan:
    """One study of the file, checked and ready to write."""

    data: dict[str, Any]
    study: Study
    themes: list[tuple[Theme, str | None]]  # (theme, parent key)
    participants: list[Participant]
    quotes: list[tuple[Quote, str | None, list[str]]]  # (quote, speaker, theme keys)
    references: list[ReferenceText]
    findings: list[tuple[Finding, str, str | None, list[tuple[str, str]]]]


def _named(where: str, item: object) -> str:
    """A place in the file with the key of what is there: ``studies[0] (vederhus-2020)``."""
    key = item.get("key") if isinstance(item, dict) else None
    return f"{where} ({key})" if isinstance(key, str) and key else where


def _check_study(
    where: str, data: Any, check: _Checker, trait_keys: set[str], group_slugs: set[str]
) -> _Plan | None:
    where = _named(where, data)
    if not check.keys(where, data, STUDY_KEYS) or not check.texts(
        where, data, ("key", "doi", "source_text")
    ):
        return None
    if data["source_text"] and not is_source_text(data["source_text"]):
        check.add(
            f"{where}.source_text",
            _("“%(file)s” is not a source text shipped in studies/data/sources/.")
            % {"file": data["source_text"]},
        )
    study = Study(**{name: data[name] for name in STUDY_FIELDS})
    check.clean(where, study, exclude=[])
    plan = _Plan(data, study, [], [], [], [], [])

    def walk(nodes: list[Any], parent: str | None, path: str) -> None:
        for index, node in enumerate(nodes):
            node_where = f"{path}[{index}]"
            if not check.keys(node_where, node, THEME_KEYS) or not check.texts(
                node_where, node, ("key",)
            ):
                continue
            theme = Theme(key=node["key"], name=node["name"], level=node["level"])
            theme.description = node["description"]
            check.clean(node_where, theme, exclude=["study", "parent"])
            plan.themes.append((theme, parent))
            walk(
                check.items_of(node_where, node, "children"), node["key"], f"{node_where}.children"
            )

    walk(check.items_of(where, data, "themes"), None, f"{where}.themes")
    theme_keys = [theme.key for theme, _parent in plan.themes]
    check.unique(f"{where}.themes", theme_keys, _("theme key"))

    for index, item in enumerate(check.items_of(where, data, "participants")):
        item_where = f"{where}.participants[{index}]"
        if not check.keys(item_where, item, PARTICIPANT_CORE, extra=True) or not check.texts(
            item_where, item, ("pseudonym",)
        ):
            continue
        details = {k: v for k, v in item.items() if k not in PARTICIPANT_CORE}
        if any(not isinstance(v, str | int | float) for v in details.values()):
            check.add(item_where, _("details must be single values."))
        participant = Participant(
            pseudonym=item["pseudonym"], age=item["age"], gender=item["gender"], details=details
        )
        check.clean(item_where, participant, exclude=["study"])
        plan.participants.append(participant)
    pseudonyms = [participant.pseudonym for participant in plan.participants]
    check.unique(f"{where}.participants", pseudonyms, _("pseudonym"))

    for index, item in enumerate(check.items_of(where, data, "quotes")):
        item_where = _named(f"{where}.quotes[{index}]", item)
        if not check.keys(item_where, item, QUOTE_KEYS) or not check.texts(
            item_where, item, ("key", "speaker", "text", "kind")
        ):
            continue
        quote = Quote(**{k: item[k] for k in QUOTE_KEYS if k not in ("speaker", "themes")})
        check.clean(item_where, quote, exclude=["study", "speaker"])
        source = data["source_text"] if is_source_text(data["source_text"]) else ""
        check.located(
            item_where,
            quote_errors(
                text=item["text"],
                kind=item["kind"],
                has_speaker=item["speaker"] is not None,
                source=source,
            ),
        )
        if item["speaker"] is not None and item["speaker"] not in pseudonyms:
            check.add(
                f"{item_where}.speaker",
                _("“%(speaker)s” is not a participant of this study.")
                % {"speaker": item["speaker"]},
            )
        themes = item["themes"] if isinstance(item["themes"], list) else []
        if not all(isinstance(key, str) for key in themes):
            check.add(f"{item_where}.themes", _("must be a list of theme keys."))
            themes = [key for key in themes if isinstance(key, str)]
        if not themes:
            check.add(f"{item_where}.themes", _("a quote illustrates at least one theme."))
        for key in themes:
            if key not in theme_keys:
                check.add(f"{item_where}.themes", _("unknown theme “%(key)s”.") % {"key": key})
        plan.quotes.append((quote, item["speaker"], themes))
    quote_keys = [quote.key for quote, _s, _t in plan.quotes]
    check.unique(f"{where}.quotes", quote_keys, _("quote key"))

    for index, item in enumerate(check.items_of(where, data, "reference_texts")):
        item_where = f"{where}.reference_texts[{index}]"
        if not check.keys(item_where, item, REFERENCE_KEYS) or not check.texts(
            item_where, item, ("key",)
        ):
            continue
        reference = ReferenceText(key=item["key"], title=item["title"], items=item["items"])
        check.clean(item_where, reference, exclude=["study"])
        plan.references.append(reference)

    kinds = {quote.key: quote.kind for quote, _s, _t in plan.quotes}
    for index, item in enumerate(check.items_of(where, data, "findings")):
        item_where = _named(f"{where}.findings[{index}]", item)
        if not check.keys(item_where, item, FINDING_KEYS) or not check.texts(
            item_where, item, ("key", "theme", "quote", "fellowship")
        ):
            continue
        finding = Finding(
            key=item["key"],
            summary=item["summary"],
            fellowship=item["fellowship"],
            locator=item["locator"],
            counsellor_text=item["counsellor_text"],
            patient_text=item["patient_text"],
            applies_when=item["applies_when"],
        )
        # The model's clean() looks the quote and the group up in the database; the
        # file's own quotes and the catalog's groups are checked here instead.
        check.clean(item_where, finding, exclude=["study", "theme", "quote"])
        if item["theme"] not in theme_keys:
            check.add(f"{item_where}.theme", _("unknown theme “%(key)s”.") % {"key": item["theme"]})
        if item["quote"] is not None and item["quote"] not in quote_keys:
            check.add(f"{item_where}.quote", _("unknown quote “%(key)s”.") % {"key": item["quote"]})
        elif kinds.get(item["quote"]) == Quote.Kind.PHRASE:
            check.add(
                f"{item_where}.quote",
                _(
                    "“%(key)s” is a phrase the authors quote in their own account; a "
                    "finding's illustrating quote is a participant's block or inline quote, "
                    "or null."
                )
                % {"key": item["quote"]},
            )
        if item["fellowship"] and item["fellowship"] not in group_slugs:
            check.add(
                f"{item_where}.fellowship",
                _("“%(slug)s” is not a group of the catalog.") % {"slug": item["fellowship"]},
            )
        links: list[tuple[str, str]] = []
        for link_index, link in enumerate(check.items_of(item_where, item, "traits")):
            link_where = f"{item_where}.traits[{link_index}]"
            if not check.keys(link_where, link, TRAIT_LINK_KEYS) or not check.texts(
                link_where, link, ("trait", "direction")
            ):
                continue
            if link["trait"] not in trait_keys:
                check.add(
                    f"{link_where}.trait",
                    _("unknown trait “%(trait)s”. Allowed: %(allowed)s.")
                    % {"trait": link["trait"], "allowed": ", ".join(sorted(trait_keys))},
                )
            if link["direction"] not in FindingTrait.Direction.values:
                check.add(
                    f"{link_where}.direction",
                    _("Allowed: %(values)s.")
                    % {"values": ", ".join(FindingTrait.Direction.values)},
                )
            links.append((link["trait"], link["direction"]))
        if not links:
            check.add(f"{item_where}.traits", _("a finding speaks to at least one trait."))
        plan.findings.append((finding, item["theme"], item["quote"], links))
    check.unique(f"{where}.findings", [f.key for f, _t, _q, _l in plan.findings], _("finding key"))
    return plan


def validate(payload: dict[str, Any]) -> list[_Plan]:
    check = _Checker()
    trait_keys = set(Trait.objects.values_list("key", flat=True))
    group_slugs = set(Group.objects.values_list("slug", flat=True))
    plans = []
    for index, data in enumerate(payload["studies"]):
        plan = _check_study(f"studies[{index}]", data, check, trait_keys, group_slugs)
        if plan is not None:
            plans.append(plan)
    check.unique("studies", [plan.study.key for plan in plans], _("study key"))
    check.unique("studies", [plan.study.doi for plan in plans], _("DOI"))
    taken = dict(Study.objects.values_list("doi", "key"))
    for index, plan in enumerate(plans):
        owner = taken.get(plan.study.doi)
        if owner is not None and owner != plan.study.key:
            check.add(
                f"studies[{index}].doi",
                _("DOI %(doi)s belongs to the study “%(key)s” already.")
                % {"doi": plan.study.doi, "key": owner},
            )
    if check.errors:
        raise StudiesImportError(check.errors)
    return plans


# --- Writing ----------------------------------------------------------------


def _write(plan: _Plan, study: Study, reason: str) -> None:
    themes: dict[str, Theme] = {}
    for position, (theme, parent) in enumerate(plan.themes):
        theme.study, theme.parent, theme.position = study, themes.get(parent or ""), position
        theme._change_reason = reason  # type: ignore[attr-defined]
        theme.save()
        themes[theme.key] = theme
    participants: dict[str, Participant] = {}
    for position, participant in enumerate(plan.participants):
        participant.study, participant.position = study, position
        participant._change_reason = reason  # type: ignore[attr-defined]
        participant.save()
        participants[participant.pseudonym] = participant
    quotes: dict[str, Quote] = {}
    for position, (quote, speaker, theme_keys) in enumerate(plan.quotes):
        quote.study, quote.position = study, position
        quote.speaker = participants[speaker] if speaker else None
        quote._change_reason = reason  # type: ignore[attr-defined]
        quote.save()
        quote.themes.set([themes[key] for key in theme_keys])
        quotes[quote.key] = quote
    for reference in plan.references:
        reference.study = study
        reference.save()
    traits = {trait.key: trait for trait in Trait.objects.all()}
    for position, (finding, theme_key, quote_key, links) in enumerate(plan.findings):
        finding.study, finding.position = study, position
        finding.theme = themes[theme_key]
        finding.quote = quotes[quote_key] if quote_key else None
        finding._change_reason = reason  # type: ignore[attr-defined]
        finding.save()
        for trait_key, direction in links:
            FindingTrait.objects.create(
                finding=finding, trait=traits[trait_key], direction=direction
            )


@transaction.atomic
@log.batch()
def apply(payload: dict[str, Any], *, reason: str, overwrite: bool = True) -> ImportSummary:
    """Write checked studies.

    A study new to the database is created. With ``overwrite`` (an admin's import)
    a study already present is replaced by the file's version, unless they are the
    same; without it (loading the shipped evidence) a present study is kept as
    curated.
    """
    plans = validate(payload)
    created = replaced = unchanged = 0
    existing = {study.key: study for study in Study.objects.all()}
    for plan in plans:
        study = existing.get(plan.study.key)
        if study is not None:
            if not overwrite or export_study(study) == _normalised(plan.data):
                unchanged += 1
                continue
            for related in (study.findings, study.quotes, study.reference_texts):
                related.all().delete()
            study.participants.all().delete()
            study.themes.all().delete()
            for name in STUDY_FIELDS:
                setattr(study, name, getattr(plan.study, name))
            replaced += 1
        else:
            study = plan.study
            created += 1
        study._change_reason = reason  # type: ignore[attr-defined]
        study.save()
        _write(plan, study, reason)
    return ImportSummary(created=created, replaced=replaced, unchanged=unchanged)


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """The file's study as the export would write it, for comparison."""
    normalised: dict[str, Any] = json.loads(json.dumps(data))
    return normalised
