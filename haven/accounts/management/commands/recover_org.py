from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven import vault
from haven.accounts import services
from haven.core.management import secret_output


class Command(BaseCommand):
    help = ("Restore administrator access with the recovery key (or k shares), read one per "
            "line from standard input. Prints a one-time link for the administrator.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--admin", required=True,
                            help="username to (re)gain access; created if it does not exist")

    def handle(self, *args: Any, **opts: Any) -> None:
        secret_output.warn(self.stderr, "a one-time administrator link")
        if sys.stdin.isatty():
            self.stderr.write("Paste the recovery key, or one share per line; end with Ctrl-D.")
        texts = [line.strip() for line in sys.stdin if line.strip()]
        if not texts:
            raise CommandError("no recovery key was given on standard input")
        try:
            issued = services.restore_access(opts["slug"], texts, opts["admin"])
        except services.AccountError as exc:
            raise CommandError(str(exc)) from exc
        except vault.BadRecoveryKey as exc:
            raise CommandError(f"the recovery key is not right: {exc}") from exc
        except vault.VaultError as exc:
            raise CommandError("the recovery key does not open this organization's key") from exc
        self.stdout.write(f"One-time link for {opts['admin']}:\n  {issued.url}")
