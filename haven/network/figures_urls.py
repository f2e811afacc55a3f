from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import figures_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("figures/", figures_views.network_page, name="figures"),
    path("figures/collect/", figures_views.collect_now, name="figures_collect"),
    path("figures/publish/", figures_views.publish, name="figures_publish"),
    path("figures/<slug:slug>.json", figures_views.public_figures, name="figures_public"),
]
