"""Export and import of studies, in the JSON format of the shipped evidence.

A study travels whole: its theme tree, participants, quotes, reference texts and
findings. An import goes through ``curation``'s engine: the file is read within
limits, checked completely with every problem located by the names a curator
knows (“Study “vederhus-2020”, quote “celine-fifth-step”, field “speaker””),
previewed as the themes, quotes and findings it adds, changes and removes, and
written in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import log
from catalog.models import Group, Trait
from curation.documents import read_json
from curation.imports import Change, ImportRefused, Plan, Problem, Problems
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
# Bounds on what an import reads: the three shipped studies are 90 kB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# document → studies → study → themes → theme → children → … : theme trees are shallow.
MAX_DEPTH = 16

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

# Kinds of change, translated when a preview shows them.
STUDY = gettext_noop("study")
THEME = gettext_noop("theme")
PARTICIPANT = gettext_noop("participant")
QUOTE = gettext_noop("quote")
REFERENCE_TEXT = gettext_noop("reference text")
FINDING = gettext_noop("finding")


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


# --- Parsing and checking ---------------------------------------------------


def parse_json(data: bytes, name: str = "studies.json") -> dict[str, Any]:
    payload = read_json(data, name=name, max_bytes=MAX_UPLOAD_BYTES, max_depth=MAX_DEPTH)
    if not isinstance(payload, dict) or (payload.get("format"), payload.get("version")) != (
        FORMAT_NAME,
        FORMAT_VERSION,
    ):
        raise ImportRefused(
            [
                Problem(
                    name,
                    _("“format” must be “%(format)s” and “version” %(version)d.")
                    % {"format": FORMAT_NAME, "version": FORMAT_VERSION},
                )
            ]
        )
    if not isinstance(payload.get("studies"), list) or not payload["studies"]:
        raise ImportRefused([Problem(name, _("“studies” must be a non-empty list."))])
    return payload


def _at(where: str, name: str) -> str:
    """Where a problem is: the part, and the field named as it is in the file."""
    return _("%(where)s, field “%(field)s”") % {"where": where, "field": name}


def _part(study: str, kind: str, item: object, identity: str, number: int) -> str:
    """``Study “vederhus-2020”, quote “celine-hinge”``; a part without its key by number."""
    value = item.get(identity) if isinstance(item, dict) else None
    if isinstance(value, str) and value:
        return _("%(study)s, %(kind)s “%(key)s”") % {"study": study, "kind": _(kind), "key": value}
    return _("%(study)s, %(kind)s number %(number)d") % {
        "study": study,
        "kind": _(kind),
        "number": number,
    }


class _Checker(Problems):
    """Collects every problem of a document, each with where it is."""

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
            self.add(_at(where, key), _("must be a list."))
            return []
        return value

    def located(self, where: str, errors: dict[str, list[ValidationError]]) -> None:
        for field, problems in errors.items():
            for problem in problems:
                for message in problem.messages:
                    self.add(_at(where, field), message)

    def clean(self, where: str, instance: models.Model, exclude: list[str]) -> None:
        """The fields' own checks. The models' clean() reads the database for what the
        file holds itself, so the import checks those rules against the file."""
        try:
            instance.clean_fields(exclude=exclude)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.add(_at(where, field), f"{message}{_allowed(instance, field)}")

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
class _Checked:
    """One study of the file, checked and ready to write."""

    data: dict[str, Any]
    study: Study
    themes: list[tuple[Theme, str | None]]  # (theme, parent key)
    participants: list[Participant]
    quotes: list[tuple[Quote, str | None, list[str]]]  # (quote, speaker, theme keys)
    references: list[ReferenceText]
    findings: list[tuple[Finding, str, str | None, list[tuple[str, str]]]]


def _check_study(
    number: int, data: Any, check: _Checker, trait_keys: set[str], group_slugs: set[str]
) -> _Checked | None:
    key = data.get("key") if isinstance(data, dict) else None
    if isinstance(key, str) and key:
        where = _("Study “%(key)s”") % {"key": key}
    else:
        where = _("Study number %(number)d") % {"number": number}
    if not check.keys(where, data, STUDY_KEYS) or not check.texts(
        where, data, ("key", "doi", "source_text")
    ):
        return None
    if data["source_text"] and not is_source_text(data["source_text"]):
        check.add(
            _at(where, "source_text"),
            _("“%(file)s” is not a source text shipped in studies/data/sources/.")
            % {"file": data["source_text"]},
        )
    study = Study(**{name: data[name] for name in STUDY_FIELDS})
    check.clean(where, study, exclude=[])
    plan = _Checked(data, study, [], [], [], [], [])

    def walk(nodes: list[Any], parent: str | None) -> None:
        for node in nodes:
            node_where = _part(where, THEME, node, "key", len(plan.themes) + 1)
            if not check.keys(node_where, node, THEME_KEYS) or not check.texts(
                node_where, node, ("key",)
            ):
                continue
            theme = Theme(key=node["key"], name=node["name"], level=node["level"])
            theme.description = node["description"]
            check.clean(node_where, theme, exclude=["study", "parent"])
            plan.themes.append((theme, parent))
            walk(check.items_of(node_where, node, "children"), node["key"])

    walk(check.items_of(where, data, "themes"), None)
    theme_keys = [theme.key for theme, _parent in plan.themes]
    check.unique(where, theme_keys, _("theme key"))

    for number, item in enumerate(check.items_of(where, data, "participants"), start=1):
        item_where = _part(where, PARTICIPANT, item, "pseudonym", number)
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
    check.unique(where, pseudonyms, _("pseudonym"))

    for number, item in enumerate(check.items_of(where, data, "quotes"), start=1):
        item_where = _part(where, QUOTE, item, "key", number)
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
                _at(item_where, "speaker"),
                _("“%(speaker)s” is not a participant of this study.")
                % {"speaker": item["speaker"]},
            )
        themes = item["themes"] if isinstance(item["themes"], list) else []
        if not all(isinstance(key, str) for key in themes):
            check.add(_at(item_where, "themes"), _("must be a list of theme keys."))
            themes = [key for key in themes if isinstance(key, str)]
        if not themes:
            check.add(_at(item_where, "themes"), _("a quote illustrates at least one theme."))
        for key in themes:
            if key not in theme_keys:
                check.add(_at(item_where, "themes"), _("unknown theme “%(key)s”.") % {"key": key})
        plan.quotes.append((quote, item["speaker"], themes))
    quote_keys = [quote.key for quote, _s, _t in plan.quotes]
    check.unique(where, quote_keys, _("quote key"))

    for number, item in enumerate(check.items_of(where, data, "reference_texts"), start=1):
        item_where = _part(where, REFERENCE_TEXT, item, "key", number)
        if not check.keys(item_where, item, REFERENCE_KEYS) or not check.texts(
            item_where, item, ("key",)
        ):
            continue
        reference = ReferenceText(key=item["key"], title=item["title"], items=item["items"])
        check.clean(item_where, reference, exclude=["study"])
        plan.references.append(reference)

    kinds = {quote.key: quote.kind for quote, _s, _t in plan.quotes}
    for number, item in enumerate(check.items_of(where, data, "findings"), start=1):
        item_where = _part(where, FINDING, item, "key", number)
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
            check.add(
                _at(item_where, "theme"), _("unknown theme “%(key)s”.") % {"key": item["theme"]}
            )
        if item["quote"] is not None and item["quote"] not in quote_keys:
            check.add(
                _at(item_where, "quote"), _("unknown quote “%(key)s”.") % {"key": item["quote"]}
            )
        elif kinds.get(item["quote"]) == Quote.Kind.PHRASE:
            check.add(
                _at(item_where, "quote"),
                _(
                    "“%(key)s” is a phrase the authors quote in their own account; a "
                    "finding's illustrating quote is a participant's block or inline quote, "
                    "or null."
                )
                % {"key": item["quote"]},
            )
        if item["fellowship"] and item["fellowship"] not in group_slugs:
            check.add(
                _at(item_where, "fellowship"),
                _("“%(slug)s” is not a group of the catalog.") % {"slug": item["fellowship"]},
            )
        links: list[tuple[str, str]] = []
        for link_number, link in enumerate(check.items_of(item_where, item, "traits"), start=1):
            link_where = _part(item_where, gettext_noop("trait"), link, "trait", link_number)
            if not check.keys(link_where, link, TRAIT_LINK_KEYS) or not check.texts(
                link_where, link, ("trait", "direction")
            ):
                continue
            if link["trait"] not in trait_keys:
                check.add(
                    link_where,
                    _("unknown trait “%(trait)s”. Allowed: %(allowed)s.")
                    % {"trait": link["trait"], "allowed": ", ".join(sorted(trait_keys))},
                )
            if link["direction"] not in FindingTrait.Direction.values:
                check.add(
                    _at(link_where, "direction"),
                    _("Allowed: %(values)s.")
                    % {"values": ", ".join(FindingTrait.Direction.values)},
                )
            links.append((link["trait"], link["direction"]))
        if not links:
            check.add(_at(item_where, "traits"), _("a finding speaks to at least one trait."))
        plan.findings.append((finding, item["theme"], item["quote"], links))
    check.unique(where, [f.key for f, _t, _q, _l in plan.findings], _("finding key"))
    return plan


def validate(payload: dict[str, Any]) -> list[_Checked]:
    """Check every study; raise ``ImportRefused`` with every problem of the document."""
    check = _Checker()
    trait_keys = set(Trait.objects.values_list("key", flat=True))
    group_slugs = set(Group.objects.values_list("slug", flat=True))
    checked = []
    for number, data in enumerate(payload["studies"], start=1):
        study = _check_study(number, data, check, trait_keys, group_slugs)
        if study is not None:
            checked.append(study)
    where = _("The file's studies")
    check.unique(where, [item.study.key for item in checked], _("study key"))
    check.unique(where, [item.study.doi for item in checked], _("DOI"))
    taken = dict(Study.objects.values_list("doi", "key"))
    for item in checked:
        owner = taken.get(item.study.doi)
        if owner is not None and owner != item.study.key:
            check.add(
                _at(_("Study “%(key)s”") % {"key": item.study.key}, "doi"),
                _("DOI %(doi)s belongs to the study “%(key)s” already.")
                % {"doi": item.study.doi, "key": owner},
            )
    check.refuse_if_any()
    return checked


# --- Planning and writing ---------------------------------------------------


def _parts(study: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """A study in the export's format, as its parts by kind and key, to compare."""
    themes: dict[str, dict[str, Any]] = {}

    def walk(nodes: list[dict[str, Any]], parent: str | None) -> None:
        for node in nodes:
            themes[node["key"]] = {
                **{k: v for k, v in node.items() if k != "children"},
                "parent": parent,
            }
            walk(node["children"], node["key"])

    walk(study["themes"], None)
    return {
        STUDY: {study["key"]: {name: study[name] for name in STUDY_FIELDS}},
        THEME: themes,
        PARTICIPANT: {item["pseudonym"]: item for item in study["participants"]},
        QUOTE: {item["key"]: item for item in study["quotes"]},
        REFERENCE_TEXT: {item["key"]: item for item in study["reference_texts"]},
        FINDING: {item["key"]: item for item in study["findings"]},
    }


