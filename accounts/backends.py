from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class UserBackend(ModelBackend):
    """Django's backend, loading the user of a session with their organisation in the
    same query: every page needs both (scoping, the two-factor rule)."""

    def get_user(self, user_id: Any) -> Any:
        from accounts.models import User

        user = User.objects.select_related("organisation").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
