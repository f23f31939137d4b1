from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudiesConfig(AppConfig):
    name = "studies"
    verbose_name = _("Studies")

    def ready(self) -> None:
        # Say how this app's models take part in change histories.
        from studies import history  # noqa: F401
