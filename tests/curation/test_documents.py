"""Reading documents within limits: every refusal is an ImportRefused naming the file."""

from __future__ import annotations

import http.server
import io
import socket
import struct
import threading
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator

import pytest

from curation.documents import decode_text, fetch, read_csv, read_json, read_zip
from curation.imports import ImportRefused

MB = 1024 * 1024
ZIP_LIMITS = {
    "max_bytes": 5 * MB,
    "max_members": 10,
    "max_member_bytes": 20 * MB,
    "max_total_bytes": 40 * MB,
}


def refused(call, *args, **kwargs) -> list[str]:
    with pytest.raises(ImportRefused) as caught:
        call(*args, **kwargs)
    return caught.value.errors


def json_errors(data: bytes, **kwargs) -> list[str]:
    return refused(read_json, data, name="catalog.json", max_bytes=kwargs.pop("max_bytes", MB))


# --- Text and JSON -------------------------------------------------------------


def test_text_may_start_with_a_byte_order_mark():
    assert decode_text("\ufeffNorge".encode(), name="groups.csv") == "Norge"


def test_text_that_is_not_utf8_is_refused_naming_the_byte_and_line():
    (error,) = refused(decode_text, b"slug\nna\n\xe6\xf8", name="groups.csv")
    assert error.startswith("groups.csv: is not UTF-8 text (byte 0xe6 at position 8, line 3)")


def test_an_encoded_surrogate_is_refused_as_such():
    data = '{"name": "\ud800"}'.encode("utf-8", "surrogatepass")
    (error,) = refused(decode_text, data, name="catalog.json")
    assert "encoded surrogate at line 1" in error


def test_json_is_read_with_its_numbers_and_characters():
    data = b'{"founded": 1953, "ratio": 0.5, "name": "\\ud83d\\ude00 NA", "ok": true}'
    value = read_json(data, name="catalog.json", max_bytes=MB)
    assert value == {"founded": 1953, "ratio": 0.5, "name": "\U0001f600 NA", "ok": True}


def test_json_larger_than_the_limit_is_refused_before_parsing():
    (error,) = json_errors(b"[" * 2000, max_bytes=1000)
    assert (
        error == "catalog.json: is larger than 1000\xa0bytes; "
        "files of at most 1000\xa0bytes are accepted."
    )


def test_an_empty_file_is_refused():
    assert json_errors(b" \n") == ["catalog.json: is empty."]


def test_invalid_json_names_line_and_column():
    (error,) = json_errors(b'{\n  "groups": [,]\n}')
    assert (
        error
        == "catalog.json: is not valid JSON: a value is missing or is not JSON (line 2, column 14)."
    )


def test_a_number_of_5000_digits_is_a_clear_error_with_its_line():
    data = b'{\n"version": 1,\n"founded": ' + b"9" * 5000 + b"\n}"
    (error,) = json_errors(data)
    assert error == (
        "catalog.json: a number with 5000 digits at line 3; numbers have at most 30 digits."
    )


def test_a_long_decimal_and_an_infinite_one_are_refused():
    errors = json_errors(b"[0." + b"1" * 40 + b", 1e999, 12.5]")
    assert errors == [
        "catalog.json: a number with 41 digits at line 1; numbers have at most 30 digits.",
        "catalog.json: a number too large at line 1.",
    ]


def test_digits_inside_text_are_not_numbers():
    assert read_json(b'["' + b"9" * 100 + b'"]', name="f.json", max_bytes=MB) == ["9" * 100]


def test_nan_and_infinity_are_refused():
    errors = json_errors(b'{"a": NaN,\n"b": -Infinity}')
    assert errors == [
        "catalog.json: NaN at line 1 is not a number JSON allows.",
        "catalog.json: -Infinity at line 2 is not a number JSON allows.",
    ]


def test_a_lone_surrogate_escape_is_a_clear_error_with_its_line():
    (error,) = json_errors(b'{"groups": [\n{"name": "N\\ud800A"}]}')
    assert error == (
        "catalog.json: the text at line 2 holds a lone surrogate escape (\\uD800 to \\uDFFF "
        "without its pair), which is not a character."
    )


