from __future__ import annotations

from django.urls import path

from . import views, views_desk, views_followup

app_name = "intake"

urlpatterns = [
    path("o/<slug:slug>/", views.start, name="start"),
    path("o/<slug:slug>/consent/", views.consent, name="consent"),
    path("o/<slug:slug>/step/", views.step, name="step"),
    path("o/<slug:slug>/confirm/", views.confirm, name="confirm"),
    path("o/<slug:slug>/sent/", views.sent, name="sent"),
    path("o/<slug:slug>/follow-up/", views_followup.follow_up, name="followup"),
    path("intake/settings/", views_desk.settings_view, name="settings"),
    path("intake/cases/<int:number>/fraud/", views_desk.fraud_view, name="fraud"),
]
