from __future__ import annotations

from django.urls import path

from . import views

app_name = "broadcast"

urlpatterns = [
    path("", views.broadcasts, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/step/", views.step, name="step"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
]
