from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organisation, User
from audit import log
from audit.models import AuditEntry


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "slug", "country", "require_two_factor"]
    list_filter = ["require_two_factor"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The admin saves in a transaction: the entry stands or falls with the change.
        if change and "require_two_factor" in form.changed_data:
            log.record(
                area=AuditEntry.Area.ACCOUNTS,
                action=AuditEntry.Action.CHANGE,
                organisation_id=obj.pk,
                object_type="organisation",
                object_id=obj.pk,
                summary=f"require two-factor authentication: {obj.require_two_factor}",
                request=request,
            )


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ["username", "email", "organisation", "is_active"]
    list_filter = ["organisation", "groups", "is_active"]
    list_select_related = ["organisation"]
    actions = ["log_out_everywhere"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or []),
        (None, {"fields": ["organisation"]}),
    ]
    add_fieldsets = [
        *(BaseUserAdmin.add_fieldsets or []),
        (None, {"fields": ["email", "organisation"]}),
    ]

    @admin.action(description=gettext_lazy("Log out on every device"))
    def log_out_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        with transaction.atomic():
            for user in queryset:
                user.end_all_sessions()
                log.about_user(
                    AuditEntry.Action.LOG_OUT_EVERYWHERE,
                    user,
                    summary=f"sessions of {user.get_username()} ended in the admin",
                    request=request,
                )
        self.message_user(
            request, _("Ended every session of %(count)s user(s).") % {"count": len(queryset)}
        )
