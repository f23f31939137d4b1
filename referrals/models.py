from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class ReferralQuerySet(models.QuerySet["Referral"]):
    def visible_to(self, user: Any) -> ReferralQuerySet:
        """A counsellor sees their own referrals; a supervisor their organisation's."""
        from accounts.roles import Role

        mine = self.filter(organisation_id=user.organisation_id)
        if user.has_role(Role.SUPERVISOR):
            return mine
        return mine.filter(counsellor=user)


class Referral(models.Model):
    """A menu saved under a pseudonymous reference, as it was shown, and the choice made."""

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        NORWEGIAN = "nb", _("Norwegian Bokmål")
        DUTCH = "nl", _("Dutch")

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("organisation"),
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("counsellor"),
    )
    reference = models.CharField(
        _("reference"),
        max_length=40,
        help_text=_("A pseudonymous reference such as P-0042; never a name."),
    )
    language = models.CharField(
        _("handout language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    profile = models.JSONField(_("profile"))
    menu = models.JSONField(_("menu as shown"))
    chosen_group = models.CharField(_("chosen group"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=["en", "nb", "nl"]),
                name="referrals_referral_language_valid",
            ),
        ]
        indexes = [
            # "My referrals": a counsellor's newest first, and search by reference.
            models.Index(fields=["counsellor", "-created_at"], name="referral_counsellor_recent"),
            models.Index(fields=["organisation", "reference"], name="referral_org_reference"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("referrals:referral-detail", args=[self.pk])

    @property
    def options(self) -> list[dict[str, Any]]:
        options: list[dict[str, Any]] = self.menu.get("options", [])
        return options

    @property
    def chosen_option(self) -> dict[str, Any] | None:
        return next((o for o in self.options if o["group"] == self.chosen_group), None)
