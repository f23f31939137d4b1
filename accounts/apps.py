from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import start_session_clock
        from accounts.roles import sync_role_groups

        # Every way of logging in (the log-in page, its second step, the test client)
        # starts the session's idle and absolute clocks.
        user_logged_in.connect(start_session_clock, dispatch_uid="session_clock")

        # Permissions exist only after every app has migrated, so the role groups are
        # brought up to date then, on every migrate (the sync is idempotent).
        post_migrate.connect(sync_role_groups, sender=self)
