from __future__ import annotations

from django.urls import include, path

from . import inbox

app_name = "network"

urlpatterns = [
    path("inbox/", inbox.inbox_view, name="inbox"),
    path("", include("haven.network.partner_urls")),
    path("", include("haven.network.referral_urls")),
    path("", include("haven.network.figures_urls")),
    path("", include("haven.network.incoming_urls")),
]
