"""Export and import of the whole catalog, as JSON or as a zip of CSV tables.

Both formats carry the same four tables (sources, groups, trait values,
availability). JSON nests a group's trait values and availability inside the
group; the CSV form is one file per table, as spreadsheet users expect.

An import goes through ``curation``'s engine: the bytes are read within limits
(``curation.documents``), every row is checked and every problem reported at
once, located by the group, trait or line a curator knows; a file without
problems becomes a ``Plan`` whose changes are previewed, then written in one
transaction with bulk queries that keep the change history.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django_countries import countries

from audit import log
from catalog.forms import formfield
from catalog.languages import join_languages, split_languages
from catalog.models import Availability, Group, Source, Trait, TraitValue
from curation.documents import decode_text, read_csv, read_json, read_zip
from curation.imports import (
    Change,
    ImportRefused,
    Plan,
    Problem,
    Problems,
    create_with_history,
    update_with_history,
)

FORMAT_NAME = "recovery-menu-catalog"
# Change reasons are stored untranslated and translated when the history is shown.
IMPORT_REASON = gettext_noop("Imported from a file")
FORMAT_VERSION = 1

SOURCE_COLUMNS = ("key", "title", "publisher", "url", "kind")
GROUP_COLUMNS = ("slug", "name", "kind", "description", "website", "founded", "languages", "active")
# A trait value's country is empty for the value that holds everywhere.
TRAIT_COLUMNS = (
    "group",
    "trait",
    "country",
    "value",
    "source",
    "locator",
    "verified_on",
    "note",
)
# An availability row's country is empty for worldwide.
AVAILABILITY_COLUMNS = (
    "group",
    "country",
    "region",
    "in_person_per_week",
    "online",
    "languages",
    "source",
    "locator",
    "verified_on",
    "website",
)
# Columns an older export lacks: a file without one leaves what it holds unchanged.
OPTIONAL_COLUMNS = frozenset({"website"})
CSV_TABLES = {
    "sources.csv": SOURCE_COLUMNS,
    "groups.csv": GROUP_COLUMNS,
    "traits.csv": TRAIT_COLUMNS,
    "availability.csv": AVAILABILITY_COLUMNS,
}

Row = dict[str, str]
# JSON fields that hold a list rather than a single value.
LIST_FIELDS = frozenset({"languages", "traits", "availability", "sources", "groups"})
# Bounds on what an import reads, against oversized or malicious files. A whole
# catalog of a thousand groups is about 5 MB of JSON and less as CSV.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_TABLE_BYTES = 20 * 1024 * 1024
MAX_ARCHIVE_BYTES = 40 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 32
# document → groups → group → availability → row → languages
MAX_DEPTH = 8

# Kinds of change, translated when a preview shows them.
SOURCE = gettext_noop("source")
GROUP = gettext_noop("group")
TRAIT_VALUE = gettext_noop("trait value")
AVAILABILITY = gettext_noop("availability")


@dataclass
class Entry:
    """One row of the file: where it is, in a curator's words, and its cells as text."""

    where: str
    cells: Row
    # How another row's problem refers to this one: its line in a CSV table.
    line: str = ""


@dataclass
class Document:
    """The rows of a file, with the problems found reading it (reported with the rows')."""

    sources: list[Entry] = field(default_factory=list)
    groups: list[Entry] = field(default_factory=list)
    traits: list[Entry] = field(default_factory=list)
    availability: list[Entry] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    # Every group the file names in a row of its own, readable or not: a fact of a
    # group whose row has a problem is not reported again as naming an unknown group.
    named_groups: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    deleted: int
    unchanged: int
    untouched_groups: tuple[str, ...]


