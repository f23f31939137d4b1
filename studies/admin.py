from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from studies.models import Finding, FindingTrait, Participant, Quote, Study, Theme


class FindingTraitInline(admin.TabularInline[FindingTrait, Finding]):
    model = FindingTrait
    extra = 0


@admin.register(Study)
class StudyAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["key", "authors", "year", "doi"]


@admin.register(Theme)
class ThemeAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["name", "study", "level", "parent"]
    list_filter = ["study", "level"]


@admin.register(Participant)
class ParticipantAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["pseudonym", "study", "age", "gender"]


@admin.register(Quote)
class QuoteAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["key", "study", "speaker", "kind"]
    list_filter = ["study", "kind"]
    search_fields = ["text"]


@admin.register(Finding)
class FindingAdmin(SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["key", "study", "theme", "fellowship"]
    search_fields = ["key", "summary"]
    inlines = [FindingTraitInline]
