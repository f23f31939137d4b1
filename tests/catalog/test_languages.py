"""Languages are named, in the user's language, never shown as bare codes."""

from __future__ import annotations

import pytest
from django.utils import translation

from catalog.languages import LANGUAGE_CODES, language_choices, language_name


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("en", ["Somali", "Persian", "Norwegian Bokmål"]),
        ("nb", ["Somalisk", "Persisk", "Norsk bokmål"]),
        ("nl", ["Somali", "Perzisch", "Noors (Bokmål)"]),
    ],
)
def test_languages_are_named_in_the_users_language(language, names):
    with translation.override(language):
        assert [language_name(code) for code in ("so", "fa", "nb")] == names


@pytest.mark.parametrize("language", ["en", "nb", "nl"])
def test_no_language_offered_is_shown_as_its_code(language):
    with translation.override(language):
        shown = dict(language_choices())
    assert set(shown) == set(LANGUAGE_CODES)
    assert not [code for code, name in shown.items() if name == code]