def test_a_low_surrogate_alone_and_in_a_key_are_refused():
    errors = json_errors(b'{"\\udc00": 1, "x": "\\ud83d\\ude00\\ude00"}')
    assert len(errors) == 2


def test_an_escaped_backslash_before_u_is_text_not_a_surrogate():
    assert read_json(b'["\\\\ud800"]', name="f.json", max_bytes=MB) == ["\\ud800"]


def test_a_duplicate_key_is_refused_naming_the_key_and_its_object():
    data = b'{"groups": [{"slug": "na", "name": "NA", "name": "Narcotics Anonymous"}]}'
    assert json_errors(data) == [
        "catalog.json: the key “name” appears twice in the object with slug “na”; "
        "each key may appear once."
    ]


def test_every_problem_of_a_document_is_reported_at_once():
    data = b'{"a": NaN, "a": 1, "b": "\\udfff", "c": ' + b"1" * 31 + b"}"
    assert len(json_errors(data)) == 4


def test_nesting_deeper_than_the_limit_is_refused_with_its_line():
    data = b'{\n"a": ' + b'{"a": ' * 40 + b"1" + b"}" * 41
    (error,) = json_errors(data)
    assert error == "catalog.json: is nested more than 32 levels deep (line 2)."


def test_brackets_inside_text_do_not_count_as_nesting():
    data = b'["' + b"[" * 100 + b'"]'
    assert read_json(data, name="f.json", max_bytes=MB) == ["[" * 100]


def test_nesting_deep_enough_to_exhaust_the_parser_is_refused():
    (error,) = json_errors(b"[" * 100_000 + b"]" * 100_000)
    assert error == "catalog.json: is nested more than 32 levels deep."


# --- Zip ---------------------------------------------------------------------


def make_zip(files: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(megabytes: int, declared: int) -> bytes:
    """One member of ``megabytes`` MB of zeros that declares ``declared`` bytes."""
    buffer = io.BytesIO()
    zeros = bytes(MB)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("groups.csv", "w") as member,
    ):
        for _ in range(megabytes):
            member.write(zeros)
    data = bytearray(buffer.getvalue())
    # The uncompressed size: offset 22 of the local header, 24 of the central entry.
    assert data[:4] == b"PK\x03\x04"
    struct.pack_into("<I", data, 22, declared)
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def test_a_zip_gives_its_files_by_name_in_one_folder_or_none():
    data = make_zip({"export/groups.csv": b"slug\n", "traits.csv": b"group\n"})
    assert read_zip(data, name="catalog.zip", **ZIP_LIMITS) == {
        "groups.csv": b"slug\n",
        "traits.csv": b"group\n",
    }


def test_macos_metadata_in_a_zip_is_skipped():
    data = make_zip({"groups.csv": b"x", "__MACOSX/._groups.csv": b"y", ".DS_Store": b"z"})
    assert read_zip(data, name="catalog.zip", **ZIP_LIMITS) == {"groups.csv": b"x"}


def test_a_zip_bomb_that_declares_small_members_is_refused_in_bounded_memory():
    bomb = zip_bomb(400, declared=1000)
    assert len(bomb) < 1 * MB
    tracemalloc.start()
    try:
        (error,) = refused(read_zip, bomb, name="catalog.zip", **ZIP_LIMITS)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error == (
        "catalog.zip: groups.csv: cannot be read from the archive: it is damaged or not "
        "what it declares."
    )
    assert peak < 64 * MB, peak


def test_a_zip_bomb_that_declares_its_size_is_refused_before_inflating():
    bomb = zip_bomb(100, declared=100 * MB)
    tracemalloc.start()
    try:
        (error,) = refused(read_zip, bomb, name="catalog.zip", **ZIP_LIMITS)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error == (
        "catalog.zip: groups.csv: inflates to more than 20.0\xa0MB; files of at most "
        "20.0\xa0MB are accepted."
    )
    assert peak < 64 * MB, peak


