from __future__ import annotations

from django.urls import path

from . import incoming_views

urlpatterns = [
    path("incoming/", incoming_views.incoming_list, name="incoming"),
    path("incoming/upload/", incoming_views.upload, name="incoming_upload"),
    path("incoming/<int:pk>/", incoming_views.detail, name="incoming_detail"),
    path("incoming/<int:pk>/accept/", incoming_views.accept, name="incoming_accept"),
    path("incoming/<int:pk>/decline/", incoming_views.decline, name="incoming_decline"),
    path("incoming/<int:pk>/receipt/", incoming_views.receipt, name="incoming_receipt"),
]