# --- Export -----------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_tables() -> dict[str, list[Row]]:
    """The whole catalog as four tables of text cells, in a stable order."""
    sources = [
        {column: _text(getattr(source, column)) for column in SOURCE_COLUMNS}
        for source in Source.objects.order_by("key")
    ]
    groups = [
        {column: _text(getattr(group, column)) for column in GROUP_COLUMNS}
        for group in Group.objects.order_by("slug")
    ]
    traits = [
        {
            "group": value.group.slug,
            "trait": value.trait.key,
            "country": str(value.country),
            "value": value.value,
            "source": value.source.key if value.source else "",
            "locator": value.locator,
            "verified_on": _text(value.verified_on),
            "note": value.note,
        }
        for value in TraitValue.objects.select_related("group", "trait", "source").order_by(
            "group__slug", "trait__position", "trait__key", "country"
        )
    ]
    availability = [
        {
            "group": row.group.slug,
            "country": str(row.country),
            "region": row.region,
            "in_person_per_week": _text(row.in_person_per_week),
            "online": row.online,
            "languages": row.languages,
            "source": row.source.key,
            "locator": row.locator,
            "verified_on": _text(row.verified_on),
            "website": row.website,
        }
        for row in Availability.objects.select_related("group", "source").order_by(
            "group__slug", "country", "region"
        )
    ]
    return {
        "sources.csv": sources,
        "groups.csv": groups,
        "traits.csv": traits,
        "availability.csv": availability,
    }


def _json_scalar(column: str, text: str) -> object:
    """Typed JSON values for the columns that are not text."""
    if column == "founded" or column == "in_person_per_week":
        return int(text) if text else None
    if column == "active":
        return text == "true"
    if column == "languages":
        return split_languages(text)
    return text


def export_json() -> bytes:
    tables = export_tables()
    traits_by_group: dict[str, list[dict[str, object]]] = {}
    for row in tables["traits.csv"]:
        item = {k: _json_scalar(k, v) for k, v in row.items() if k != "group"}
        traits_by_group.setdefault(row["group"], []).append(item)
    availability_by_group: dict[str, list[dict[str, object]]] = {}
    for row in tables["availability.csv"]:
        item = {k: _json_scalar(k, v) for k, v in row.items() if k != "group"}
        availability_by_group.setdefault(row["group"], []).append(item)
    groups = []
    for row in tables["groups.csv"]:
        item = {k: _json_scalar(k, v) for k, v in row.items()}
        item["traits"] = traits_by_group.get(row["slug"], [])
        item["availability"] = availability_by_group.get(row["slug"], [])
        groups.append(item)
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "sources": tables["sources.csv"],
        "groups": groups,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def export_csv_zip() -> bytes:
    buffer = io.BytesIO()
    # A fixed timestamp keeps the archive byte-identical for an unchanged catalog.
    stamp = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in export_tables().items():
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=CSV_TABLES[name], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            # The byte-order mark tells spreadsheet programs the file is UTF-8.
            archive.writestr(zipfile.ZipInfo(name, stamp), text.getvalue().encode("utf-8-sig"))
    return buffer.getvalue()


# --- Where a row is, in a curator's words -----------------------------------


def _country_name(code: str) -> str:
    return _country_in(get_language(), code) if code else ""


@functools.lru_cache(maxsize=1024)
def _country_in(language: str | None, code: str) -> str:
    """A country's name in a language, looked up once: a file names a few countries in
    thousands of rows."""
    return str(countries.name(code)) or code


def _describe(kind: str, cells: Row) -> str:
    """A row as a curator names it: “group “na”, trait “sponsorship” (Norway)”."""
    if kind == SOURCE:
        return _("source “%(key)s”") % {"key": cells.get("key", "")}
    if kind == GROUP:
        return _("group “%(slug)s”") % {"slug": cells.get("slug", "")}
    group, country = cells.get("group", ""), cells.get("country", "").strip().upper()
    if kind == TRAIT_VALUE:
        text = _("group “%(group)s”, trait “%(trait)s”") % {
            "group": group,
            "trait": cells.get("trait", ""),
        }
        return f"{text} ({_country_name(country)})" if country else text
    if not country:
        return _("group “%(group)s”, availability worldwide") % {"group": group}
    region = cells.get("region", "")
    place = f"{_country_name(country)}, {region}" if region else _country_name(country)
    return _("group “%(group)s”, availability in %(place)s") % {"group": group, "place": place}