def test_members_within_their_bound_but_too_large_together_are_refused_as_counted():
    files = {f"table{n}.csv": bytes(3 * MB) for n in range(4)}
    limits = {**ZIP_LIMITS, "max_member_bytes": 4 * MB, "max_total_bytes": 10 * MB}
    (error,) = refused(read_zip, make_zip(files), name="catalog.zip", **limits)
    assert error == (
        "catalog.zip: inflates to more than 10.0\xa0MB; archives of at most 10.0\xa0MB of "
        "files are accepted."
    )


def test_a_zip_with_too_many_members_is_refused():
    data = make_zip({f"t{n}.csv": b"" for n in range(11)})
    (error,) = refused(read_zip, data, name="catalog.zip", **ZIP_LIMITS)
    assert error == "catalog.zip: holds 11 entries; an archive of at most 10 is accepted."


def test_a_zip_larger_than_the_upload_limit_is_refused():
    limits = {**ZIP_LIMITS, "max_bytes": 100}
    (error,) = refused(read_zip, make_zip({"a.csv": b"x" * 200}), name="c.zip", **limits)
    assert error.startswith("c.zip: is larger than 100\xa0bytes")


@pytest.mark.parametrize(
    "member",
    ["../groups.csv", "/etc/groups.csv", "a/../../groups.csv", "C:/groups.csv", "a\\b.csv"],
)
def test_a_zip_member_that_points_outside_the_archive_is_refused(member):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # ZipInfo keeps the name as given; writestr(name) would tidy some of them.
        info = zipfile.ZipInfo("placeholder")
        info.filename = member
        archive.writestr(info, b"x")
    (error,) = refused(read_zip, buffer.getvalue(), name="c.zip", **ZIP_LIMITS)
    assert error.endswith("a file name that points outside the archive.")


def test_folders_inside_folders_are_refused():
    data = make_zip({"a/b/groups.csv": b"x"})
    (error,) = refused(read_zip, data, name="c.zip", **ZIP_LIMITS)
    assert (
        error == "c.zip: a/b/groups.csv: folders inside folders are not accepted; use at most one."
    )


def test_two_members_of_the_same_name_are_refused():
    data = make_zip({"groups.csv": b"x", "copy/groups.csv": b"y"})
    (error,) = refused(read_zip, data, name="c.zip", **ZIP_LIMITS)
    assert error == "c.zip: copy/groups.csv: a second file of the same name."


def test_an_encrypted_member_is_refused():
    data = bytearray(make_zip({"groups.csv": b"x"}))
    struct.pack_into("<H", data, 6, 1)  # general purpose flag of the local header
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 1)
    (error,) = refused(read_zip, bytes(data), name="c.zip", **ZIP_LIMITS)
    assert error == "c.zip: groups.csv: is encrypted; remove the password and try again."


def test_a_member_compressed_otherwise_than_deflate_is_refused():
    data = make_zip({"groups.csv": b"x" * 100}, compression=zipfile.ZIP_BZIP2)
    (error,) = refused(read_zip, data, name="c.zip", **ZIP_LIMITS)
    assert "compressed with a method other than deflate" in error


def test_bytes_that_are_not_a_zip_are_refused():
    assert refused(read_zip, b"slug,name\n", name="c.zip", **ZIP_LIMITS) == [
        "c.zip: is not a zip archive."
    ]


def test_a_damaged_member_is_refused():
    data = bytearray(make_zip({"groups.csv": zlib.compress(bytes(range(256)) * 100)}))
    start = 30 + len("groups.csv")
    data[start + 10 : start + 40] = bytes(30)
    (error,) = refused(read_zip, bytes(data), name="c.zip", **ZIP_LIMITS)
    assert "cannot be read from the archive" in error


# --- CSV ---------------------------------------------------------------------


def test_csv_rows_come_with_their_line_numbers():
    text = 'slug,name\nna,"Narcotics\nAnonymous"\n\naa,Alcoholics Anonymous\n'
    assert read_csv(text, name="groups.csv", required=["slug", "name"]) == [
        (2, {"slug": "na", "name": "Narcotics\nAnonymous"}),
        (5, {"slug": "aa", "name": "Alcoholics Anonymous"}),
    ]


