from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven import vault
from haven.accounts import services


class Command(BaseCommand):
    help = ("For an organization made before teams: read the recovery key (or k shares, one per "
            "line) from standard input once, so that new teams and restricted cases are sealed "
            "to it too. Nothing else changes.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, **opts: Any) -> None:
        if sys.stdin.isatty():
            self.stderr.write("Paste the recovery key, or one share per line; end with Ctrl-D.")
        texts = [line.strip() for line in sys.stdin if line.strip()]
        if not texts:
            raise CommandError("no recovery key was given on standard input")
        try:
            services.enable_team_recovery(opts["slug"], texts)
        except services.AccountError as exc:
            raise CommandError(str(exc)) from exc
        except vault.VaultError as exc:
            raise CommandError("the recovery key does not open this organization's key") from exc
        self.stdout.write(f"Teams of {opts['slug']} can now be created; the recovery key opens them.")
