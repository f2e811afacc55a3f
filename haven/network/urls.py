from __future__ import annotations

from django.urls import include, path

app_name = "network"

urlpatterns = [
    path("", include("haven.network.partner_urls")),
    path("", include("haven.network.referral_urls")),
    path("", include("haven.network.figures_urls")),
    path("", include("haven.network.incoming_urls")),
]
