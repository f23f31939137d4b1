"""Reading uploaded or fetched documents within limits.

Every importer reads its bytes through these functions, so a file that is too
large, too deep, not UTF-8, or built to exhaust memory (a zip bomb, a number of
thousands of digits) is refused the same way everywhere: an ``ImportRefused``
naming the file, what is wrong with it and what is allowed. Nothing here knows
what a catalog or a study is.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable
from itertools import accumulate
from pathlib import PurePosixPath
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from curation.imports import ImportRefused, Problem

# Numbers longer than this are no count, year or coordinate any importer reads;
# Python would also spend quadratic time converting a long one (and refuses past
# 4,300 digits).
MAX_NUMBER_DIGITS = 30
# Inflated bytes read from a zip member at a time: the most a member holds in
# memory beyond what has been counted.
ZIP_CHUNK_BYTES = 64 * 1024
# Bytes read from the network at a time.
FETCH_CHUNK_BYTES = 64 * 1024

# A JSON string token (JSON strings hold no raw newline, so replacing them keeps
# line numbers), and the tokens a bad number or constant can be.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<constant>NaN|-?Infinity)",
    re.DOTALL,
)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_BRACKETS = re.compile(r"[\[\]{}]")
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _size(limit: int) -> str:
    return str(filesizeformat(limit))


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _refuse(name: str, message: str) -> ImportRefused:
    return ImportRefused([Problem(name, message)])


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= character <= "\udfff" for character in text)


# --- Text -------------------------------------------------------------------


def decode_text(data: bytes, *, name: str) -> str:
    """``data`` as UTF-8 text; a byte-order mark (as spreadsheet programs write) is dropped."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        surrogate = data[error.start] == 0xED and data[error.start + 1 : error.start + 2] >= b"\xa0"
        if surrogate:
            # UTF-8 refuses the encoded halves of surrogate pairs (CESU-8, "WTF-8").
            raise _refuse(
                name,
                _(
                    "holds an encoded surrogate at line %(line)d, which is not a character. "
                    "Save it as UTF-8 and try again."
                )
                % {"line": line},
            ) from error
        raise _refuse(
            name,
            _(
                "is not UTF-8 text (byte 0x%(byte)02x at position %(position)d, line "
                "%(line)d). Save it as UTF-8 and try again."
            )
            % {
                "byte": data[error.start],
                "position": error.start,
                "line": line,
            },
        ) from error


# --- JSON -------------------------------------------------------------------


class _TooDeep(Exception):
    pass


# Python's JSON parser explains itself in English; what it says, in the user's language.
JSON_ERRORS = {
    "Expecting value": gettext_noop("a value is missing or is not JSON"),
    "Expecting ',' delimiter": gettext_noop("a comma or a closing bracket is missing"),
    "Expecting ':' delimiter": gettext_noop("a colon is missing after a key"),
    "Expecting property name enclosed in double quotes": gettext_noop(
        "a key in double quotes is expected"
    ),
    "Unterminated string starting at": gettext_noop("a text is not closed by a double quote"),
    "Extra data": gettext_noop("something follows the end of the document"),
    "Invalid control character at": gettext_noop("a text holds a control character"),
    "Invalid \\escape": gettext_noop("a backslash starts no valid escape"),
}


