from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group as RoleGroup
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from accounts.roles import Role

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_migrate_creates_one_group_per_role_with_its_permissions():
    groups = {group.name: group for group in RoleGroup.objects.prefetch_related("permissions")}
    assert set(groups) >= set(Role.values)
    admin_perms = {p.codename for p in groups[Role.CATALOG_ADMIN].permissions.all()}
    counsellor_perms = {p.codename for p in groups[Role.COUNSELLOR].permissions.all()}
    assert {"change_group", "change_traitvalue", "add_availability"} <= admin_perms
    assert "view_group" in counsellor_perms
    assert "change_group" not in counsellor_perms


@pytest.mark.django_db
def test_demo_users_get_one_role_each_and_can_be_created_twice(settings, capsys):
    settings.DEBUG = True
    call_command("create_demo_users")
    call_command("create_demo_users")
    assert User.objects.filter(organisation__slug="demo-clinic").count() == 3
    assert User.objects.get(username="catalogadmin").has_role(Role.CATALOG_ADMIN)
    assert not User.objects.get(username="counsellor").has_role(Role.CATALOG_ADMIN)
    assert "counsellor / demo-recovery-menu" in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_users_are_refused_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("create_demo_users")
