from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from audit import log
from audit.models import AuditEntry


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "slug", "country", "require_two_factor"]
    list_filter = ["require_two_factor"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


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

    @admin.action(description=_("Log out on every device"))
    def log_out_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user.end_all_sessions()
            log.account_event(AuditEntry.Action.LOG_OUT_EVERYWHERE, user=user, request=request)
        self.message_user(
            request, _("Ended every session of %(count)s user(s).") % {"count": len(queryset)}
        )
