"""Export and import of the whole catalog, as JSON or as a zip of CSV tables.

Both formats carry the same four tables (sources, groups, trait values,
availability). JSON nests a group's trait values and availability inside the
group; the CSV form is one file per table, as spreadsheet users expect. A file
is parsed into rows that remember where they came from, every row is checked,
and only a file without a single error is written, in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit import log
from catalog.forms import formfield
from catalog.languages import join_languages, split_languages
from catalog.models import Availability, Group, Source, Trait, TraitValue

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
)
CSV_TABLES = {
    "sources.csv": SOURCE_COLUMNS,
    "groups.csv": GROUP_COLUMNS,
    "traits.csv": TRAIT_COLUMNS,
    "availability.csv": AVAILABILITY_COLUMNS,
}

Row = dict[str, str]
# JSON fields that hold a list rather than a single value.
LIST_FIELDS = frozenset({"languages", "traits", "availability", "sources", "groups"})
# Bounds on what an import reads, against oversized or malicious files.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_TABLE_BYTES = 20 * 1024 * 1024


class CatalogImportError(Exception):
    """A file that cannot be imported; ``errors`` says every reason, row and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Table:
    name: str
    rows: list[tuple[str, Row]] = field(default_factory=list)  # (where, row)


@dataclass
class Document:
    sources: Table = field(default_factory=lambda: Table("sources"))
    groups: Table = field(default_factory=lambda: Table("groups"))
    traits: Table = field(default_factory=lambda: Table("traits"))
    availability: Table = field(default_factory=lambda: Table("availability"))


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


# --- Parsing ----------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    try:
        # utf-8-sig also accepts the byte-order mark that spreadsheet programs write.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CatalogImportError(
            [
                _(
                    "%(name)s is not UTF-8 text (byte 0x%(byte)02x at position %(position)d). "
                    "Save it as UTF-8 and try again."
                )
                % {"name": name, "byte": data[error.start], "position": error.start}
            ]
        ) from error


