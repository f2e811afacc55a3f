from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Demo only: print a demo member's current second-factor code."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.MODE != "demo":
            raise CommandError("totp works only on a demo data folder (HAVEN_MODE=demo)")
        device = TOTPDevice.objects.filter(user__username__iexact=opts["username"]).first()
        if device is None:
            raise CommandError(f"no second factor is enrolled for {opts['username']}")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        self.stdout.write(f"{code:0{device.digits}d}")
