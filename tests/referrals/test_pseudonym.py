"""A patient's reference must look pseudonymous: the rules by example and by property,
then through the intake page, the API, the command and the model."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accounts.models import ApiToken
from referrals.models import Referral
from referrals.pseudonym import reference_problem
from referrals.services import record_choice
from tests.factories import ReferralFactory
from tests.referrals.test_interfaces import FORM, PROFILE, _from_command

FNR_WEIGHTS = ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))


def _mod11(digits: str, weights: tuple[int, ...]) -> int:
    """10 means no check digit exists; 11 is written as 0."""
    return (11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11) % 11


def fodselsnummer(
    born: dt.date, individual: int, *, day_plus: int = 0, month_plus: int = 0
) -> str | None:
    """DDMMYYIII and its two check digits, or None when no check digit exists."""
    digits = f"{born.day + day_plus:02d}{born.month + month_plus:02d}{born:%y}{individual:03d}"
    for weights in FNR_WEIGHTS:
        check = _mod11(digits, weights)
        if check == 10:
            return None
        digits += str(check)
    return digits


def a_fodselsnummer(born: dt.date, individual: int, **plus: int) -> str:
    """The first valid number from this individual number on (about one in three has
    no check digit)."""
    while (number := fodselsnummer(born, individual, **plus)) is None:
        individual += 1
    return number


def fnr_checks_pass(digits: str) -> bool:
    return all(
        _mod11(digits[: 9 + index], weights) == int(digits[9 + index])
        for index, weights in enumerate(FNR_WEIGHTS)
    )


def belgian(born: dt.date, serial: int) -> str:
    """YYMMDDSSS and 97 minus it modulo 97 (with a 2 in front from 2000)."""
    digits = f"{born:%y%m%d}{serial:03d}"
    number = int(("2" if born.year >= 2000 else "") + digits)
    return f"{digits}{97 - number % 97:02d}"


def belgian_checks_pass(digits: str) -> bool:
    check = int(digits[9:])
    return check in (97 - int(digits[:9]) % 97, 97 - int("2" + digits[:9]) % 97)


FNR = a_fodselsnummer(dt.date(1990, 1, 1), 123)
BORN_1990 = belgian(dt.date(1990, 5, 18), 223)
BORN_2005 = belgian(dt.date(2005, 11, 3), 114)


# --- By example ---------------------------------------------------------------


def test_the_example_numbers_are_what_they_claim():
    assert len(FNR) == 11 and FNR.startswith("010190")
    assert fnr_checks_pass(FNR)
    assert belgian_checks_pass(BORN_1990) and belgian_checks_pass(BORN_2005)
    # Born from 2000, the check digits need the 2 in front.
    assert int(BORN_2005[9:]) != 97 - int(BORN_2005[:9]) % 97


@pytest.mark.parametrize(
    ("reference", "looks_like"),
    [
        (FNR, "fødselsnummer"),
        (f"P-{FNR}", "fødselsnummer"),
        (f"{FNR[:6]}-{FNR[6:]}", "fødselsnummer"),
        (f"{FNR[:6]} {FNR[6:]}", "fødselsnummer"),
        (f"{FNR[:6]}.{FNR[6:]}", "fødselsnummer"),
        (a_fodselsnummer(dt.date(1985, 6, 30), 0, day_plus=40), "D-number"),
        (a_fodselsnummer(dt.date(1985, 6, 30), 0, month_plus=40), "fødselsnummer"),
        (a_fodselsnummer(dt.date(1985, 6, 30), 0, month_plus=80), "fødselsnummer"),
        (a_fodselsnummer(dt.date(2000, 2, 29), 500), "fødselsnummer"),
        (BORN_1990, "Belgian national register number"),
        (BORN_2005, "Belgian national register number"),
        (
            f"{BORN_1990[:2]}.{BORN_1990[2:4]}.{BORN_1990[4:6]}-{BORN_1990[6:9]}.{BORN_1990[9:]}",
            "rijksregisternummer",
        ),
        (f"clinic/{BORN_2005}", "rijksregisternummer"),
        ("+47 912 34 567", "phone number"),
        ("0032 470 12 34 56", "phone number"),
        ("91234567", "phone number"),
        ("(0)9 123.45.67", "phone number"),
        ("kari.nordmann@example.org", "e-mail address"),
        ("P-0042@clinic", "e-mail address"),
        ("Kari", "at least one digit"),
        ("Kari Nordmann", "never a name"),
        ("nordmann", "at least one digit"),
    ],
)
def test_what_identifies_a_person_is_refused_saying_what_it_looks_like(reference, looks_like):
    problem = reference_problem(reference)
    assert problem is not None and looks_like in problem
    assert "P-" in problem, "the message says what is allowed"


@pytest.mark.parametrize(
    "reference",
    ["P-0042", "NO-2026-0001", "clinic/17", "A12", "D-00042", "0042", "P-1234567", "B-1"],
)
def test_pseudonymous_references_are_accepted(reference):
    assert reference_problem(reference) is None


def test_a_phone_number_s_message_suggests_a_letter_prefix():
    assert "letter prefix such as P-" in str(reference_problem("91234567"))
    assert reference_problem("P-91234567") is None


def test_an_impossible_date_is_not_a_fodselsnummer():
    # Check digits alone do not make a fødselsnummer: 31 April is no one's birthday
    # (and day 90 rules out a Belgian number).
    impossible = a_fodselsnummer(dt.date(1990, 4, 1), 0, day_plus=30)
    assert impossible.startswith("310490")
    assert reference_problem(f"P-{impossible}") is None
    assert reference_problem(f"P-{a_fodselsnummer(dt.date(1990, 4, 30), 0)}") is not None


@pytest.mark.parametrize(
    "first_nine",
    ["900000017", "900100017", "902101017", "904101017"],
    ids=["date unknown", "day unknown", "bis number", "bis number, sex unknown"],
)
def test_a_belgian_number_without_a_full_birth_date_is_refused(first_nine):
    number = f"{first_nine}{97 - int(first_nine) % 97:02d}"
    assert "rijksregisternummer" in str(reference_problem(f"B-{number}"))


def test_the_check_is_cheap():
    references = [f"P-{FNR}", "+47 912 34 567", "NO-2026-0001", "A" * 20 + "1" * 20]
    started = time.perf_counter()
    for _round in range(250):
        for reference in references:
            reference_problem(reference)
    # A thousand checks in well under a second: the match API calls it on every request.
    assert time.perf_counter() - started < 0.5


# --- By property ---------------------------------------------------------------

BIRTH_DATES = st.dates(dt.date(1854, 1, 1), dt.date(2039, 12, 31))
SEPARATORS = st.sampled_from(["", "-", " ", "."])
PREFIXES = st.sampled_from(["", "P-", "ref/", "NO-2026-"])


@settings(max_examples=300, deadline=None)
@given(
    BIRTH_DATES,
    st.integers(0, 999),
    st.sampled_from([0, 40]),
    st.sampled_from([0, 40, 80]),
    SEPARATORS,
    PREFIXES,
)
def test_every_fodselsnummer_is_refused(born, individual, day_plus, month_plus, separator, prefix):
    number = fodselsnummer(born, individual, day_plus=day_plus, month_plus=month_plus)
    assume(number is not None)
    assert number is not None
    assert reference_problem(f"{prefix}{number[:6]}{separator}{number[6:]}") is not None


@settings(max_examples=300, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)), st.integers(1, 997), PREFIXES)
def test_every_belgian_national_register_number_is_refused(born, serial, prefix):
    assert reference_problem(f"{prefix}{belgian(born, serial)}") is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_eleven_digits_failing_both_checksums_are_accepted_after_a_letter(digits):
    assume(not fnr_checks_pass(digits) and not belgian_checks_pass(digits))
    assert reference_problem(f"P-{digits}") is None


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**10 - 1), st.sampled_from(["P-{}", "P-{:04d}", "D-{:05d}"]))
def test_numbered_references_are_accepted(number, template):
    # What the demo data, the benchmarks and counsellors write; ten digits at most,
    # since eleven could pass a checksum.
    assert reference_problem(template.format(number)) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=8, max_size=15), st.sampled_from(["", "+"]))
def test_a_bare_number_of_phone_length_is_refused(digits, plus):
    assume(not digits.startswith("00"))  # 00 is the international prefix, not the number
    assert reference_problem(f"{plus}{digits}") is not None


# --- Through the interfaces ----------------------------------------------------


@pytest.mark.django_db
def test_the_api_refuses_a_fodselsnummer_naming_the_reference(
    counsellor_client, reference_data, max_queries
):
    profile = {**PROFILE, "reference": f"P-{FNR}"}
    with max_queries(10) as refused:
        response = counsellor_client.post("/api/v1/match", profile, content_type="application/json")
    assert response.status_code == 422
    with max_queries(20) as matched:
        counsellor_client.post("/api/v1/match", PROFILE, content_type="application/json")
    assert refused.number < matched.number, "refused before the catalog is read"
    [detail] = response.json()["detail"]
    assert detail["field"] == "reference"
    assert "fødselsnummer" in detail["message"] and "P-0042" in detail["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reference", "looks_like"),
    [
        ("+47 912 34 567", "phone number"),
        ("kari@example.org", "e-mail address"),
        (BORN_2005, "rijksregisternummer"),
        ("Kari", "at least one digit"),
    ],
)
def test_the_api_with_a_token_names_what_the_reference_looks_like(
    client, counsellor, reference_data, reference, looks_like
):
    _token, key = ApiToken.issue(counsellor, "test")
    response = client.post(
        "/api/v1/match",
        {**PROFILE, "reference": reference},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 422
    details = response.json()["detail"]
    assert [d["field"] for d in details] == ["reference"]
    assert looks_like in details[0]["message"]


@pytest.mark.django_db
def test_a_stranger_is_refused_before_the_reference_is_read(client, reference_data):
    response = client.post(
        "/api/v1/match", {**PROFILE, "reference": FNR}, content_type="application/json"
    )
    assert response.status_code == 401
    assert FNR not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reference", "looks_like"),
    [(f"{FNR[:6]}-{FNR[6:]}", "fødselsnummer"), ("91234567", "phone number")],
)
def test_the_command_exits_2_naming_the_reference(
    reference_data, tmp_path, capsys, reference, looks_like
):
    code, out, err = _from_command(
        tmp_path, capsys, json.dumps({**PROFILE, "reference": reference})
    )
    assert code == 2
    assert out == ""
    assert err.startswith("reference: ") and looks_like in err


@pytest.mark.django_db
def test_the_intake_shows_the_problem_on_the_reference_and_saves_nothing(
    counsellor_client, reference_data
):
    response = counsellor_client.post(
        "/referrals/new/", {**FORM, "reference": BORN_1990, "save": "1"}
    )
    assert response.status_code == 200
    assert "rijksregisternummer" in response.context["form"].errors["reference"][0]
    assert "rijksregisternummer" in response.content.decode()
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_a_half_typed_reference_does_not_stop_the_menu_re_ranking(
    counsellor_client, reference_data
):
    response = counsellor_client.post(
        "/referrals/new/", {**FORM, "reference": "Ka"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert 'data-group="' in page
    assert "P-0000" not in page, "the stand-in reference is never shown"
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_the_model_refuses_what_the_contract_refuses(counsellor):
    referral = ReferralFactory.create(counsellor=counsellor)
    referral.full_clean()
    referral.reference = f"P-{FNR}"
    with pytest.raises(ValidationError) as refused:
        referral.full_clean()
    assert "fødselsnummer" in refused.value.message_dict["reference"][0]


@pytest.mark.django_db
def test_a_referral_saved_before_these_rules_still_takes_the_patient_s_choice(counsellor):
    referral = ReferralFactory.create(counsellor=counsellor, reference="kari")
    chosen = referral.options[0]["group"]
    assert record_choice(referral=referral, group=chosen).chosen_group == chosen