def read_json(data: bytes, *, name: str, max_bytes: int, max_depth: int = 32) -> Any:
    """The JSON value ``data`` holds, read within bounds.

    Refused, each with the line where it is: more than ``max_bytes`` (checked
    before anything is parsed), nesting deeper than ``max_depth``, a number with
    more than ``MAX_NUMBER_DIGITS`` digits, NaN or Infinity, an escape that is half
    of a surrogate pair, and an object naming a key twice (which plain ``json``
    would read as its last value, silently).
    """
    if len(data) > max_bytes:
        raise _refuse(
            name,
            _("is larger than %(limit)s; files of at most %(limit)s are accepted.")
            % {"limit": _size(max_bytes)},
        )
    if not data.strip():
        raise _refuse(name, _("is empty."))
    text = decode_text(data, name=name)
    problems: list[Problem] = []
    suspicious = False

    def number(digits: str) -> Any:
        nonlocal suspicious
        if sum(character.isdigit() for character in digits) > MAX_NUMBER_DIGITS:
            suspicious = True
            return 0
        return int(digits)

    def decimal(digits: str) -> Any:
        nonlocal suspicious
        if sum(character.isdigit() for character in digits) > MAX_NUMBER_DIGITS:
            suspicious = True
            return 0.0
        value = float(digits)
        if not math.isfinite(value):  # 1e999
            suspicious = True
            return 0.0
        return value

    def constant(word: str) -> Any:
        nonlocal suspicious
        suspicious = True
        return None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) < len(items):
            seen: set[str] = set()
            for key, _value in items:
                if key in seen:
                    problems.append(Problem(name, _duplicate_key(key, result)))
                seen.add(key)
        return result

    try:
        value = json.loads(
            text,
            parse_int=number,
            parse_float=decimal,
            parse_constant=constant,
            object_pairs_hook=pairs,
        )
    except RecursionError as error:
        raise _refuse(
            name, _("is nested more than %(depth)d levels deep.") % {"depth": max_depth}
        ) from error
    except json.JSONDecodeError as error:
        message = JSON_ERRORS.get(error.msg)
        raise _refuse(
            name,
            _("is not valid JSON: %(message)s (line %(line)d, column %(column)d).")
            % {
                "message": _(message) if message else error.msg,
                "line": error.lineno,
                "column": error.colno,
            },
        ) from error
    depth_line = _too_deep_at(text, max_depth)
    if depth_line is not None:
        problems.insert(
            0,
            Problem(
                name,
                _("is nested more than %(depth)d levels deep (line %(line)d).")
                % {"depth": max_depth, "line": depth_line},
            ),
        )
    if suspicious or _SURROGATE_ESCAPE.search(text):
        problems[:0] = _token_problems(text, name)
    if problems:
        raise ImportRefused(problems)
    return value


def _duplicate_key(key: str, item: dict[str, Any]) -> str:
    """Which key appears twice, and in which object when the object names itself."""
    for identity in ("key", "slug", "name"):
        if isinstance(item.get(identity), str) and identity != key:
            return _(
                "the key “%(key)s” appears twice in the object with %(field)s “%(value)s”; "
                "each key may appear once."
            ) % {"key": key, "field": identity, "value": item[identity]}
    return _("the key “%(key)s” appears twice in one object; each key may appear once.") % {
        "key": key
    }


def _too_deep_at(text: str, max_depth: int) -> int | None:
    """The line where nesting first goes deeper than ``max_depth``, if it does."""
    skeleton = _STRING.sub('""', text)
    brackets = _NOT_BRACKETS.sub("", skeleton)
    if not brackets or max(accumulate(_DEPTH_STEP[c] for c in brackets)) <= max_depth:
        return None
    depth = 0
    for match in _BRACKETS.finditer(skeleton):
        depth += _DEPTH_STEP[match.group()]
        if depth > max_depth:
            return _line(skeleton, match.start())
    return None  # pragma: no cover - the maximum above says otherwise


def _token_problems(text: str, name: str) -> list[Problem]:
    """Numbers, constants and strings the hooks could not locate, by line.

    Runs only over a document ``json`` has read whole, so its tokens are where
    this pattern finds them; ``json`` still decides what each string says.
    """
    problems = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if match.lastgroup == "string":
            if "\\u" in token and _has_surrogate(json.loads(token)):
                problems.append(
                    Problem(
                        name,
                        _(
                            "the text at line %(line)d holds a lone surrogate escape "
                            "(\\uD800 to \\uDFFF without its pair), which is not a character."
                        )
                        % {"line": _line(text, match.start())},
                    )
                )
        elif match.lastgroup == "constant":
            problems.append(
                Problem(
                    name,
                    _("%(word)s at line %(line)d is not a number JSON allows.")
                    % {"word": token, "line": _line(text, match.start())},
                )
            )
        else:
            digits = sum(character.isdigit() for character in token)
            if digits > MAX_NUMBER_DIGITS:
                message = _(
                    "a number with %(digits)d digits at line %(line)d; numbers have at "
                    "most %(limit)d digits."
                )
            elif not math.isfinite(float(token)):
                message = _("a number too large at line %(line)d.")
            else:
                continue
            problems.append(
                Problem(
                    name,
                    message
                    % {
                        "digits": digits,
                        "line": _line(text, match.start()),
                        "limit": MAX_NUMBER_DIGITS,
                    },
                )
            )
    return problems


