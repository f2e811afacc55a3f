from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import referral_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/<int:number>/refer/", referral_views.refer, name="refer"),
    path("cases/<int:number>/referrals/<int:referral>/withdraw/", referral_views.withdraw,
         name="referral_withdraw"),
    path("cases/<int:number>/referrals/<int:referral>/file/", referral_views.download,
         name="referral_file"),
]
