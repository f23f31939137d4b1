"""Importing through the pages, as a curator does: upload, preview, apply."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client


def upload(client: Client, path: str, name: str, data: bytes) -> Any:
    """Upload a file on an import page; a file without problems redirects to its preview."""
    return client.post(path, {"file": SimpleUploadedFile(name, data)})


def preview_path(response: Any) -> str:
    assert response.status_code == 302, response.status_code
    return str(response["Location"])


def digest(client: Client, preview: str) -> str:
    page = client.get(preview)
    assert page.status_code == 200, page.status_code
    return str(page.context["plan"].digest)


def apply(client: Client, preview: str, **kwargs: Any) -> Any:
    """Apply a previewed upload as its page's button does."""
    return client.post(preview, {"digest": digest(client, preview)}, **kwargs)


def import_file(client: Client, path: str, name: str, data: bytes, **kwargs: Any) -> Any:
    """Upload, preview and apply a file; the response of applying it."""
    return apply(client, preview_path(upload(client, path, name, data)), **kwargs)