def _json_where(kind: str, item: object, number: int) -> str:
    """``Group “na”``; an item without its identifying field by its position."""
    identity = "key" if kind == SOURCE else "slug"
    if isinstance(item, dict) and isinstance(item.get(identity), str):
        return str(capfirst(_describe(kind, {identity: item[identity]})))
    return _("%(kind)s number %(number)d") % {"kind": capfirst(_(kind)), "number": number}


def _csv_where(table: str, line: int, kind: str, cells: Row) -> str:
    return _("%(table)s line %(line)d (%(what)s)") % {
        "table": table,
        "line": line,
        "what": _describe(kind, cells),
    }


# --- Reading ----------------------------------------------------------------


def _cell(value: object) -> str:
    """A JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def _check_keys(where: str, item: object, columns: Iterable[str], problems: Problems) -> bool:
    columns = tuple(columns)
    if not isinstance(item, dict):
        problems.add(where, _("expected an object."))
        return False
    unknown = sorted(set(item) - set(columns))
    missing = [c for c in columns if c not in item and c not in OPTIONAL_COLUMNS]
    if unknown or missing:
        # A missing field is refused, not read as empty: the import would otherwise
        # wipe what that field holds.
        problems.add(
            where,
            _(
                "unknown field(s): %(unknown)s; missing field(s): %(missing)s; "
                "every object has exactly: %(allowed)s."
            )
            % {
                "unknown": ", ".join(unknown) or "-",
                "missing": ", ".join(missing) or "-",
                "allowed": ", ".join(columns),
            },
        )
        return False
    not_single = [
        key
        for key, value in item.items()
        if isinstance(value, dict)
        or (isinstance(value, list) and key not in LIST_FIELDS)
        or (
            key == "languages"
            and isinstance(value, list)
            and not all(isinstance(code, str) for code in value)
        )
    ]
    if not_single:
        problems.add(
            where,
            _("field(s) %(fields)s must hold a single value.") % {"fields": ", ".join(not_single)},
        )
        return False
    return True


def _list(container: dict[str, Any], key: str, where: str, problems: Problems) -> list[Any]:
    value = container.get(key, [])
    if not isinstance(value, list):
        problems.add(where, _("“%(key)s” must be a list.") % {"key": key})
        return []
    return value


def parse_json(data: bytes, name: str = "catalog.json") -> Document:
    payload = read_json(data, name=name, max_bytes=MAX_UPLOAD_BYTES, max_depth=MAX_DEPTH)
    document = Document()
    problems = document.problems
    if not isinstance(payload, dict):
        raise ImportRefused([Problem(name, _("expected an object with the catalog's tables."))])
    if payload.get("format") != FORMAT_NAME or payload.get("version") != FORMAT_VERSION:
        raise ImportRefused(
            [
                Problem(
                    name,
                    _("“format” must be “%(format)s” and “version” %(version)d.")
                    % {"format": FORMAT_NAME, "version": FORMAT_VERSION},
                )
            ]
        )
    _check_keys(name, payload, ("format", "version", "sources", "groups"), problems)
    for number, item in enumerate(_list(payload, "sources", name, problems), start=1):
        where = _json_where(SOURCE, item, number)
        if _check_keys(where, item, SOURCE_COLUMNS, problems):
            document.sources.append(Entry(where, {k: _cell(v) for k, v in item.items()}))
    group_fields = (*GROUP_COLUMNS, "traits", "availability")
    for number, item in enumerate(_list(payload, "groups", name, problems), start=1):
        where = _json_where(GROUP, item, number)
        if _check_keys(where, item, group_fields, problems):
            row = {k: _cell(v) for k, v in item.items() if k not in ("traits", "availability")}
            document.groups.append(Entry(where, row))
        if not isinstance(item, dict):
            continue
        # The facts of a group whose own row has a problem are checked all the same,
        # so that one upload reports every problem of the file.
        slug = _cell(item.get("slug")) if isinstance(item.get("slug"), str) else ""
        document.named_groups.add(slug)
        nested = (
            ("traits", TRAIT_VALUE, TRAIT_COLUMNS, document.traits),
            ("availability", AVAILABILITY, AVAILABILITY_COLUMNS, document.availability),
        )
        for key, kind, columns, table in nested:
            allowed = tuple(column for column in columns if column != "group")
            identity = "trait" if kind == TRAIT_VALUE else "country"
            for sub_number, sub in enumerate(_list(item, key, where, problems), start=1):
                if isinstance(sub, dict) and isinstance(sub.get(identity), str):
                    cells = {**{k: _cell(v) for k, v in sub.items()}, "group": slug}
                    sub_where = str(capfirst(_describe(kind, cells)))
                else:
                    cells = {"group": slug}
                    sub_where = _("%(group)s, %(kind)s number %(number)d") % {
                        "group": where,
                        "kind": _(kind),
                        "number": sub_number,
                    }
                if _check_keys(sub_where, sub, allowed, problems):
                    table.append(Entry(sub_where, cells))
    return document


def parse_csv_zip(data: bytes, name: str = "catalog.zip") -> Document:
    files = read_zip(
        data,
        name=name,
        max_bytes=MAX_UPLOAD_BYTES,
        max_members=MAX_ARCHIVE_MEMBERS,
        max_member_bytes=MAX_TABLE_BYTES,
        max_total_bytes=MAX_ARCHIVE_BYTES,
    )
    missing = [table for table in CSV_TABLES if table not in files]
    extra = sorted(set(files) - set(CSV_TABLES))
    if missing or extra:
        raise ImportRefused(
            [
                Problem(
                    name,
                    _("must hold exactly %(files)s; missing: %(missing)s; unexpected: %(extra)s.")
                    % {
                        "files": ", ".join(CSV_TABLES),
                        "missing": ", ".join(missing) or "-",
                        "extra": ", ".join(extra) or "-",
                    },
                )
            ]
        )
    document = Document()
    tables = (
        ("sources.csv", SOURCE, document.sources),
        ("groups.csv", GROUP, document.groups),
        ("traits.csv", TRAIT_VALUE, document.traits),
        ("availability.csv", AVAILABILITY, document.availability),
    )
    for table_name, kind, target in tables:
        try:
            text = decode_text(files[table_name], name=table_name)
            columns = CSV_TABLES[table_name]
            rows = read_csv(
                text,
                name=table_name,
                required=[c for c in columns if c not in OPTIONAL_COLUMNS],
                allowed=[c for c in columns if c in OPTIONAL_COLUMNS],
            )
        except ImportRefused as refused:
            # Every table is read, so that one upload reports the problems of all four.
            document.problems.items.extend(refused.problems)
            continue
        for line, cells in rows:
            at_line = _("%(table)s line %(line)d") % {"table": table_name, "line": line}
            target.append(Entry(_csv_where(table_name, line, kind, cells), cells, at_line))
            if kind == GROUP:
                document.named_groups.add(cells["slug"])
    return document


def parse_upload(data: bytes, filename: str) -> Document:
    if filename.lower().endswith(".json"):
        return parse_json(data, filename)
    if filename.lower().endswith(".zip"):
        return parse_csv_zip(data, filename)
    raise ImportRefused(
        [
            Problem(
                filename,
                _("upload a .json file or a .zip of CSV files, as the export gives them."),
            )
        ]
    )


# --- Checking ---------------------------------------------------------------


class _RowFields:
    """Checks one row's own fields as a form of the model's fields would, and runs the
    model fields' validators, as ``full_clean()`` would; built once, not per row.

    Plain fields rather than model forms: references to other rows are checked against
    the whole file, and rules across models once all rows are. Instantiating a form per
    row copied every field each time, which was most of an import's time.
    """

    def __init__(self, model: type[models.Model], names: list[str], **extra: forms.Field):
        self.fields: dict[str, forms.Field] = {
            **forms.fields_for_model(model, fields=names, formfield_callback=formfield),
            **extra,
        }
        self.validators = {
            name: _model_field(model, name).validators for name in names if name not in extra
        }
        for form_field in self.fields.values():
            if isinstance(form_field, forms.ChoiceField):
                _quick_choices(form_field)

    def clean(self, where: str, row: Row, problems: Problems) -> dict[str, Any] | None:
        cleaned: dict[str, Any] = {}
        valid = True
        for name, form_field in self.fields.items():
            try:
                value = form_field.clean(row.get(name, ""))
                if value not in form_field.empty_values:
                    for validator in self.validators.get(name, ()):
                        validator(value)
            except ValidationError as error:
                valid = False
                for message in error.messages:
                    problems.add(_at(where, name), f"{message}{_allowed(form_field, name)}")
            else:
                cleaned[name] = value
        return cleaned if valid else None


def _quick_choices(form_field: forms.ChoiceField) -> None:
    """Check a choice in a set: a choice field otherwise goes through every choice for
    every row, and the country field's 250 are normalised afresh each time. The set is
    made on first use, when the countries can be read."""
    allowed: set[str] = set()

    def valid_value(value: Any) -> bool:
        if not allowed:
            choices: Any = form_field.choices
            allowed.update(str(key) for key, _label in choices)
        return str(value) in allowed

    form_field.valid_value = valid_value  # type: ignore[method-assign]


def _model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field), name
    return model_field


def _at(where: str, name: str) -> str:
    """Where a problem is: the row, and the field named as it is in the file."""
    return _("%(where)s, field “%(field)s”") % {"where": where, "field": name}


def _allowed(form_field: forms.Field, name: str) -> str:
    choices = getattr(form_field, "choices", None)
    if not choices or name == "country":
        return ""
    values = [str(value) for value, _label in choices if value != ""]
    return " " + _("Allowed: %(values)s.") % {"values": ", ".join(values)}


SOURCE_FIELDS = _RowFields(Source, ["key", "title", "publisher", "url", "kind"])
GROUP_FIELDS = _RowFields(
    Group,
    ["slug", "name", "kind", "description", "website", "founded", "languages"],
    active=forms.TypedChoiceField(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    ),
)
TRAIT_VALUE_FIELDS = _RowFields(TraitValue, ["country", "value", "locator", "verified_on", "note"])
AVAILABILITY_FIELDS = _RowFields(
    Availability,
    [
        "country",
        "region",
        "in_person_per_week",
        "online",
        "languages",
        "locator",
        "verified_on",
        "website",
    ],
)


def _normalise_languages(entry: Entry, problems: Problems) -> None:
    try:
        entry.cells["languages"] = join_languages(split_languages(entry.cells["languages"]))
    except ValidationError as error:
        for message in error.messages:
            problems.add(_at(entry.where, "languages"), message)


def _unique(
    entries: list[Entry], key: Callable[[Row], tuple[str, ...]], problems: Problems
) -> None:
    seen: dict[tuple[str, ...], Entry] = {}
    for entry in entries:
        identity = key(entry.cells)
        first = seen.setdefault(identity, entry)
        if first is entry:
            continue
        if first.line:
            problems.add(entry.where, _("repeats %(line)s.") % {"line": first.line})
        else:
            problems.add(entry.where, _("appears more than once."))


@dataclass
class _Valid:
    """The cleaned rows of a document without problems."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    traits: list[dict[str, Any]] = field(default_factory=list)
    availability: list[dict[str, Any]] = field(default_factory=list)


