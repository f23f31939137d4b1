from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "slug", "country"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ["username", "email", "organisation", "is_active"]
    list_filter = ["organisation", "groups", "is_active"]
    list_select_related = ["organisation"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or []),
        (None, {"fields": ["organisation"]}),
    ]
    add_fieldsets = [
        *(BaseUserAdmin.add_fieldsets or []),
        (None, {"fields": ["email", "organisation"]}),
    ]
