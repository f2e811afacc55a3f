from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import partner_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("partners/", partner_views.partners, name="partners"),
    path("partners/card/", partner_views.card_file, name="partner_card"),
    path("partners/ask/", partner_views.ask, name="partner_ask"),
    path("partners/add/", partner_views.add, name="partner_add"),
    path("partners/<int:partner_id>/accept/", partner_views.accept, name="partner_accept"),
    path("partners/<int:partner_id>/decline/", partner_views.decline, name="partner_decline"),
    path("partners/<int:partner_id>/end/", partner_views.end, name="partner_end"),
]
