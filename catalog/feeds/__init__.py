"""Meetings as the fellowships publish them: Meeting Guide JSON, BMLT JSON and our CSV.

Each parser reads a whole document (bytes, through ``curation.documents``) into
``FeedMeeting`` records, the rows it left out (``Parsed.skipped``: a time that is not a
time, a repeated identifier, no time zone at all) and notes on rows it kept or that
list nothing to attend (``Parsed.notes``: no coordinates, codes it does not know, a
location temporarily closed), each named by position, name and identifier:
``meeting 12 (“Tweed Group”, id 8): time “25:00” is not a time HH:MM``. A document
that cannot be read at all (not UTF-8, not JSON, a CSV without its header) raises
``ImportRefused``.

A code means different things in different fellowships ("S" is Spanish in AA's
Meeting Guide feeds and Speaker in others), so codes are kept as the feed spells them
under the vocabulary ``<format>:<group slug>`` and mapped onto the catalog's fields
only where the format defines them.
"""

from __future__ import annotations

from collections.abc import Callable

from catalog.feeds import bmlt, csv, meeting_guide
from catalog.feeds.base import MAX_FEED_BYTES, FeedMeeting, Parsed, Slot

Parser = Callable[..., Parsed]
PARSERS: dict[str, Parser] = {
    "meeting-guide": meeting_guide.parse,
    "bmlt": bmlt.parse,
    "csv": csv.parse,
}


def parse(format: str, data: bytes, *, name: str, timezone: str = "", country: str = "") -> Parsed:
    """``data`` in ``format`` read into meetings. ``timezone`` and ``country`` serve
    rows that give none."""
    return PARSERS[format](data, name=name, timezone=timezone, country=country)


__all__ = ["MAX_FEED_BYTES", "PARSERS", "FeedMeeting", "Parsed", "Slot", "parse"]
