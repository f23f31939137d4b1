from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group as RoleGroup
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Organisation, User
from accounts.roles import Role

DEMO_PASSWORD = "demo-recovery-menu"
DEMO_USERS = (
    ("counsellor", Role.COUNSELLOR),
    ("supervisor", Role.SUPERVISOR),
    ("catalogadmin", Role.CATALOG_ADMIN),
)


class Command(BaseCommand):
    help = "Create a demo organisation with one user per role (for trying the project out)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo users have a published password; refusing with DEBUG off.")
        organisation, _created = Organisation.objects.get_or_create(
            slug="demo-clinic",
            # Not a real number: the demo prints where a clinic's own would be.
            defaults={"name": "Demo Clinic", "country": "NO", "telephone": "+47 00 00 00 00"},
        )
        for username, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username, password=DEMO_PASSWORD, organisation=organisation
                )
            user.groups.add(RoleGroup.objects.get(name=role.value))
            self.stdout.write(f"  {role.label:<14} {username} / {DEMO_PASSWORD}")
