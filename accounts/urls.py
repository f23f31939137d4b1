from __future__ import annotations

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_verify, name="login-verify"),
    path("logout/", views.logout, name="logout"),
    path("logout/everywhere/", views.logout_everywhere, name="logout-everywhere"),
    path("security/", views.security, name="two-factor"),
    path("security/two-factor/on/", views.two_factor_on, name="two-factor-on"),
    path("security/two-factor/off/", views.two_factor_off, name="two-factor-off"),
]
