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


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "{d} {b} {Y}, {H}:{M}"),  # day first, 24-hour clock: not "Dec. 5, 2026, 2 p.m."
        ("nb", "{dd}.{mm}.{Y} {H}:{M}"),
        ("nl", "{d}-{m}-{Y} {H}:{M}"),
    ],
)
def test_dates_and_times_are_written_as_each_language_writes_them(
    counsellor, counsellor_client, language, written
):
    import datetime as dt

    from django.utils import timezone

    from referrals.models import Referral
    from tests.factories import ReferralFactory

    referral = ReferralFactory.create(counsellor=counsellor)
    when = timezone.make_aware(dt.datetime(2026, 3, 4, 0, 5))
    Referral.objects.filter(pk=referral.pk).update(created_at=when)
    page = counsellor_client.get(
        f"/referrals/{referral.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    month = {"en": "Mar", "nb": "", "nl": ""}[language]
    shown = written.format(d=4, dd="04", b=month, m=3, mm="03", Y=2026, H="00", M="05")
    assert shown in page
    assert "midnight" not in page and "a.m." not in page
