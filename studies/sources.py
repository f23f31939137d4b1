"""The source texts shipped with the studies, and the comparisons that keep quotes verbatim.

Pure functions over text: where a quote stands in its source, and whether it is whole
sentences there.
"""

from __future__ import annotations

import re
from pathlib import Path

SOURCES = Path(__file__).resolve().parent / "data" / "sources"

# Curly, low and straight quotation marks, written as escapes to stay unambiguous.
_QUOTATION_MARKS = re.compile("[\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\"'`\u00b4]")
_WHITESPACE = re.compile(r"\s+")

OPENING_MARKS = "\u201c\u2018\u201e\u201a\"'"
CLOSING_MARKS = "\u201d\u2019\"'"
SENTENCE_END = ".?!\u2026"
# The source texts are extracted from the papers' pages, and a block quote there runs
# on from the sentence introducing it without a space ("a similar experience:I was very
# proud"); a capital right after one of these marks starts the block quote's sentence.
_BLOCK_QUOTE_JOIN = SENTENCE_END + ":"
# An editorial insertion the authors put at the end of a quote ("… [i.e., …]").
_TRAILING_INSERTION = re.compile(r"\s*\[[^\[\]]*\]\s*$")


def normalise(text: str) -> str:
    """Text for verbatim comparison: only whitespace and quotation marks are evened out."""
    return _WHITESPACE.sub(" ", _QUOTATION_MARKS.sub("'", text)).strip()


def _normalise_with_positions(text: str) -> tuple[str, list[int]]:
    """``normalise(text)``, with the index in ``text`` of each of its characters."""
    characters: list[str] = []
    positions: list[int] = []
    for index, character in enumerate(text):
        if character.isspace():
            if characters and characters[-1] != " ":
                characters.append(" ")
                positions.append(index)
            continue
        characters.append("'" if _QUOTATION_MARKS.match(character) else character)
        positions.append(index)
    if characters and characters[-1] == " ":
        characters.pop()
        positions.pop()
    return "".join(characters), positions


def occurrences(text: str, source: str) -> list[tuple[int, int]]:
    """Where ``text`` stands in ``source`` once normalised: (start, end) indices in ``source``."""
    needle = normalise(text)
    if not needle:
        return []
    haystack, positions = _normalise_with_positions(source)
    found = []
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle) - 1
        found.append((positions[start], positions[end] + 1))
        start = haystack.find(needle, start + 1)
    return found


def starts_sentence(source: str, start: int) -> bool:
    """A paragraph start, after sentence-final punctuation and a space, or after an opening
    quotation mark."""
    before = source[:start]
    stripped = before.rstrip(" \t")
    if not stripped or stripped.endswith("\n"):
        return True
    previous = before[-1]
    if previous in OPENING_MARKS:
        return len(before) == 1 or not before[-2].isalnum()
    if previous.isspace():
        # Closing marks or brackets may follow the full stop: 'you are in bad company.” Then'.
        return stripped.rstrip(CLOSING_MARKS + ")]")[-1:] in tuple(SENTENCE_END)
    return previous in _BLOCK_QUOTE_JOIN and source[start].isupper()


def ends_sentence(text: str, source: str, end: int) -> bool:
    """Its last character ends a sentence, or a closing quotation mark or the end of the
    paragraph follows it in the source."""
    core = _TRAILING_INSERTION.sub("", text).rstrip()
    if core[-1:] in tuple(SENTENCE_END):
        return True
    after = source[end:]
    if not after.strip(" \t") or after.lstrip(" \t").startswith("\n"):
        return True
    if after[0] in CLOSING_MARKS:
        # An apostrophe inside a word ("didn't", curly in the source) is not a closing mark.
        return not after[1:2].isalnum()
    return False


def is_whole_sentences(text: str, source: str) -> bool:
    """True when some occurrence of ``text`` in ``source`` starts and ends a sentence."""
    # Quotation marks around the whole quote belong to the source's sentence, not to it.
    inner = text.strip().strip(OPENING_MARKS + CLOSING_MARKS).strip()
    return any(
        starts_sentence(source, start) and ends_sentence(inner, source, end)
        for start, end in occurrences(inner, source)
    )


def source_text(name: str) -> str:
    """A shipped source text, by its bare file name; FileNotFoundError for any other."""
    path = SOURCES / name
    if not name or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise FileNotFoundError(name)
    return path.read_text(encoding="utf-8")


def is_source_text(name: str) -> bool:
    try:
        source_text(name)
    except FileNotFoundError:
        return False
    return True