def _cell(value: object) -> str:
    """A JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def _check_keys(where: str, item: object, columns: Iterable[str], errors: list[str]) -> bool:
    if not isinstance(item, dict):
        errors.append(_("%(where)s: expected an object.") % {"where": where})
        return False
    unknown = sorted(set(item) - set(columns))
    missing = [column for column in columns if column not in item]
    if unknown or missing:
        # A missing field is refused, not read as empty: the import would otherwise
        # wipe what that field holds.
        errors.append(
            _(
                "%(where)s: unknown field(s): %(unknown)s; missing field(s): %(missing)s; "
                "every object has exactly: %(allowed)s."
            )
            % {
                "where": where,
                "unknown": ", ".join(unknown) or "-",
                "missing": ", ".join(missing) or "-",
                "allowed": ", ".join(columns),
            }
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
        errors.append(
            _("%(where)s: field(s) %(fields)s must hold a single value.")
            % {"where": where, "fields": ", ".join(not_single)}
        )
        return False
    return True


def parse_json(data: bytes, name: str = "the file") -> Document:
    if not data.strip():
        raise CatalogImportError([_("%(name)s is empty.") % {"name": name}])
    text = _decode(data, name)
    try:
        payload = json.loads(text)
    except RecursionError as error:
        raise CatalogImportError(
            [_("%(name)s is nested too deeply to be a catalog.") % {"name": name}]
        ) from error
    except json.JSONDecodeError as error:
        raise CatalogImportError(
            [
                _("%(name)s is not valid JSON: %(message)s (line %(line)d, column %(column)d).")
                % {"name": name, "message": error.msg, "line": error.lineno, "column": error.colno}
            ]
        ) from error
    errors: list[str] = []
    top = ("format", "version", "sources", "groups")
    if not _check_keys(name, payload, top, errors):
        raise CatalogImportError(errors)
    if payload.get("format") != FORMAT_NAME or payload.get("version") != FORMAT_VERSION:
        raise CatalogImportError(
            [
                _('%(name)s: "format" must be "%(format)s" and "version" %(version)d.')
                % {"name": name, "format": FORMAT_NAME, "version": FORMAT_VERSION}
            ]
        )
    document = Document()
    for index, item in enumerate(_list(payload, "sources", name, errors)):
        where = f"sources[{index}]"
        if _check_keys(where, item, SOURCE_COLUMNS, errors):
            document.sources.rows.append((where, {k: _cell(v) for k, v in item.items()}))
    group_fields = (*GROUP_COLUMNS, "traits", "availability")
    for index, item in enumerate(_list(payload, "groups", name, errors)):
        where = f"groups[{index}]"
        if not _check_keys(where, item, group_fields, errors):
            continue
        slug = _cell(item.get("slug"))
        row = {k: _cell(v) for k, v in item.items() if k not in ("traits", "availability")}
        document.groups.rows.append((where, row))
        nested = (
            ("traits", TRAIT_COLUMNS, document.traits),
            ("availability", AVAILABILITY_COLUMNS, document.availability),
        )
        for key, columns, table in nested:
            for sub_index, sub in enumerate(_list(item, key, where, errors)):
                sub_where = f"{where}.{key}[{sub_index}]"
                allowed = tuple(column for column in columns if column != "group")
                if _check_keys(sub_where, sub, allowed, errors):
                    cells = {k: _cell(v) for k, v in sub.items()}
                    table.rows.append((sub_where, {"group": slug, **cells}))
    if errors:
        raise CatalogImportError(errors)
    return document


def _list(container: dict[str, Any], key: str, where: str, errors: list[str]) -> list[Any]:
    value = container.get(key, [])
    if not isinstance(value, list):
        errors.append(_('%(where)s: "%(key)s" must be a list.') % {"where": where, "key": key})
        return []
    return value


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    name = PurePosixPath(info.filename).name
    if info.file_size > MAX_TABLE_BYTES:
        raise CatalogImportError(
            [
                _("%(table)s is larger than %(limit)d MB.")
                % {"table": name, "limit": MAX_TABLE_BYTES // (1024 * 1024)}
            ]
        )
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError) as error:
        # Corrupt, encrypted or unsupported entries.
        raise CatalogImportError(
            [_("%(table)s cannot be read from the zip archive.") % {"table": name}]
        ) from error


def parse_csv_zip(data: bytes, name: str = "the file") -> Document:
    if not data:
        raise CatalogImportError([_("%(name)s is empty.") % {"name": name}])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise CatalogImportError(
            [
                _("%(name)s is not a zip archive of CSV files (%(files)s).")
                % {"name": name, "files": ", ".join(CSV_TABLES)}
            ]
        ) from error
    errors: list[str] = []
    # Re-zipped exports may put the tables in a folder, and macOS adds metadata entries.
    members = {
        PurePosixPath(info.filename).name: info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not PurePosixPath(info.filename).name.startswith(".")
    }
    names = set(members)
    missing = [table for table in CSV_TABLES if table not in names]
    extra = sorted(names - set(CSV_TABLES))
    if missing or extra:
        errors.append(
            _("%(name)s must hold exactly %(files)s; missing: %(missing)s; unexpected: %(extra)s.")
            % {
                "name": name,
                "files": ", ".join(CSV_TABLES),
                "missing": ", ".join(missing) or "-",
                "extra": ", ".join(extra) or "-",
            }
        )
        raise CatalogImportError(errors)
    document = Document()
    targets = {
        "sources.csv": document.sources,
        "groups.csv": document.groups,
        "traits.csv": document.traits,
        "availability.csv": document.availability,
    }
    for table_name, columns in CSV_TABLES.items():
        text = _decode(_read_member(archive, members[table_name]), table_name)
        if not text.strip():
            errors.append(
                _("%(table)s is empty; it needs at least the header row: %(columns)s.")
                % {"table": table_name, "columns": ",".join(columns)}
            )
            continue
        reader = csv.DictReader(io.StringIO(text))
        header = list(reader.fieldnames or [])
        if header != list(columns):
            missing_columns = [column for column in columns if column not in header]
            extra_columns = [column for column in header if column not in columns]
            errors.append(
                _(
                    "%(table)s has the wrong columns; expected %(expected)s; "
                    "missing: %(missing)s; unexpected: %(extra)s."
                )
                % {
                    "table": table_name,
                    "expected": ",".join(columns),
                    "missing": ", ".join(missing_columns) or "-",
                    "extra": ", ".join(extra_columns) or "-",
                }
            )
            if len(header) == 1 and ";" in header[0]:
                errors.append(
                    _("%(table)s uses semicolons; save it with commas as separators.")
                    % {"table": table_name}
                )
            continue
        try:
            rows = list(enumerate(reader, start=2))
        except csv.Error as error:
            errors.append(
                _("%(table)s row %(row)d cannot be read as CSV: %(message)s")
                % {"table": table_name, "row": reader.line_num, "message": error}
            )
            continue
        for number, row in rows:
            where = _("%(table)s row %(row)d") % {"table": table_name, "row": number}
            if None in row or any(value is None for value in row.values()):
                errors.append(_("%(where)s: wrong number of cells.") % {"where": where})
                continue
            targets[table_name].rows.append((where, dict(row)))
    if errors:
        raise CatalogImportError(errors)
    return document


def parse_upload(data: bytes, filename: str) -> Document:
    if filename.lower().endswith(".json"):
        return parse_json(data, filename)
    if filename.lower().endswith(".zip"):
        return parse_csv_zip(data, filename)
    raise CatalogImportError(
        [
            _("%(name)s: upload a .json file or a .zip of CSV files, as the export gives them.")
            % {"name": filename}
        ]
    )


# --- Validation -------------------------------------------------------------


def _row_form(model: type[Any], names: list[str], **extra: forms.Field) -> type[forms.Form]:
    """A form checking one row's own fields with the model fields' validation.

    Plain forms rather than model forms: references to other rows are checked
    against the whole file, and rules across models are checked once all rows are.
    """
    declared: dict[str, Any] = {
        **forms.fields_for_model(model, fields=names, formfield_callback=formfield),
        **extra,
    }
    return type(f"{model.__name__}RowForm", (forms.Form,), declared)


SourceRowForm = _row_form(Source, ["key", "title", "publisher", "url", "kind"])
GroupRowForm = _row_form(
    Group,
    ["slug", "name", "kind", "description", "website", "founded", "languages"],
    active=forms.TypedChoiceField(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    ),
)
TraitValueRowForm = _row_form(TraitValue, ["country", "value", "locator", "verified_on", "note"])
AvailabilityRowForm = _row_form(
    Availability,
    ["country", "region", "in_person_per_week", "online", "languages", "locator", "verified_on"],
)


def _at(where: str, name: str) -> str:
    """Where a problem is: the row, and the field named as it is in the file."""
    return _("%(where)s, field “%(field)s”") % {"where": where, "field": name}


def _allowed(form: forms.BaseForm, name: str) -> str:
    form_field = form.fields.get(name)
    choices = getattr(form_field, "choices", None)
    if not choices or name == "country":
        return ""
    values = [str(value) for value, _label in choices if value != ""]
    return " " + _("Allowed: %(values)s.") % {"values": ", ".join(values)}


def _form_errors(where: str, form: forms.BaseForm) -> list[str]:
    messages = []
    for name, field_errors in form.errors.items():
        for message in field_errors:
            messages.append(f"{_at(where, name)}: {message}{_allowed(form, name)}")
    return messages


def _normalise_languages(row: Row, where: str, errors: list[str]) -> None:
    try:
        row["languages"] = join_languages(split_languages(row.get("languages", "")))
    except forms.ValidationError as error:
        errors.extend(f"{_at(where, 'languages')}: {m}" for m in error.messages)


def _unique(table: Table, key: Callable[[Row], tuple[str, ...]], errors: list[str]) -> None:
    seen: dict[tuple[str, ...], str] = {}
    for where, row in table.rows:
        identity = key(row)
        if identity in seen:
            errors.append(
                _("%(where)s duplicates %(first)s (%(identity)s).")
                % {
                    "where": where,
                    "first": seen[identity],
                    "identity": " / ".join(part for part in identity if part),
                }
            )
        else:
            seen[identity] = where


@dataclass
class _Valid:
    sources: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    traits: list[dict[str, Any]] = field(default_factory=list)
    availability: list[dict[str, Any]] = field(default_factory=list)


def validate(document: Document) -> _Valid:
    """Check every row of the document; raise ``CatalogImportError`` listing every problem."""
    errors: list[str] = []
    if not (document.sources.rows or document.groups.rows):
        raise CatalogImportError([_("The file holds no sources and no groups.")])
    # Normalise first, so rows that differ only in case are caught as duplicates.
    for _where, row in [*document.traits.rows, *document.availability.rows]:
        row["country"] = row.get("country", "").strip().upper()
    _unique(document.sources, lambda row: (row.get("key", ""),), errors)
    _unique(document.groups, lambda row: (row.get("slug", ""),), errors)
    _unique(
        document.traits,
        lambda row: (row.get("group", ""), row.get("trait", ""), row.get("country", "")),
        errors,
    )
    _unique(
        document.availability,
        lambda row: (row.get("group", ""), row.get("country", ""), row.get("region", "")),
        errors,
    )

    valid = _Valid()
    # References are checked against every row the file lists, valid or not, so one
    # bad group or source row is reported once, not again at every row naming it.
    source_keys = set(Source.objects.values_list("key", flat=True))
    source_keys.update(row.get("key", "") for _where, row in document.sources.rows)
    group_slugs = {row.get("slug", "") for _where, row in document.groups.rows}
    for where, row in document.sources.rows:
        source_form = SourceRowForm(row)
        if source_form.is_valid():
            valid.sources.append(source_form.cleaned_data)
        else:
            errors.extend(_form_errors(where, source_form))

    for where, row in document.groups.rows:
        _normalise_languages(row, where, errors)
        # Spreadsheet programs write TRUE and FALSE.
        row["active"] = row.get("active", "").strip().lower()
        group_form = GroupRowForm(row)
        if group_form.is_valid():
            valid.groups.append(group_form.cleaned_data)
        else:
            errors.extend(_form_errors(where, group_form))

    trait_keys = set(Trait.objects.values_list("key", flat=True))
    for where, row in document.traits.rows:
        trait_form = TraitValueRowForm(row)
        row_errors = _reference_errors(where, row, group_slugs, source_keys)
        if row.get("trait") not in trait_keys:
            row_errors.append(
                f"{_at(where, 'trait')}: "
                + _("unknown trait “%(trait)s”. Allowed: %(allowed)s.")
                % {"trait": row.get("trait", ""), "allowed": ", ".join(sorted(trait_keys))}
            )
        row_errors.extend(_future_date_errors(where, trait_form))
        if trait_form.is_valid() and not row_errors:
            data = trait_form.cleaned_data
            if data["value"] != TraitValue.Value.UNKNOWN and not (
                row.get("source") and data["verified_on"]
            ):
                row_errors.append(
                    _("%(where)s: a known value needs a source and a verified_on date.")
                    % {"where": where}
                )
            valid.traits.append({**data, **_refs(row)})
        row_errors.extend(_form_errors(where, trait_form))
        errors.extend(row_errors)

    for where, row in document.availability.rows:
        _normalise_languages(row, where, errors)
        availability_form = AvailabilityRowForm(row)
        row_errors = _reference_errors(where, row, group_slugs, source_keys)
        if not row.get("source"):
            row_errors.append(f"{_at(where, 'source')}: " + _("This field is required."))
        if row.get("region") and not row.get("country"):
            row_errors.append(
                f"{_at(where, 'region')}: "
                + _("a region needs its country; a worldwide row (no country) has no region.")
            )
        row_errors.extend(_future_date_errors(where, availability_form))
        if availability_form.is_valid() and not row_errors:
            valid.availability.append({**availability_form.cleaned_data, **_refs(row)})
        row_errors.extend(_form_errors(where, availability_form))
        errors.extend(row_errors)

    if errors:
        raise CatalogImportError(errors)
    return valid


def _future_date_errors(where: str, form: forms.Form) -> list[str]:
    verified_on = form.cleaned_data.get("verified_on") if form.is_valid() else None
    if verified_on and verified_on > timezone.localdate():
        return [f"{_at(where, 'verified_on')}: " + _("the date cannot be in the future.")]
    return []


def _refs(row: Row) -> dict[str, str]:
    return {
        "group": row.get("group", ""),
        "source": row.get("source", ""),
        "trait": row.get("trait", ""),
    }


def _reference_errors(where: str, row: Row, groups: set[str], sources: set[str]) -> list[str]:
    errors = []
    if row.get("group") not in groups:
        errors.append(
            f"{_at(where, 'group')}: "
            + _("unknown group “%(slug)s”; every group must be listed among the file's groups.")
            % {"slug": row.get("group", "")}
        )
    source = row.get("source", "")
    if source and source not in sources:
        errors.append(
            f"{_at(where, 'source')}: "
            + _("unknown source “%(key)s”; list it among the file's sources.") % {"key": source}
        )
    return errors


# --- Writing ----------------------------------------------------------------


def _save(
    instance: Any, values: dict[str, Any], reason: str, counts: dict[str, int], *, overwrite: bool
) -> Any:
    """Create, or update when ``overwrite`` and something differs; count what happened."""
    if instance.pk is not None:
        changed = {k: v for k, v in values.items() if getattr(instance, k) != v}
        if not changed or not overwrite:
            counts["unchanged"] += 1
            return instance
        counts["updated"] += 1
    else:
        counts["created"] += 1
    for name, value in values.items():
        setattr(instance, name, value)
    try:
        instance.full_clean(validate_unique=False)
    except ValidationError as error:
        raise CatalogImportError(
            [
                f"{instance._meta.verbose_name} \u201c{instance}\u201d: {message}"
                for message in error.messages
            ]
        ) from error
    instance._change_reason = reason
    instance.save()
    return instance


@transaction.atomic
@log.batch()
def apply(document: Document, *, reason: str, overwrite: bool = True) -> ImportSummary:
    """Write a validated document.

    With ``overwrite`` (an admin's import) the file is the truth for every group it
    lists: values are updated, and trait values and availability rows missing from
    the file are deleted. Without it (loading the shipped reference data) only what is
    missing is created: new sources and groups, and the facts of new groups. A group
    already in the catalog keeps its facts as curated, deletions included.
    Groups absent from the file are left as they are.
    """
    valid = validate(document)
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}

    sources = {source.key: source for source in Source.objects.all()}
    for data in valid.sources:
        source = sources.get(data["key"]) or Source(key=data["key"])
        sources[data["key"]] = _save(source, data, reason, counts, overwrite=overwrite)

    groups = {group.slug: group for group in Group.objects.all()}
    # Without overwrite, the facts of a group already in the catalog are its curators'
    # business: a fact they removed must not come back from the shipped file.
    curated = set(groups) if not overwrite else set()
    for data in valid.groups:
        group = groups.get(data["slug"]) or Group(slug=data["slug"])
        groups[data["slug"]] = _save(group, data, reason, counts, overwrite=overwrite)

    traits = {trait.key: trait for trait in Trait.objects.all()}
    file_groups = [groups[data["slug"]] for data in valid.groups]
    existing_values = {
        (value.group_id, value.trait_id, str(value.country)): value
        for value in TraitValue.objects.filter(group__in=file_groups).select_related("source")
    }
    kept_values: set[int] = set()
    for data in valid.traits:
        if data["group"] in curated:
            counts["unchanged"] += 1
            continue
        group, trait = groups[data["group"]], traits[data["trait"]]
        values = {
            "value": data["value"],
            "source": sources[data["source"]] if data["source"] else None,
            "locator": data["locator"],
            "verified_on": data["verified_on"],
            "note": data["note"],
        }
        country = str(data["country"])
        value = existing_values.get((group.pk, trait.pk, country)) or TraitValue(
            group=group, trait=trait, country=country
        )
        kept_values.add(_save(value, values, reason, counts, overwrite=overwrite).pk)

    existing_places = {
        (row.group_id, str(row.country), row.region): row
        for row in Availability.objects.filter(group__in=file_groups).select_related("source")
    }
    kept_places: set[int] = set()
    for data in valid.availability:
        if data["group"] in curated:
            counts["unchanged"] += 1
            continue
        group = groups[data["group"]]
        values = {
            "in_person_per_week": data["in_person_per_week"],
            "online": data["online"],
            "languages": data["languages"],
            "source": sources[data["source"]],
            "locator": data["locator"],
            "verified_on": data["verified_on"],
        }
        key = (group.pk, str(data["country"]), data["region"])
        place = existing_places.get(key) or Availability(
            group=group, country=data["country"], region=data["region"]
        )
        kept_places.add(_save(place, values, reason, counts, overwrite=overwrite).pk)

    if overwrite:
        for value in existing_values.values():
            if value.pk not in kept_values:
                value._change_reason = reason  # type: ignore[attr-defined]
                value.delete()
                counts["deleted"] += 1
        for row in existing_places.values():
            if row.pk not in kept_places:
                row._change_reason = reason  # type: ignore[attr-defined]
                row.delete()
                counts["deleted"] += 1

    listed = {data["slug"] for data in valid.groups}
    return ImportSummary(
        created=counts["created"],
        updated=counts["updated"],
        deleted=counts["deleted"],
        unchanged=counts["unchanged"],
        untouched_groups=tuple(sorted(set(groups) - listed)),
    )
