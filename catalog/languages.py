"""Meeting and literature languages, stored as a space-separated list of codes.

A plain text column keeps a group's languages inside its own row, so the change
history and reverts cover them like any other field, and filtering by one
language is a portable regular-expression lookup.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
from collections.abc import Iterable

import pycountry
from django.conf import global_settings
from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

# Languages without a region or script suffix, e.g. "nb" and "nl" but not "zh-hans".
LANGUAGE_CODES: tuple[str, ...] = tuple(
    sorted(code for code, info in LANG_INFO.items() if "-" not in code and "name" in info)
)


# Django's own list spells names properly ("Norwegian Bokmål") and translates them.
_DJANGO_NAMES = dict(global_settings.LANGUAGES)


def language_name(code: str) -> str:
    """The language's name in the active language: Django's where it names it, else
    ISO 639's (pycountry, translated by its own catalogues), never the bare code
    ("so" is Somali, "somalisk", "Somalisch")."""
    name = _DJANGO_NAMES.get(code)
    if name:
        return gettext(name)
    found = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
    if found is not None:
        return capfirst(_iso639(get_language()).gettext(found.name))
    name = LANG_INFO.get(code, {}).get("name")
    return gettext(name) if name else code


@functools.cache
def _iso639(language: str | None) -> gettext_module.NullTranslations:
    if not language:
        return gettext_module.NullTranslations()
    try:
        return gettext_module.translation(
            "iso639-3", pycountry.LOCALES_DIR, languages=[language.split("-")[0]]
        )
    except OSError:
        return gettext_module.NullTranslations()


def language_choices() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in LANGUAGE_CODES]


def split_languages(value: str) -> list[str]:
    return value.split() if value else []


def join_languages(codes: Iterable[str]) -> str:
    """Normalise to sorted, unique, lower-case codes; raise for an unknown code."""
    normalised = sorted({code.strip().lower() for code in codes if code.strip()})
    unknown = [code for code in normalised if code not in LANG_INFO or "-" in code]
    if unknown:
        raise ValidationError(
            _("Unknown language code(s): %(codes)s. Use ISO 639-1 codes such as en, nb or nl."),
            code="invalid_language",
            params={"codes": ", ".join(unknown)},
        )
    return " ".join(normalised)


def validate_language_list(value: str) -> None:
    if join_languages(split_languages(value)) != value:
        raise ValidationError(
            _("Languages must be sorted, unique ISO 639-1 codes separated by spaces."),
            code="invalid_language_list",
        )


def speaks(field: str, code: str) -> Q:
    """A filter for rows whose language list in ``field`` holds ``code``."""
    return Q(**{f"{field}__regex": rf"(^| ){code}( |$)"})
