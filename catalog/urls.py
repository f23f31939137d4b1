from __future__ import annotations

from django.urls import path

from catalog import export_views, feed_views, finder, meeting_views, views

app_name = "catalog"

urlpatterns = [
    path("", views.group_list, name="group-list"),
    path("compare/", views.group_compare, name="group-compare"),
    path("groups/new/", views.group_create, name="group-create"),
    path("groups/<slug:slug>/", views.group_detail, name="group-detail"),
    path("groups/<slug:slug>/edit/", views.group_edit, name="group-edit"),
    path("groups/<slug:slug>/history/", views.group_history, name="group-history"),
    path(
        "groups/<slug:slug>/history/<str:kind>/<int:history_id>/undo/",
        views.history_undo,
        name="history-undo",
    ),
    path("export.json", views.catalog_export, {"fmt": "json"}, name="catalog-export-json"),
    path("export.zip", views.catalog_export, {"fmt": "zip"}, name="catalog-export-zip"),
    path("import/", views.catalog_import, name="catalog-import"),
    path("import/<uuid:pk>/", views.catalog_import_preview, name="catalog-import-preview"),
    path("meetings.json", export_views.meeting_guide, name="meeting-guide-feed"),
    path("meetings/find/", finder.meeting_finder, name="meeting-finder"),
    path("meetings/template.csv", feed_views.meeting_template, name="meeting-template"),
    path("feeds/", feed_views.feed_list, name="feed-list"),
    path("feeds/new/", feed_views.feed_create, name="feed-create"),
    path("feeds/<slug:key>/edit/", feed_views.feed_edit, name="feed-edit"),
    path("feeds/<slug:key>/import/", feed_views.feed_import, name="feed-import"),
    path(
        "feeds/<slug:key>/import/<uuid:pk>/",
        feed_views.feed_import_preview,
        name="feed-import-preview",
    ),
    path("meetings/new/", meeting_views.meeting_create, name="meeting-create"),
    path("meetings/<int:pk>/", meeting_views.meeting_detail, name="meeting-detail"),
    path("meetings/<int:pk>/edit/", meeting_views.meeting_edit, name="meeting-edit"),
    path("meetings/<int:pk>/retire/", meeting_views.meeting_retire, name="meeting-retire"),
    path("meetings/<int:pk>/history/", meeting_views.meeting_history_page, name="meeting-history"),
    path(
        "meetings/<int:pk>/history/<str:kind>/<int:history_id>/undo/",
        meeting_views.meeting_history_undo,
        name="meeting-history-undo",
    ),
    path("hsds.json", export_views.hsds, name="hsds-export"),
    path("sources/", views.source_list, name="source-list"),
    path("sources/new/", views.source_edit, name="source-create"),
    path("sources/<slug:key>/edit/", views.source_edit, name="source-edit"),
]
