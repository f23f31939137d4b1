"""The audit trail: who did what, when and from where. Rows are only ever added."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit entry."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    def visible_to(self, user: Any) -> AuditEntryQuerySet:
        """A supervisor reviews their organisation's entries; a catalog admin the
        catalog's and the studies'; anyone else nothing."""
        from accounts.roles import Role

        scope = models.Q(pk__in=[])
        if user.has_role(Role.SUPERVISOR):
            scope |= models.Q(
                organisation_id=user.organisation_id,
                area__in=[AuditEntry.Area.REFERRALS, AuditEntry.Area.ACCOUNTS],
            )
        if user.has_role(Role.CATALOG_ADMIN):
            scope |= models.Q(area__in=[AuditEntry.Area.CATALOG, AuditEntry.Area.STUDIES])
        return self.filter(scope)


class AuditEntry(models.Model):
    class Area(models.TextChoices):
        REFERRALS = "referrals", _("Referrals")
        CATALOG = "catalog", _("Catalog")
        STUDIES = "studies", _("Studies")
        ACCOUNTS = "accounts", _("Accounts")

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        DELETE = "delete", _("Deleted")
        EXPORT = "export", _("Exported")
        ERASE = "erase", _("Erased")
        ANONYMISE = "anonymise", _("Anonymised")
        LOG_IN = "log_in", _("Logged in")
        LOG_IN_FAILED = "log_in_failed", _("Failed log-in")
        LOCKED_OUT = "locked_out", _("Locked out")
        LOG_OUT = "log_out", _("Logged out")
        LOG_OUT_EVERYWHERE = "log_out_everywhere", _("Logged out everywhere")
        TWO_FACTOR_ON = "two_factor_on", _("Turned on two-factor authentication")
        TWO_FACTOR_OFF = "two_factor_off", _("Turned off two-factor authentication")
        TWO_FACTOR_FAILED = "two_factor_failed", _("Wrong two-factor code")

    at = models.DateTimeField(_("when"), default=timezone.now)
    # PROTECT: an account that has left traces in the trail is deactivated, not deleted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # As typed at a failed log-in, or the user's name when the entry was written.
    username = models.CharField(_("user name"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    area = models.CharField(_("area"), max_length=20, choices=Area.choices)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object"), max_length=50, blank=True)
    # The pseudonymous reference a referral entry concerns; kept when the referral is
    # erased, as the record that it was (access logs are kept under their own duty).
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    summary = models.CharField(_("what"), max_length=300, blank=True)
    path = models.CharField(_("address requested"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(area__in=["referrals", "catalog", "studies", "accounts"]),
                name="audit_auditentry_area_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    action__in=[
                        "view",
                        "create",
                        "change",
                        "delete",
                        "export",
                        "erase",
                        "anonymise",
                        "log_in",
                        "log_in_failed",
                        "locked_out",
                        "log_out",
                        "log_out_everywhere",
                        "two_factor_on",
                        "two_factor_off",
                        "two_factor_failed",
                    ]
                ),
                name="audit_auditentry_action_valid",
            ),
        ]
        indexes = [
            # A supervisor's access log: one organisation's newest entries.
            models.Index(fields=["organisation", "-at"], name="audit_org_recent"),
            # A catalog admin's log: the catalog's and the studies' newest entries.
            models.Index(fields=["area", "-at"], name="audit_area_recent"),
            # Everything logged under one reference (subject access, erasure).
            models.Index(fields=["organisation", "reference"], name="audit_org_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit entries cannot be deleted.")
