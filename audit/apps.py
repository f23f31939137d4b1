from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        # Receivers of log-in events and of the catalog's and studies' history: the
        # audit trail observes those writes, it adds no rule of its own to them.
        from audit import receivers  # noqa: F401
