from __future__ import annotations

from django.urls import path

from . import public, views, wizard

app_name = "funds"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("accounts/new/", views.account_new, name="account_new"),
    path("donations/", views.donations, name="donations"),
    path("donations/new/", views.donation_new, name="donation_new"),
    path("import/", wizard.upload, name="import"),
    path("import/<int:pk>/", wizard.mapping, name="import_map"),
    path("import/<int:pk>/preview/", wizard.preview, name="import_preview"),
    path("import/<int:pk>/commit/", wizard.commit, name="import_commit"),
    path("import/<int:pk>/cancel/", wizard.cancel, name="import_cancel"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/new/", views.payout_new, name="payout_new"),
    path("payouts/<int:pk>/<str:decision>/", views.payout_decide, name="payout_decide"),
    path("transactions/<int:pk>/", views.transaction_detail, name="transaction"),
    path("transactions/<int:pk>/reverse/", views.transaction_reverse, name="reverse"),
    path("exchange/", views.exchange_new, name="exchange"),
    path("transfer/", views.transfer_new, name="transfer"),
    path("statement/", views.statement, name="statement"),
    path("export/", views.export, name="export"),
    path("settings/", views.settings_view, name="settings"),
    path("public/<slug:slug>/", public.page, name="public"),
    path("public/<slug:slug>/csv", public.csv_file, name="public_csv"),
    path("public/<slug:slug>/chart.svg", public.chart_file, name="public_chart"),
]
