from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("invite/", views.accept_invite, name="invite"),
    path("org/", views.home, name="home"),
    path("org/invite/", views.invite, name="invite_member"),
    path("org/members/<int:member_id>/<str:action>/", views.member_action, name="member_action"),
    path("org/lock/", views.lock_organization, name="lock"),
    path("org/time-zone/", views.organization_time_zone, name="org_time_zone"),
    path("account/", views.account, name="account"),
    path("account/confirm/", views.confirm_password, name="confirm"),
    path("account/time-zone/", views.account_time_zone, name="time_zone"),
    path("account/backup-codes/", views.new_backup_codes, name="backup_codes"),
]