def validate(document: Document) -> _Valid:
    """Check every row; raise ``ImportRefused`` with every problem of the document."""
    problems = Problems()
    problems.items.extend(document.problems)
    if not (document.sources or document.groups or problems):
        raise ImportRefused([_("The file holds no sources and no groups.")])
    # Normalise first, so rows that differ only in case are caught as duplicates.
    for entry in [*document.traits, *document.availability]:
        entry.cells["country"] = entry.cells["country"].strip().upper()
    _unique(document.sources, lambda row: (row["key"],), problems)
    _unique(document.groups, lambda row: (row["slug"],), problems)
    _unique(document.traits, lambda row: (row["group"], row["trait"], row["country"]), problems)
    _unique(
        document.availability, lambda row: (row["group"], row["country"], row["region"]), problems
    )

    valid = _Valid()
    # References are checked against every row the file lists, valid or not, so one
    # bad group or source row is reported once, not again at every row naming it.
    source_keys = set(Source.objects.values_list("key", flat=True))
    source_keys.update(entry.cells["key"] for entry in document.sources)
    group_slugs = document.named_groups | {entry.cells["slug"] for entry in document.groups}
    for entry in document.sources:
        if (data := SOURCE_FIELDS.clean(entry.where, entry.cells, problems)) is not None:
            valid.sources.append(data)

    for entry in document.groups:
        _normalise_languages(entry, problems)
        # Spreadsheet programs write TRUE and FALSE.
        entry.cells["active"] = entry.cells["active"].strip().lower()
        if (data := GROUP_FIELDS.clean(entry.where, entry.cells, problems)) is not None:
            valid.groups.append(data)

    trait_keys = set(Trait.objects.values_list("key", flat=True))
    for entry in document.traits:
        row, where = entry.cells, entry.where
        known = _references(entry, group_slugs, source_keys, problems)
        if row["trait"] not in trait_keys:
            known = False
            problems.add(
                _at(where, "trait"),
                _("unknown trait “%(trait)s”. Allowed: %(allowed)s.")
                % {"trait": row["trait"], "allowed": ", ".join(sorted(trait_keys))},
            )
        data = TRAIT_VALUE_FIELDS.clean(where, row, problems)
        if data is None:
            continue
        fine = _not_in_future(where, data, problems)
        if data["value"] != TraitValue.Value.UNKNOWN and not (
            row["source"] and data["verified_on"]
        ):
            fine = False
            problems.add(where, _("a known value needs a source and a verified_on date."))
        if known and fine:
            valid.traits.append({**data, **_refs(row)})

    for entry in document.availability:
        row, where = entry.cells, entry.where
        _normalise_languages(entry, problems)
        known = _references(entry, group_slugs, source_keys, problems)
        if not row["source"]:
            known = False
            problems.add(_at(where, "source"), _("This field is required."))
        if row["region"] and not row["country"]:
            known = False
            problems.add(
                _at(where, "region"),
                _("a region needs its country; a worldwide row (no country) has no region."),
            )
        data = AVAILABILITY_FIELDS.clean(where, row, problems)
        if data is not None and "website" not in row:
            del data["website"]  # an older file: what the catalog holds stays
        if data is not None and _not_in_future(where, data, problems) and known:
            valid.availability.append({**data, **_refs(row)})

    problems.refuse_if_any()
    return valid


