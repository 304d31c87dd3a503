from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

import feedback.api  # noqa: F401 - importing an app's api module registers its viewsets
import journeys.api  # noqa: F401
import scorecards.api  # noqa: F401
from cxplatform import api, forms, views

auth_urls = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(form_class=forms.PasswordResetForm),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        # Also the link of a new member's invitation: once the password is chosen, the
        # person is signed in.
        auth_views.PasswordResetConfirmView.as_view(post_reset_login=True),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password-change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

settings_urls = [
    path("", views.settings_home, name="settings_home"),
    path("members/", views.member_list, name="member_list"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("members/<int:pk>/invite/", views.member_invite, name="member_invite"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("employees/", views.employee_list, name="employee_list"),
    path("employees/<int:pk>/", views.employee_edit, name="employee_edit"),
    path("employees/<int:pk>/delete/", views.employee_delete, name="employee_delete"),
    path("api-keys/", views.api_key_list, name="api_key_list"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("background/", views.background_work, name="background_work"),
]

api_urls = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api.ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("me/", api.MeView.as_view(), name="me"),
    path("organization/", api.OrganizationView.as_view(), name="organization"),
    *api.router.urls,
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/", include(auth_urls)),
    path("organization/switch/", views.organization_switch, name="organization_switch"),
    path("settings/", include(settings_urls)),
    path("mailbox/", views.mailbox, name="mailbox"),
    path("mailbox/<int:pk>/", views.mailbox_message, name="mailbox_message"),
    path("mailbox/<int:pk>/html/", views.mailbox_message_html, name="mailbox_message_html"),
    path("journeys/", include("journeys.urls")),
    path("", include("feedback.urls")),
    path("scorecards/", include("scorecards.urls")),
    path("api/v1/", include((api_urls, "api"))),
    re_path(r"^api(?:/|$)", views.api_not_found),
    path("admin/", admin.site.urls),
]

handler404 = "cxplatform.views.error_404"
handler500 = "cxplatform.views.error_500"
