from __future__ import annotations

from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="referral-list"),
    path("new/", views.intake, name="referral-create"),
    path("<int:pk>/", views.referral_detail, name="referral-detail"),
    path("<int:pk>/choose/", views.referral_choose, name="referral-choose"),
    path("<int:pk>/void/", views.referral_void, name="referral-void"),
    path("<int:pk>/handout/", views.referral_handout, name="referral-handout"),
    path("<int:pk>/handout.pdf", views.referral_handout_pdf, name="referral-handout-pdf"),
    path(
        "<int:pk>/meetings/<int:meeting>.ics",
        views.meeting_calendar,
        name="referral-meeting-calendar",
    ),
    path(
        "<int:pk>/follow-up/<slug:checkpoint>/",
        views.follow_up,
        name="follow-up",
    ),
    path("follow-ups/", views.follow_ups_due, name="follow-ups-due"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("subject/", views.subject, name="subject"),
    path("dashboard/<slug:table>.csv", views.dashboard_csv, name="dashboard-csv"),
]