def _not_in_future(where: str, data: dict[str, Any], problems: Problems) -> bool:
    verified_on = data.get("verified_on")
    if verified_on and verified_on > timezone.localdate():
        problems.add(_at(where, "verified_on"), _("the date cannot be in the future."))
        return False
    return True


def _refs(row: Row) -> dict[str, str]:
    return {"group": row["group"], "source": row["source"], "trait": row.get("trait", "")}


def _references(entry: Entry, groups: set[str], sources: set[str], problems: Problems) -> bool:
    row, where = entry.cells, entry.where
    known = True
    if row["group"] not in groups:
        known = False
        problems.add(
            _at(where, "group"),
            _("unknown group “%(slug)s”; every group must be listed among the file's groups.")
            % {"slug": row["group"]},
        )
    if row["source"] and row["source"] not in sources:
        known = False
        problems.add(
            _at(where, "source"),
            _("unknown source “%(key)s”; list it among the file's sources.")
            % {"key": row["source"]},
        )
    return known


# --- Planning and writing ---------------------------------------------------


@dataclass
class _Writes:
    """What a plan writes, model by model, in the order it must be written."""

    reason: str
    create: dict[type[models.Model], list[Any]] = field(default_factory=dict)
    # model → (instance, {field: new value})
    update: dict[type[models.Model], list[tuple[Any, dict[str, Any]]]] = field(default_factory=dict)
    delete: list[Any] = field(default_factory=list)
    # Facts refer to sources and groups by key until those have ids.
    sources: dict[str, Source] = field(default_factory=dict)
    links: list[tuple[Any, str]] = field(default_factory=list)  # (fact, source key)


