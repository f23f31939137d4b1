"""The three roles of the product, as Django groups with their permissions."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNSELLOR = "counsellor", _("Counsellor")
    SUPERVISOR = "supervisor", _("Supervisor")
    CATALOG_ADMIN = "catalog_admin", _("Catalog admin")


# The reference data every role reads and catalog admins curate.
CURATED_MODELS = (
    "catalog.group",
    "catalog.traitvalue",
    "catalog.availability",
    "catalog.source",
    "catalog.trait",
    "studies.study",
    "studies.theme",
    "studies.participant",
    "studies.quote",
    "studies.referencetext",
    "studies.finding",
    "studies.findingtrait",
)


def _perms(actions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        f"{model.split('.')[0]}.{action}_{model.split('.')[1]}"
        for model in CURATED_MODELS
        for action in actions
    )


# Permission codenames per role, as "app_label.codename". Which referrals a user
# sees is narrowed further by organisation and role (Referral.objects.visible_to).
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.COUNSELLOR: (
        *_perms(("view",)),
        "referrals.view_referral",
        "referrals.add_referral",
        "referrals.change_referral",
        "referrals.view_followup",
        "referrals.add_followup",
        "referrals.change_followup",
        # Their own referrals saved by mistake.
        "referrals.void_referral",
        # A counsellor's dashboard is a personal summary of their own referrals.
        "referrals.view_dashboard",
    ),
    Role.SUPERVISOR: (
        *_perms(("view",)),
        "referrals.view_referral",
        "referrals.view_followup",
        "referrals.view_dashboard",
        # Requests of a data subject: export or erase all held under a reference.
        "referrals.manage_subject_data",
        # The organisation's referrals saved by mistake, e.g. by a colleague who left.
        "referrals.void_referral",
        # The organisation's access log (audit.AuditEntry.objects.visible_to).
        "audit.view_auditentry",
    ),
    Role.CATALOG_ADMIN: (
        *_perms(("view", "add", "change", "delete")),
        # The catalog's and the studies' log.
        "audit.view_auditentry",
    ),
}


def sync_role_groups(**kwargs: Any) -> None:
    """Create the role groups and give each exactly its permissions."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # Apps after this one in INSTALLED_APPS get their permissions later in the same
    # migrate; create them all now (idempotent) so the roles can be given them.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))

    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted: list[Permission] = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
