"""Log-in throttling and lock-out, the optional (or mandatory) second factor, session
limits and logging out everywhere."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import SESSION_SEEN, SESSION_STARTED
from audit.models import AuditEntry
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def _code(device: TOTPDevice) -> str:
    """The code an authenticator app shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def _device(user, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=confirmed)


def _verified(client: Client, device: TOTPDevice) -> None:
    """As after logging in with a code from the device."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("short-1", "too short"),
        ("password1234", "too common"),
        ("394857203948", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(password, complaint):
    with pytest.raises(ValidationError, match=complaint):
        validate_password(password)


def test_a_user_logs_in_with_a_password(client, counsellor):
    response = _log_in(client, "counsellor")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(client, counsellor):
    for _ in range(4):
        assert _log_in(client, "counsellor", "wrong-password").status_code == 200
    assert _log_in(client, "counsellor", "wrong-password").status_code == 429
    response = _log_in(client, "counsellor")
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.content.decode()
    assert client.get("/").status_code == 302, "not logged in"
    assert AuditEntry.objects.filter(action="locked_out", username="counsellor").exists()


def test_the_lock_holds_from_another_address(counsellor):
    for _ in range(5):
        _log_in(Client(), "counsellor", "wrong-password", REMOTE_ADDR="10.0.0.1")
    response = _log_in(Client(), "counsellor", REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429


def test_one_address_trying_many_accounts_is_locked(counsellor, supervisor):
    for number in range(5):
        _log_in(Client(), f"guess{number}", "wrong-password", REMOTE_ADDR="10.0.0.9")
    assert _log_in(Client(), "supervisor", REMOTE_ADDR="10.0.0.9").status_code == 429
    assert _log_in(Client(), "supervisor", REMOTE_ADDR="10.0.0.10").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client, counsellor):
    for _ in range(4):
        _log_in(client, "counsellor", "wrong-password")
    assert _log_in(client, "counsellor").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        _log_in(client, "counsellor", "wrong-password")
    assert _log_in(client, "counsellor").status_code == 302


# Two-factor authentication


def test_a_user_with_an_authenticator_must_give_a_code_after_the_password(client, counsellor):
    device = _device(counsellor)
    response = _log_in(client, "counsellor")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"
    assert client.get("/").status_code == 302, "the password alone does not log in"
    wrong = client.post("/accounts/login/code/", {"token": "000000"})
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post("/accounts/login/code/", {"token": _code(device)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(action="two_factor_failed", username="counsellor").exists()


def test_too_many_wrong_codes_end_the_attempt(client, counsellor):
    _device(counsellor)
    _log_in(client, "counsellor")
    for _ in range(5):
        response = client.post("/accounts/login/code/", {"token": "000000"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/code/").status_code == 302


def test_the_code_step_is_nothing_without_a_password_first(client):
    response = client.get("/accounts/login/code/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_a_user_turns_on_two_factor_with_a_scanned_code(counsellor_client, counsellor):
    page = counsellor_client.get("/accounts/security/")
    text = page.content.decode()
    assert "<svg viewBox=" in text and "Turn on two-factor authentication" in text
    key = counsellor_client.session["two_factor_setup_key"]
    pending = TOTPDevice(user=counsellor, key=key)
    refused = counsellor_client.post("/accounts/security/two-factor/on/", {"token": "123"})
    assert refused.status_code == 400
    response = counsellor_client.post(
        "/accounts/security/two-factor/on/", {"token": _code(pending)}
    )
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=counsellor, confirmed=True).key == key
    assert "On" in counsellor_client.get("/accounts/security/").content.decode()
    assert AuditEntry.objects.filter(action="two_factor_on", username="counsellor").exists()


def test_a_user_can_turn_two_factor_off_unless_the_organisation_requires_it(
    counsellor_client, counsellor
):
    _verified(counsellor_client, _device(counsellor))
    counsellor.organisation.require_two_factor = True
    counsellor.organisation.save()
    counsellor_client.post("/accounts/security/two-factor/off/")
    assert TOTPDevice.objects.filter(user=counsellor).exists()
    counsellor.organisation.require_two_factor = False
    counsellor.organisation.save()
    counsellor_client.post("/accounts/security/two-factor/off/")
    assert not TOTPDevice.objects.filter(user=counsellor).exists()
    [entry] = AuditEntry.objects.filter(action="two_factor_off")
    assert entry.user == counsellor


def test_an_organisation_that_requires_two_factor_sends_users_to_set_it_up(
    counsellor_client, counsellor
):
    counsellor.organisation.require_two_factor = True
    counsellor.organisation.save()
    response = counsellor_client.get("/referrals/")
    assert response.status_code == 302 and response["Location"] == "/accounts/security/"
    api = counsellor_client.post("/api/v1/match", "{}", content_type="application/json")
    assert api.status_code == 403
    assert "requires two-factor" in api.json()["detail"][0]["message"]
    # Setting it up lets the user in.
    counsellor_client.get("/accounts/security/")
    key = counsellor_client.session["two_factor_setup_key"]
    code = _code(TOTPDevice(user=counsellor, key=key))
    counsellor_client.post("/accounts/security/two-factor/on/", {"token": code})
    assert counsellor_client.get("/referrals/").status_code == 200


# Sessions


def _age_session(client: Client, *, started: int = 0, seen: int = 0) -> None:
    session = client.session
    now = int(time.time())
    session[SESSION_STARTED] = now - started
    session[SESSION_SEEN] = now - seen
    session.save()


def test_a_session_ends_after_thirty_minutes_without_activity(counsellor_client):
    _age_session(counsellor_client, started=31 * 60, seen=29 * 60)
    assert counsellor_client.get("/").status_code == 200
    _age_session(counsellor_client, started=62 * 60, seen=31 * 60)
    response = counsellor_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    page = counsellor_client.get(response["Location"]).content.decode()
    assert "Your session ended" in page


def test_a_session_ends_after_ten_hours_however_active(counsellor_client):
    _age_session(counsellor_client, started=10 * 3600 + 60, seen=10)
    assert counsellor_client.get("/").status_code == 302


def test_logging_out_everywhere_ends_every_session_of_the_user(counsellor):
    laptop, phone, colleague = Client(), Client(), Client()
    laptop.force_login(counsellor)
    phone.force_login(counsellor)
    colleague.force_login(UserFactory(username="colleague", organisation=counsellor.organisation))
    assert phone.get("/").status_code == 200
    response = laptop.post("/accounts/logout/everywhere/")
    assert response.status_code == 302
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    assert colleague.get("/").status_code == 200
    assert AuditEntry.objects.filter(action="log_out_everywhere", username="counsellor").exists()
    # The password still works.
    assert _log_in(Client(), "counsellor").status_code == 302


def test_a_deactivated_user_is_logged_out_at_once(counsellor_client, counsellor):
    counsellor.is_active = False
    counsellor.save()
    assert counsellor_client.get("/").status_code == 302


def test_the_admin_logs_in_through_the_same_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_a_user_deactivated_between_password_and_code_is_not_logged_in(client, counsellor):
    device = _device(counsellor)
    _log_in(client, "counsellor")
    counsellor.is_active = False
    counsellor.save()
    response = client.post("/accounts/login/code/", {"token": _code(device)})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_a_session_without_a_code_cannot_turn_two_factor_off(counsellor_client, counsellor):
    _device(counsellor)
    counsellor_client.post("/accounts/security/two-factor/off/")
    assert TOTPDevice.objects.filter(user=counsellor).exists()
    assert not AuditEntry.objects.filter(action="two_factor_off").exists()


def test_a_session_without_a_code_cannot_replace_the_authenticator(counsellor):
    """A password-only session that opened the set-up page before the user set up an
    authenticator cannot later put its own in place."""
    counsellor.organisation.require_two_factor = True
    counsellor.organisation.save()
    intruder = Client()
    intruder.force_login(counsellor)
    intruder.get("/accounts/security/")
    intruder_key = intruder.session["two_factor_setup_key"]
    own = _device(counsellor)
    code = _code(TOTPDevice(user=counsellor, key=intruder_key))
    intruder.post("/accounts/security/two-factor/on/", {"token": code})
    assert list(TOTPDevice.objects.filter(user=counsellor)) == [own]
    assert intruder.get("/referrals/").status_code == 302


def test_turning_two_factor_on_ends_sessions_opened_without_a_code(counsellor):
    earlier, here = Client(), Client()
    earlier.force_login(counsellor)
    here.force_login(counsellor)
    here.get("/accounts/security/")
    code = _code(TOTPDevice(user=counsellor, key=here.session["two_factor_setup_key"]))
    assert here.post("/accounts/security/two-factor/on/", {"token": code}).status_code == 302
    assert here.get("/").status_code == 200, "the session that set it up goes on"
    assert earlier.get("/").status_code == 302


def test_an_authenticator_removed_in_the_admin_is_recorded(client, counsellor):
    superuser = UserFactory(
        username="root", organisation=counsellor.organisation, is_staff=True, is_superuser=True
    )
    device = _device(counsellor)
    client.force_login(superuser)
    _verified(client, _device(superuser))
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="two_factor_off")
    assert (entry.username, entry.object_id) == ("root", str(counsellor.pk))
    assert entry.organisation_id == counsellor.organisation_id


def test_a_superuser_logs_a_user_out_everywhere_from_the_admin(client, counsellor):
    superuser = UserFactory(
        username="root", organisation=counsellor.organisation, is_staff=True, is_superuser=True
    )
    laptop = Client()
    laptop.force_login(counsellor)
    client.force_login(superuser)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "log_out_everywhere", "_selected_action": [counsellor.pk]},
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 302
    entry = AuditEntry.objects.get(action="log_out_everywhere")
    assert (entry.username, entry.object_id) == ("root", str(counsellor.pk))
    assert entry.organisation_id == counsellor.organisation_id
