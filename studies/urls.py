from __future__ import annotations

from django.urls import path

from studies import views

app_name = "studies"

urlpatterns = [
    path("", views.study_list, name="study-list"),
    path("search/", views.quote_search, name="quote-search"),
    path("export.json", views.studies_export, name="studies-export"),
    path("import/", views.studies_import, name="studies-import"),
    path("import/<uuid:pk>/", views.studies_import_preview, name="studies-import-preview"),
    path("<slug:key>/", views.study_detail, name="study-detail"),
    path("<slug:key>/themes/<slug:theme_key>/", views.theme_detail, name="theme-detail"),
    path("<slug:key>/quotes/<slug:quote_key>/edit/", views.quote_edit, name="quote-edit"),
    path("<slug:key>/findings/<slug:finding_key>/edit/", views.finding_edit, name="finding-edit"),
    path("<slug:key>/history/", views.study_history_page, name="study-history"),
    path(
        "<slug:key>/history/<str:kind>/<int:history_id>/undo/",
        views.history_undo,
        name="history-undo",
    ),
]
