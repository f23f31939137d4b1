"""Time-based one-time codes (TOTP, RFC 6238) with django-otp: setting up an
authenticator app, and checking a code at log-in."""

from __future__ import annotations

import secrets
from typing import Any

import segno
from django.db import transaction
from django_otp import match_token, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "authenticator"


def has_two_factor(user: Any) -> bool:
    return bool(user_has_device(user, confirmed=True))


def new_key() -> str:
    """A 160-bit secret in hex, as django-otp's TOTP devices keep it."""
    return secrets.token_hex(20)


def pending_device(user: Any, key: str) -> TOTPDevice:
    """The device being set up, not yet saved: for its otpauth:// address."""
    return TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code, to embed in the page (no script, no
    inline style, no image from elsewhere)."""
    # With a viewBox and no fixed size, the code scales to the width the page gives it.
    qr = segno.make(device.config_url, error="m")
    return str(qr.svg_inline(scale=5, border=2, omitsize=True))


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, grouped by four, for apps that cannot scan."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def code_fits(device: TOTPDevice, token: str) -> bool:
    """Whether a code fits a device that is being set up (one step of clock drift allowed)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return bool(totp.verify(int(token), tolerance=1))


@transaction.atomic
def confirm(user: Any, key: str) -> TOTPDevice:
    """Replace the user's authenticator with the one just set up, and end every session
    that was opened without a code from it (the audit receivers record both)."""
    TOTPDevice.objects.filter(user=user).delete()
    device = pending_device(user, key)
    device.confirmed = True
    device.save()
    user.end_all_sessions()
    return device


def verify(user: Any, token: str) -> Any:
    """The user's device that accepts the code (django-otp throttles repeated failures),
    or None."""
    return match_token(user, token)


@transaction.atomic
def turn_off(user: Any) -> None:
    TOTPDevice.objects.filter(user=user).delete()
