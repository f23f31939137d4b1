from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from catalog.models import Availability, Group, Source, Trait, TraitValue


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


@admin.register(Trait)
class TraitAdmin(admin.ModelAdmin[Trait]):
    list_display = ["key", "dimension", "label", "position"]
    list_filter = ["dimension"]