def test_every_header_and_row_problem_is_reported_together():
    text = "slug,colour,colour\nna,1,2\nsa,1\naa,1,2,3\n"
    errors = refused(read_csv, text, name="groups.csv", required=["slug", "name"], allowed=[])
    assert errors == [
        "groups.csv: has the wrong columns; missing: name; unknown: colour, colour; "
        "the columns are: slug,name.",
        "groups.csv: names the column(s) colour twice.",
        "groups.csv line 3: 2 cells where the header has 3.",
        "groups.csv line 4: 4 cells where the header has 3.",
    ]


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out():
    rows = read_csv("name,slug\nNA,na\n", name="g.csv", required=["slug"], allowed=["name", "x"])
    assert rows == [(2, {"name": "NA", "slug": "na"})]


def test_a_table_saved_with_semicolons_gets_a_hint():
    errors = refused(read_csv, "slug;name\n", name="groups.csv", required=["slug", "name"])
    assert errors[-1] == "groups.csv: uses semicolons; save it with commas as separators."


def test_an_empty_table_names_the_header_it_needs():
    errors = refused(read_csv, "\n", name="groups.csv", required=["slug", "name"])
    assert errors == ["groups.csv: is empty; it needs at least the header row: slug,name."]


def test_a_lone_surrogate_that_reached_the_text_is_refused_with_its_line():
    text = b"slug,name\nna,N\xffA\n".decode("utf-8", "surrogateescape")
    (error,) = refused(read_csv, text, name="groups.csv", required=["slug", "name"])
    assert error == "groups.csv: holds a lone surrogate at line 2, which is not a character."


def test_a_cell_larger_than_the_field_limit_is_refused_with_its_line():
    text = "slug,name\nna,NA\naa," + "x" * 200_000 + "\n"
    (error,) = refused(read_csv, text, name="groups.csv", required=["slug", "name"])
    assert error.startswith("groups.csv line 3: cannot be read as CSV (field larger than")


# --- Fetching ----------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/feed.json":
            body = b'{"meetings": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/endless":
            self.send_response(200)  # no Content-Length: only counting can stop it
            self.end_headers()
            for _ in range(100):
                self.wfile.write(bytes(64 * 1024))
        elif self.path in ("/to-file", "/to-ftp"):
            self.send_response(302)
            self.send_header(
                "Location",
                "file:///etc/passwd" if self.path == "/to-file" else "ftp://example.org/",
            )
            self.end_headers()
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_reads_a_body(server):
    assert fetch(f"{server}/feed.json", max_bytes=MB) == b'{"meetings": []}'


def test_fetch_refuses_a_body_larger_than_the_limit_as_it_streams(server):
    (error,) = refused(fetch, f"{server}/endless", max_bytes=MB)
    assert (
        error
        == f"{server}/endless: answered with more than 1.0\xa0MB; at most 1.0\xa0MB is accepted."
    )


def test_fetch_refuses_a_declared_length_larger_than_the_limit(server):
    (error,) = refused(fetch, f"{server}/feed.json", max_bytes=10)
    assert "answered with more than 10\xa0bytes" in error


def test_fetch_names_the_http_status(server):
    (error,) = refused(fetch, f"{server}/missing", max_bytes=MB)
    assert error == f"{server}/missing: answered HTTP 404 (Not Found)."


@pytest.mark.parametrize("path", ["/to-file", "/to-ftp"])
def test_fetch_does_not_follow_a_redirect_to_a_file_or_ftp(server, path):
    (error,) = refused(fetch, f"{server}{path}", max_bytes=MB)
    assert error.startswith(f"{server}{path}: answered HTTP 302 (")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/feed.json", "data:,x", "http:///x", "feed"]
)
def test_fetch_refuses_addresses_that_are_not_http(url):
    (error,) = refused(fetch, url, max_bytes=MB)
    assert error == f"{url}: only http:// and https:// addresses can be fetched."


def test_fetch_names_a_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts the connection, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.json"
        (error,) = refused(fetch, url, max_bytes=MB, timeout=0.2)
    assert error == f"{url}: did not answer within 0.2 seconds."


def test_fetch_names_a_host_that_does_not_resolve():
    url = "http://no-such-host.invalid/feed.json"
    (error,) = refused(fetch, url, max_bytes=MB, timeout=5)
    assert error == f"{url}: the host name could not be found (DNS)."
