from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from catalog.meeting_import import sync_feed_source
from catalog.models import Availability, Group, MeetingFeed, Source, Trait, TraitValue


class TraitValueInline(admin.TabularInline[TraitValue, Group]):
    model = TraitValue
    extra = 0
    autocomplete_fields = ["source"]


class AvailabilityInline(admin.TabularInline[Availability, Group]):
    model = Availability
    extra = 0


@admin.register(Group)
class GroupAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["name", "slug", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug"]
    inlines = [TraitValueInline, AvailabilityInline]


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["title", "key", "kind"]
    list_filter = ["kind"]
    search_fields = ["title", "key"]


@admin.register(MeetingFeed)
class MeetingFeedAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    """Feeds refreshed by ``manage.py refresh_meetings`` (never while serving a
    request); each cites its own source, created with it."""

    list_display = ["name", "format", "group", "active", "refreshed_at"]
    list_filter = ["format", "active"]
    search_fields = ["name", "key", "url"]
    readonly_fields = ["source", "refreshed_at", "last_report"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: HttpRequest, obj: MeetingFeed, form: Any, change: bool) -> None:
        with transaction.atomic():
            sync_feed_source(obj)
            super().save_model(request, obj, form, change)


@admin.register(Trait)
class TraitAdmin(admin.ModelAdmin[Trait]):
    """Read-only: the vocabulary is defined in catalog/vocabulary.py."""

    list_display = ["key", "dimension", "label", "position"]
    list_filter = ["dimension"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Trait | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Trait | None = None) -> bool:
        return False
