from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from accounts import views as account_views
from referrals.api import api

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("catalog/", include("catalog.urls")),
    path("studies/", include("studies.urls")),
    path("referrals/", include("referrals.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/", api.urls),
    # Choosing a language is open before logging in too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/login/", account_views.admin_login),
    path("admin/", admin.site.urls),
]
