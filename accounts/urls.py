from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.views import auth, invites, teams

urlpatterns = [
    path("accounts/signup/", auth.signup, name="signup"),
    path("accounts/signup/sent/", auth.signup_sent, name="signup_sent"),
    # The token carries its secret: studio/core/logs.py redacts it from the logs.
    path("accounts/signup/finish/<str:token>/", auth.signup_finish, name="signup_finish"),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/settings/", auth.account_settings, name="account_settings"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("accounts/password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/switch/", teams.team_switch_view, name="team_switch"),
    path("t/<str:code>/settings/", teams.team_settings, name="team_settings"),
    path("t/<str:code>/settings/provenance/", teams.team_provenance, name="team_provenance"),
    path("t/<str:code>/members/", teams.team_members, name="team_members"),
    path("t/<str:code>/members/<uuid:member>/role/", teams.member_role, name="member_role"),
    path("t/<str:code>/members/<uuid:member>/remove/", teams.member_remove, name="member_remove"),
    path(
        "t/<str:code>/members/former-links/revoke/",
        teams.team_former_shares_revoke,
        name="team_former_shares_revoke",
    ),
    path("t/<str:code>/leave/", teams.team_leave, name="team_leave"),
    path("t/<str:code>/invites/", teams.invite_create, name="invite_create"),
    path("t/<str:code>/invites/<uuid:invite>/revoke/", teams.invite_revoke, name="invite_revoke"),
    path("invite/<str:token>/", invites.invite_accept, name="invite_accept"),
]
