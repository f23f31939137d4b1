"""Pages as PDF files, drawn by WeasyPrint from the HTML the browser would print.

Nothing is fetched over the network: the stylesheets come from the app's own static
files, read from disk; any other address is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import weasyprint  # type: ignore[import-untyped]  # ships no type information
from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

# Any host: the page is rendered with this base, and only its static files are read.
BASE_URL = "https://recovery-menu.invalid/"


def static_file(url: str) -> Path:
    """The app's static file at this address, from its static folders or from
    collectstatic's (hashed names in production); ValueError for anything else."""
    path = urlsplit(url).path
    static_url = settings.STATIC_URL or "/static/"
    if path.startswith(static_url) and ".." not in path:
        relative = path.removeprefix(static_url)
        found: Any = finders.find(relative)
        if isinstance(found, str):
            return Path(found)
        collected = Path(settings.STATIC_ROOT) / relative
        if collected.is_file():
            return collected
    raise ValueError(f"Not a static file of the app: {url}")


class StaticOnly(URLFetcher):  # type: ignore[misc]
    """Serves WeasyPrint the app's static files from disk and nothing else; a missing
    stylesheet stops the rendering rather than giving an unstyled page."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("https",), fail_on_errors=True)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = static_file(url)
        kind = "text/css" if path.suffix == ".css" else "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": kind})


def _document(html: str) -> Any:
    return weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnly())


def render_pdf(html: str) -> bytes:
    pdf: bytes = _document(html).write_pdf()
    return pdf


def page_count(html: str) -> int:
    """How many pages the HTML prints on."""
    return len(_document(html).render().pages)
