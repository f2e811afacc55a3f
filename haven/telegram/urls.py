from __future__ import annotations

from django.urls import path

from . import views

app_name = "telegram"

urlpatterns = [
    path("webhook/<str:public_id>/", views.webhook, name="webhook"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/<str:action>/", views.settings_action, name="settings_action"),
]