def _changes(key: str, old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """What replacing a study (or creating it, ``old`` None) changes, part by part."""
    where = _("Study “%(key)s”") % {"key": key}
    before, after = (_parts(old) if old else {}), _parts(new)
    changes = []
    for kind, parts in after.items():
        previous = before.get(kind, {})
        for part_key in [*parts, *(k for k in previous if k not in parts)]:
            name = where if kind == STUDY else f"{where}, {_(kind)} “{part_key}”"
            if part_key not in previous:
                changes.append(Change("create", kind, name))
            elif part_key not in parts:
                changes.append(Change("delete", kind, name))
            else:
                a, b = previous[part_key], parts[part_key]
                fields = tuple(sorted(k for k in {*a, *b} if a.get(k) != b.get(k)))
                changes.append(Change("update" if fields else "unchanged", kind, name, fields))
    return changes


def _write_parts(checked: _Checked, study: Study, reason: str) -> None:
    themes: dict[str, Theme] = {}
    for position, (theme, parent) in enumerate(checked.themes):
        theme.study, theme.parent, theme.position = study, themes.get(parent or ""), position
        theme._change_reason = reason  # type: ignore[attr-defined]
        theme.save()
        themes[theme.key] = theme
    participants: dict[str, Participant] = {}
    for position, participant in enumerate(checked.participants):
        participant.study, participant.position = study, position
        participant._change_reason = reason  # type: ignore[attr-defined]
        participant.save()
        participants[participant.pseudonym] = participant
    quotes: dict[str, Quote] = {}
    for position, (quote, speaker, theme_keys) in enumerate(checked.quotes):
        quote.study, quote.position = study, position
        quote.speaker = participants[speaker] if speaker else None
        quote._change_reason = reason  # type: ignore[attr-defined]
        quote.save()
        quote.themes.set([themes[key] for key in theme_keys])
        quotes[quote.key] = quote
    for reference in checked.references:
        reference.study = study
        reference.save()
    traits = {trait.key: trait for trait in Trait.objects.all()}
    for position, (finding, theme_key, quote_key, links) in enumerate(checked.findings):
        finding.study, finding.position = study, position
        finding.theme = themes[theme_key]
        finding.quote = quotes[quote_key] if quote_key else None
        finding._change_reason = reason  # type: ignore[attr-defined]
        finding.save()
        for trait_key, direction in links:
            FindingTrait.objects.create(
                finding=finding, trait=traits[trait_key], direction=direction
            )


def _write(
    checked: list[_Checked], create: set[str], replace: dict[str, Study], reason: str
) -> ImportSummary:
    """Create the studies ``create`` names and replace those of ``replace`` (by key);
    the others are left as they are."""
    created = replaced = 0
    with log.batch():
        for item in checked:
            study = replace.get(item.study.key)
            if study is not None:
                for related in (study.findings, study.quotes, study.reference_texts):
                    related.all().delete()
                study.participants.all().delete()
                study.themes.all().delete()
                for name in STUDY_FIELDS:
                    setattr(study, name, getattr(item.study, name))
                replaced += 1
            elif item.study.key in create:
                study = item.study
                created += 1
            else:
                continue
            study._change_reason = reason  # type: ignore[attr-defined]
            study.save()
            _write_parts(item, study, reason)
    return ImportSummary(
        created=created, replaced=replaced, unchanged=len(checked) - created - replaced
    )


def plan(payload: dict[str, Any], *, reason: str, overwrite: bool = True) -> Plan:
    """What importing the studies would change, ready to preview and to apply.

    A study new to the database is created. With ``overwrite`` (an admin's import)
    a study already present is replaced by the file's version, unless they are the
    same; without it (loading the shipped evidence) a present study is kept as
    curated.
    """
    checked = validate(payload)
    existing = {study.key: study for study in Study.objects.all()}
    changes: list[Change] = []
    create: set[str] = set()
    replace: dict[str, Study] = {}
    for item in checked:
        key = item.study.key
        study = existing.get(key)
        new = _normalised(item.data)
        if study is None:
            create.add(key)
            changes.extend(_changes(key, None, new))
            continue
        old = export_study(study)
        if not overwrite or old == new:
            name = _("Study “%(key)s”") % {"key": key}
            changes.append(Change("unchanged", STUDY, name))
            continue
        replace[key] = study
        changes.extend(_changes(key, old, new))
    return Plan(changes=changes, write=lambda: _write(checked, create, replace, reason))


def apply(payload: dict[str, Any], *, reason: str, overwrite: bool = True) -> ImportSummary:
    """Plan and write the studies in one transaction."""
    summary: ImportSummary = plan(payload, reason=reason, overwrite=overwrite).apply()
    return summary


def plan_upload(data: bytes, filename: str) -> Plan:
    """An administrator's upload, as a plan to preview (raises ``ImportRefused``)."""
    return plan(parse_json(data, filename), reason=IMPORT_REASON)


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """The file's study as the export would write it, for comparison."""
    normalised: dict[str, Any] = json.loads(json.dumps(data))
    return normalised
