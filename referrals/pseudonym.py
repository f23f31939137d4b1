"""Is a patient's reference pseudonymous? Refuse what identifies a person or reaches them.

A reference is the only free text about a patient that Recovery Menu keeps, so the
intake page, the API, ``manage.py match`` and the model all refuse one that looks like
an e-mail address, a phone number, a Norwegian fødselsnummer (or D-, H- or synthetic
test number), a Belgian national register number, or a word with no digit (a name).

The checks are a few regular expressions and some arithmetic, cheap enough for every
request of the match API. They can refuse a made-up reference that happens to pass a
checksum (about one in a few hundred 11-digit numbers); a letter prefix and another
number fix that, and erring that way is the point.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Digits joined by anything but letters: 010190-12345, 010190 12345 and 90.01.01-123.45
# are one number, as a person would read them; a letter starts a new one.
_NUMBER = re.compile(r"[0-9](?:[\W_]*[0-9])*")
_NOT_DIGIT = re.compile(r"[^0-9]")
# Only digits and what people write between them when they write a phone number.
_PHONE = re.compile(r"\+?[0-9 ().-]+")
_DIGIT = re.compile(r"[0-9]")

_FNR_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_FNR_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _plausible_date(day: int, month: int, year: int) -> bool:
    """A day of a month in some year ending in ``year`` (two digits)."""
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    # 29 February: 2000 was a leap year, so any year divisible by four may be one.
    return not (month == 2 and day == 29 and year % 4)


def _mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    """The check digit that follows these digits of a fødselsnummer; None where the
    remainder leaves none (such numbers are never issued)."""
    check = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def is_fodselsnummer(digits: str) -> bool:
    """Eleven digits DDMMYYIIIKK with valid check digits and a plausible date.

    D-numbers add 40 to the day, H-numbers 40 to the month, and Skatteetaten's synthetic
    test numbers 80 to the month.
    """
    if len(digits) != 11:
        return False
    if _mod11(digits[:9], _FNR_WEIGHTS_1) != int(digits[9]):
        return False
    if _mod11(digits[:10], _FNR_WEIGHTS_2) != int(digits[10]):
        return False
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    day = day - 40 if day > 40 else day
    month = month - 80 if month > 80 else month - 40 if month > 40 else month
    return _plausible_date(day, month, year)


def is_belgian_register_number(digits: str) -> bool:
    """Eleven digits YYMMDDSSSCC whose CC is 97 minus the first nine digits modulo 97
    (with a 2 in front for people born from 2000).

    Bis numbers add 20 or 40 to the month; a month or day of 0 means it is not known.
    """
    if len(digits) != 11:
        return False
    check = int(digits[9:])
    if check not in (97 - int(digits[:9]) % 97, 97 - int("2" + digits[:9]) % 97):
        return False
    year, month, day = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    month = month - 40 if month >= 40 else month - 20 if month >= 20 else month
    if not 0 <= month <= 12 or not 0 <= day <= 31:
        return False
    return month == 0 or day == 0 or _plausible_date(day, month, year)


def _national_number(reference: str) -> str | None:
    """What kind of national identity number the reference holds, if any."""
    for found in _NUMBER.finditer(reference):
        digits = _NOT_DIGIT.sub("", found.group())
        # Every eleven digits in a row: a number with a digit added is still that number.
        for start in range(len(digits) - 10):
            window = digits[start : start + 11]
            if is_fodselsnummer(window):
                return _(
                    "looks like a Norwegian national identity number (fødselsnummer or "
                    "D-number); use a pseudonymous reference such as P-0042."
                )
            if is_belgian_register_number(window):
                return _(
                    "looks like a Belgian national register number (rijksregisternummer); "
                    "use a pseudonymous reference such as P-0042."
                )
    return None


def _is_phone_number(reference: str) -> bool:
    """8 to 15 digits and phone separators only, after an optional + or 00."""
    if not _PHONE.fullmatch(reference):
        return False
    digits = _NOT_DIGIT.sub("", reference.removeprefix("+"))
    if reference.startswith("00"):
        digits = digits[2:]
    return 8 <= len(digits) <= 15


def reference_problem(reference: str) -> str | None:
    """Why the reference is not acceptable as a pseudonym, or None if it is.

    The message names what the reference looks like and what to use instead.
    """
    if "@" in reference:
        return _(
            "looks like an e-mail address; use a pseudonymous reference such as P-0042, "
            "never the patient's contact details."
        )
    national = _national_number(reference)
    if national:
        return national
    if _is_phone_number(reference):
        return _(
            "looks like a phone number; never use the patient's contact details. If it is "
            "a case number of your own, give it a letter prefix such as P-."
        )
    if not _DIGIT.search(reference):
        return _("a pseudonymous reference holds at least one digit, e.g. P-0042; never a name.")
    return None


def validate_reference(reference: str) -> None:
    """The model field's validator: the same rule as the match contract."""
    problem = reference_problem(reference)
    if problem:
        raise ValidationError(problem, code="not_pseudonymous")