def _differences(instance: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if getattr(instance, name) != value}


def _labels(model: type[models.Model], names: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(_model_field(model, name).verbose_name) for name in names)


class _Planner:
    """Compares the checked rows with the catalog, read once, and notes the changes."""

    def __init__(self, valid: _Valid, *, reason: str, overwrite: bool) -> None:
        self.valid, self.overwrite = valid, overwrite
        self.writes = _Writes(reason)
        self.changes: list[Change] = []
        self.sources = {source.key: source for source in Source.objects.all()}
        self.writes.sources = self.sources
        self.groups = {group.slug: group for group in Group.objects.all()}
        # Without overwrite, the facts of a group already in the catalog are its curators'
        # business: a fact they removed must not come back from the shipped file.
        self.curated = set() if overwrite else set(self.groups)
        self.traits = {trait.key: trait for trait in Trait.objects.all()}

    def note(self, action: Any, kind: str, cells: Row, fields: tuple[str, ...] = ()) -> None:
        self.changes.append(Change(action, kind, str(capfirst(_describe(kind, cells))), fields))

    def row(self, model: Any, kind: str, current: Any, values: dict[str, Any], cells: Row) -> Any:
        """Plan one row: create it, update what differs, or leave it."""
        if current is None:
            instance = model(**values)
            self.writes.create.setdefault(model, []).append(instance)
            self.note("create", kind, cells)
            return instance
        changed = _differences(current, values)
        if changed and self.overwrite:
            self.writes.update.setdefault(model, []).append((current, changed))
            self.note("update", kind, cells, _labels(model, changed))
        else:
            self.note("unchanged", kind, cells)
        return current

    def plan(self) -> tuple[list[Change], _Writes, tuple[str, ...]]:
        for data in self.valid.sources:
            source = self.sources.get(data["key"])
            self.sources[data["key"]] = self.row(Source, SOURCE, source, data, data)
        listed = []
        for data in self.valid.groups:
            group = self.groups.get(data["slug"])
            self.groups[data["slug"]] = self.row(Group, GROUP, group, data, data)
            listed.append(data["slug"])
        self.facts(listed)
        untouched = tuple(sorted(set(self.groups) - set(listed)))
        return self.changes, self.writes, untouched

    def facts(self, listed: list[str]) -> None:
        by_id = {group.pk: group for group in self.groups.values() if group.pk}
        sources_by_id = {source.pk: source for source in self.sources.values() if source.pk}
        traits_by_id = {trait.pk: trait for trait in self.traits.values()}
        present = [self.groups[slug].pk for slug in listed if self.groups[slug].pk]
        present = [pk for pk in present if by_id[pk].slug not in self.curated]
        values: dict[tuple[str, str, str], TraitValue] = {}
        for value in TraitValue.objects.filter(group_id__in=present):
            # The related rows from those read already: no query per row.
            value.group, value.trait = by_id[value.group_id], traits_by_id[value.trait_id]
            value.source = sources_by_id.get(value.source_id) if value.source_id else None
            values[(value.group.slug, value.trait.key, str(value.country))] = value
        places: dict[tuple[str, str, str], Availability] = {}
        for place in Availability.objects.filter(group_id__in=present):
            place.group, place.source = by_id[place.group_id], sources_by_id[place.source_id]
            places[(place.group.slug, str(place.country), place.region)] = place

        for data in self.valid.traits:
            cells = {**data, "country": str(data["country"])}
            if data["group"] in self.curated:
                self.note("unchanged", TRAIT_VALUE, cells)
                continue
            key = (data["group"], data["trait"], str(data["country"]))
            current: Any = values.pop(key, None)
            fields = {
                name: data[name] for name in ("country", "value", "locator", "verified_on", "note")
            }
            wanted = data["source"] or None
            if current is not None:
                fields.pop("country")
                if (current.source.key if current.source else None) != wanted:
                    fields["source"] = self._source(wanted)
            else:
                fields.update(group=self.groups[data["group"]], trait=self.traits[data["trait"]])
            fact = self.row(TraitValue, TRAIT_VALUE, current, fields, cells)
            if wanted and (current is None or "source" in fields):
                self.writes.links.append((fact, wanted))

        for data in self.valid.availability:
            cells = {**data, "country": str(data["country"])}
            if data["group"] in self.curated:
                self.note("unchanged", AVAILABILITY, cells)
                continue
            key = (data["group"], str(data["country"]), data["region"])
            current = places.pop(key, None)
            names = ("in_person_per_week", "online", "languages", "locator", "verified_on")
            fields = {name: data[name] for name in (*names, "website") if name in data}
            if current is None:
                fields.update(
                    group=self.groups[data["group"]], country=data["country"], region=data["region"]
                )
            elif current.source.key != data["source"]:
                fields["source"] = self._source(data["source"])
            fact = self.row(Availability, AVAILABILITY, current, fields, cells)
            if current is None or "source" in fields:
                self.writes.links.append((fact, data["source"]))

        if self.overwrite:
            # For the groups in the file, the file is the truth: facts it lacks go.
            for value in values.values():
                self.writes.delete.append(value)
                self.note("delete", TRAIT_VALUE, _fact_cells(value))
            for place in places.values():
                self.writes.delete.append(place)
                self.note("delete", AVAILABILITY, _fact_cells(place))

    def _source(self, key: str | None) -> Source | None:
        # A source the file adds has no id yet; it is linked once written.
        return self.sources[key] if key else None


