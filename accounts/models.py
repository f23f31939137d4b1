from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role


class Organisation(models.Model):
    """A clinic or service. Everyone works inside exactly one."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2 code, e.g. NO.")
    )
    # Printed on the patient's handout: whom to ask.
    telephone = models.CharField(
        _("telephone"),
        max_length=40,
        blank=True,
        help_text=_("The number patients call with questions, as it should be printed."),
    )
    contact_note = models.CharField(
        _("when to call"),
        max_length=120,
        blank=True,
        help_text=_("Optional, e.g. opening hours, printed beside the number."),
    )
    require_two_factor = models.BooleanField(
        _("require two-factor authentication"),
        default=False,
        help_text=_(
            "Everyone in the organisation must set up an authenticator app before using "
            "Recovery Menu."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


def new_session_token() -> str:
    return secrets.token_hex(32)


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("organisation"),
    )

    # Part of every session's signature: a new value ends all the user's sessions.
    session_token = models.CharField(
        _("session token"), max_length=64, default=new_session_token, editable=False
    )

    REQUIRED_FIELDS = ["email", "organisation"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def roles(self) -> frozenset[str]:
        """The user's role names, read once per instance (that is, once per request)."""
        cached: frozenset[str] | None = getattr(self, "_roles", None)
        if cached is None:
            cached = frozenset(
                self.groups.filter(name__in=Role.values).values_list("name", flat=True)
            )
            self._roles = cached
        return cached

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django signs sessions with the password hash, so that a new password ends them;
        # the session token adds "log out everywhere" without a new password.
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            self.password + self.session_token,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def end_all_sessions(self) -> None:
        """Invalidate every session of this user, on every device."""
        self.session_token = new_session_token()
        self.save(update_fields=["session_token"])


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def for_key(self, key: str) -> ApiToken | None:
        """The token with its user, and whether the user is a counsellor: one query."""
        from django.contrib.auth.models import Group as RoleGroup

        counsellor = RoleGroup.objects.filter(user=OuterRef("user_id"), name=Role.COUNSELLOR)
        return (
            self.select_related("user")
            .annotate(user_is_counsellor=Exists(counsellor))
            .filter(key_hash=ApiToken.hash(key))
            .first()
        )


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored; the key is shown once."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for."))
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user}: {self.name}"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        key = secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, key_hash=cls.hash(key)), key
