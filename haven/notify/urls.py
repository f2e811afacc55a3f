from __future__ import annotations

from django.urls import path

from . import views

app_name = "notify"

urlpatterns = [
    path("account/notifications/", views.settings_page, name="settings"),
    path("account/notifications/telegram/link/", views.link_telegram, name="link"),
    path("account/notifications/<str:kind>/unlink/", views.unlink, name="unlink"),
    path("account/notifications/email/", views.set_email, name="email"),
    path("account/notifications/smtp/", views.set_smtp, name="smtp"),
]