def _fact_cells(fact: TraitValue | Availability) -> Row:
    cells = {"group": fact.group.slug, "country": str(fact.country)}
    if isinstance(fact, TraitValue):
        return {**cells, "trait": fact.trait.key}
    return {**cells, "region": fact.region}


def _write(writes: _Writes, untouched: tuple[str, ...], counts: Counter[str]) -> ImportSummary:
    reason = writes.reason
    with log.batch():
        for fact in writes.delete:
            fact._change_reason = reason
            fact.delete()
        for model in (Source, Group, TraitValue, Availability):
            if model in (TraitValue, Availability):
                for fact, key in writes.links:
                    if isinstance(fact, model):
                        fact.source = writes.sources[key]
            create_with_history(model, writes.create.get(model, []), reason=reason)
            updates = writes.update.get(model, [])
            for instance, changed in updates:
                for name, value in changed.items():
                    setattr(instance, name, value)
            fields = {name for _instance, changed in updates for name in changed}
            update_with_history(model, [i for i, _c in updates], fields, reason=reason)
    return ImportSummary(
        created=counts["create"],
        updated=counts["update"],
        deleted=counts["delete"],
        unchanged=counts["unchanged"],
        untouched_groups=untouched,
    )


def plan(document: Document, *, reason: str, overwrite: bool = True) -> Plan:
    """What importing the document would change, ready to preview and to apply.

    With ``overwrite`` (an admin's import) the file is the truth for every group it
    lists: values are updated, and trait values and availability rows missing from
    the file are deleted. Without it (loading the shipped reference data) only what is
    missing is created: new sources and groups, and the facts of new groups. A group
    already in the catalog keeps its facts as curated, deletions included.
    Groups absent from the file are left as they are.
    """
    valid = validate(document)
    changes, writes, untouched = _Planner(valid, reason=reason, overwrite=overwrite).plan()
    counts: Counter[str] = Counter(change.action for change in changes)
    result = Plan(changes=changes, write=lambda: _write(writes, untouched, counts))
    if untouched:
        result.notes.append(
            _("Groups not in the file are left as they are: %(slugs)s.")
            % {"slugs": ", ".join(untouched)}
        )
    return result


def apply(document: Document, *, reason: str, overwrite: bool = True) -> ImportSummary:
    """Plan and write the document in one transaction."""
    summary: ImportSummary = plan(document, reason=reason, overwrite=overwrite).apply()
    return summary


def plan_upload(data: bytes, filename: str) -> Plan:
    """An administrator's upload, as a plan to preview (raises ``ImportRefused``)."""
    return plan(parse_upload(data, filename), reason=IMPORT_REASON)