# --- Zip --------------------------------------------------------------------


def read_zip(
    data: bytes,
    *,
    name: str,
    max_bytes: int,
    max_members: int,
    max_member_bytes: int,
    max_total_bytes: int,
) -> dict[str, bytes]:
    """The files of a zip archive, by file name, inflated within bounds.

    The sizes an archive declares are not trusted: each member is inflated a
    chunk at a time and refused as soon as what it actually gives exceeds
    ``max_member_bytes``, or all members together ``max_total_bytes``, so memory
    stays bounded whatever the archive claims. Files may sit in one folder (as a
    re-zipped export does); deeper folders, absolute paths, ``..``, encrypted
    members, methods other than stored and deflated, and two files of the same
    name are refused. macOS metadata (``__MACOSX/``, dot files) is skipped.
    """
    if len(data) > max_bytes:
        raise _refuse(
            name,
            _("is larger than %(limit)s; files of at most %(limit)s are accepted.")
            % {"limit": _size(max_bytes)},
        )
    if not data:
        raise _refuse(name, _("is empty."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as error:
        raise _refuse(name, _("is not a zip archive.")) from error
    if len(infos) > max_members:
        raise _refuse(
            name,
            _("holds %(count)d entries; an archive of at most %(limit)d is accepted.")
            % {"count": len(infos), "limit": max_members},
        )
    wanted: list[tuple[str, zipfile.ZipInfo]] = []
    seen: set[str] = set()
    problems: list[Problem] = []
    for info in infos:
        member = info.filename
        path = PurePosixPath(member)
        where = f"{name}: {member}"
        if member.startswith("__MACOSX/") or path.name.startswith("."):
            continue
        if (
            "\\" in member
            or member.startswith("/")
            or ":" in member
            or ".." in path.parts
            or "\x00" in member
        ):
            problems.append(Problem(where, _("a file name that points outside the archive.")))
            continue
        if info.is_dir():
            if len(path.parts) > 1:
                problems.append(Problem(where, _("folders inside folders are not accepted.")))
            continue
        if len(path.parts) > 2:
            problems.append(
                Problem(where, _("folders inside folders are not accepted; use at most one."))
            )
            continue
        if info.flag_bits & 0x1:
            problems.append(Problem(where, _("is encrypted; remove the password and try again.")))
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(
                Problem(where, _("is compressed with a method other than deflate; re-zip it."))
            )
            continue
        if path.name in seen:
            problems.append(Problem(where, _("a second file of the same name.")))
            continue
        if info.file_size > max_member_bytes:
            problems.append(Problem(where, _member_too_large(max_member_bytes)))
            continue
        seen.add(path.name)
        wanted.append((path.name, info))
    if problems:
        raise ImportRefused(problems)

    files: dict[str, bytes] = {}
    total = 0
    for member_name, info in wanted:
        where = f"{name}: {info.filename}"
        chunks: list[bytes] = []
        size = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(ZIP_CHUNK_BYTES):
                    size += len(chunk)
                    total += len(chunk)
                    if size > max_member_bytes:
                        raise _refuse(where, _member_too_large(max_member_bytes))
                    if total > max_total_bytes:
                        raise _refuse(
                            name,
                            _(
                                "inflates to more than %(limit)s; archives of at most "
                                "%(limit)s of files are accepted."
                            )
                            % {"limit": _size(max_total_bytes)},
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as error:
            # zipfile stops at the declared size and then finds the checksum wrong:
            # a member that inflates to more than it declares ends here.
            raise _refuse(
                where,
                _("cannot be read from the archive: it is damaged or not what it declares."),
            ) from error
        files[member_name] = b"".join(chunks)
    return files


def _member_too_large(limit: int) -> str:
    return _("inflates to more than %(limit)s; files of at most %(limit)s are accepted.") % {
        "limit": _size(limit)
    }


# --- CSV --------------------------------------------------------------------


def read_csv(
    text: str,
    *,
    name: str,
    required: Iterable[str] = (),
    allowed: Iterable[str] | None = None,
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV table under its header row, each with its line number.

    Every header problem (a required column missing, an unknown or repeated column)
    is reported at once, and every row whose number of cells differs from the
    header's, by line. Blank lines are skipped. A cell may hold at most
    ``csv.field_size_limit()`` characters.
    """
    required = list(required)
    known = None if allowed is None else [*required, *allowed]
    if not text.strip():
        raise _refuse(
            name,
            _("is empty; it needs at least the header row: %(columns)s.")
            % {"columns": ",".join(known if known is not None else required) or "-"},
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        # Text decoded elsewhere (with surrogateescape, say) may hold halves of pairs.
        raise _refuse(
            name,
            _("holds a lone surrogate at line %(line)d, which is not a character.")
            % {"line": _line(text, error.start)},
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = next(reader)
        problems.extend(_header_problems(name, header, required, known))
        width = len(header)
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not cells:
                continue
            if len(cells) != width:
                problems.append(
                    Problem(
                        _("%(name)s line %(line)d") % {"name": name, "line": line},
                        ngettext(
                            "%(cells)d cell where the header has %(columns)d.",
                            "%(cells)d cells where the header has %(columns)d.",
                            len(cells),
                        )
                        % {"cells": len(cells), "columns": width},
                    )
                )
                continue
            rows.append((line, dict(zip(header, cells, strict=True))))
    except csv.Error as error:
        problems.append(
            Problem(
                _("%(name)s line %(line)d") % {"name": name, "line": reader.line_num},
                _("cannot be read as CSV (%(reason)s); a cell holds at most %(limit)d characters.")
                % {"reason": error, "limit": csv.field_size_limit()},
            )
        )
    if problems:
        raise ImportRefused(problems)
    return rows


def _header_problems(
    name: str, header: list[str], required: list[str], known: list[str] | None
) -> list[Problem]:
    problems = []
    missing = [column for column in required if column not in header]
    unknown = [] if known is None else [column for column in header if column not in known]
    repeated = sorted({column for column in header if header.count(column) > 1})
    if missing or unknown:
        problems.append(
            Problem(
                name,
                _(
                    "has the wrong columns; missing: %(missing)s; unknown: %(unknown)s; "
                    "the columns are: %(columns)s."
                )
                % {
                    "missing": ", ".join(missing) or "-",
                    "unknown": ", ".join(unknown) or "-",
                    "columns": ",".join(known if known is not None else required),
                },
            )
        )
        if len(header) == 1 and ";" in header[0]:
            problems.append(Problem(name, _("uses semicolons; save it with commas as separators.")))
    if repeated:
        problems.append(
            Problem(
                name,
                _("names the column(s) %(columns)s twice.") % {"columns": ", ".join(repeated)},
            )
        )
    return problems


# --- Network ----------------------------------------------------------------


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only: never to ftp: or file:."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(
                newurl, code, _("a redirect to an address that is not http(s)"), headers, fp
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler(),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    _HttpOnlyRedirects(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _OPENER.add_handler(_handler)


def fetch(url: str, *, max_bytes: int, timeout: float = 30) -> bytes:
    """The body at ``url`` (http or https only), read up to ``max_bytes``.

    For management commands: it blocks for up to ``timeout`` seconds per read, so
    it is never called while serving a request.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(url, _("only http:// and https:// addresses can be fetched."))
    request = urllib.request.Request(url, headers={"User-Agent": "recovery-menu"})
    too_large = _("answered with more than %(limit)s; at most %(limit)s is accepted.") % {
        "limit": _size(max_bytes)
    }
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _refuse(url, too_large)
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read(FETCH_CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise _refuse(url, too_large)
                chunks.append(chunk)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response's connection
        raise _refuse(
            url,
            _("answered HTTP %(status)d (%(reason)s).")
            % {"status": error.code, "reason": error.reason},
        ) from error
    except urllib.error.URLError as error:
        raise _refuse(url, _unreachable(error.reason, timeout)) from error
    except (TimeoutError, OSError, ssl.SSLError) as error:
        raise _refuse(url, _unreachable(error, timeout)) from error
    return b"".join(chunks)


def _unreachable(reason: object, timeout: float) -> str:
    if isinstance(reason, socket.gaierror):
        return _("the host name could not be found (DNS).")
    if isinstance(reason, TimeoutError):
        return _("did not answer within %(seconds)g seconds.") % {"seconds": timeout}
    if isinstance(reason, ssl.SSLError):
        return _("the secure connection failed (%(reason)s).") % {"reason": reason}
    return _("could not be reached (%(reason)s).") % {"reason": reason}
