from __future__ import annotations

from django.urls import include, path
from django.views.i18n import set_language

from haven.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("haven.accounts.urls")),
    path("desk/broadcasts/", include("haven.broadcast.urls")),
    path("network/", include("haven.network.urls")),
    path("desk/", include("haven.desk.urls")),
    path("funds/", include("haven.funds.urls")),
    path("kb/", include("haven.knowledge.urls")),
    path("telegram/", include("haven.telegram.urls")),
    path("", include("haven.notify.urls")),
    path("", include("haven.intake.urls")),
]

handler400 = "haven.core.views.bad_request"
handler404 = "haven.core.views.not_found"
handler500 = "haven.core.views.server_error"
handler403 = "haven.core.views.forbidden"
