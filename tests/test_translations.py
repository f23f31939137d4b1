from __future__ import annotations

import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"
ENTRY = re.compile(r'^msgid "(.*)"\n((?:".*"\n)*)msgstr "(.*)"\n((?:".*"\n)*)', re.MULTILINE)


@pytest.mark.parametrize("language", ["nb", "nl"])
def test_every_interface_string_is_translated(language):
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    assert "#, fuzzy" not in text
    untranslated = [
        msgid + rest
        for msgid, rest, msgstr, more in ENTRY.findall(text)
        if (msgid or rest) and not (msgstr or more)
    ]
    assert untranslated == []
    assert (LOCALE / language / "LC_MESSAGES" / "django.mo").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [("nb", ["Katalog", "Sponsorordning", "Ukjent"]), ("nl", ["Catalogus", "Sponsorschap"])],
)
def test_pages_follow_the_browser_language(counsellor_client, reference_catalog, language, words):
    page = counsellor_client.get(
        "/catalog/groups/na/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert f'<html lang="{language}">' in page
    for word in words:
        assert word in page
