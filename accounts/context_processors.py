from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.roles import Role


def roles(request: HttpRequest) -> dict[str, Any]:
    """Expose the signed-in user's roles to templates, for navigation by role."""
    user = getattr(request, "user", None)
    names: frozenset[str] = frozenset()
    if user is not None and user.is_authenticated:
        names = user.roles
    return {
        "user_roles": names,
        "is_counsellor": Role.COUNSELLOR.value in names,
        "is_supervisor": Role.SUPERVISOR.value in names,
        "is_catalog_admin": Role.CATALOG_ADMIN.value in names,
    }
