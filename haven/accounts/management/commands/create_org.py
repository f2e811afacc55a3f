from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.accounts import services
from haven.core.management import secret_output


class Command(BaseCommand):
    help = "Create an organization; prints its recovery key (once) and the first admin's link."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug", help="short name used in addresses, e.g. peaceplea")
        parser.add_argument("name", help="full name shown to people")
        parser.add_argument("--admin", required=True, help="username of the first administrator")
        parser.add_argument("--shares", type=int, default=1,
                            help="split the recovery key into this many shares (k-of-n)")
        parser.add_argument("--threshold", type=int, default=1,
                            help="how many shares are needed to recover")

    def handle(self, *args: Any, **opts: Any) -> None:
        secret_output.warn(self.stderr, "the organization's recovery key and an administrator's link")
        shares, threshold = opts["shares"], opts["threshold"]
        if shares > 1 and not 2 <= threshold <= shares:
            raise CommandError("--threshold must be between 2 and --shares")
        if shares > 255:
            raise CommandError("--shares can be at most 255")
        try:
            made = services.create_organization(
                opts["slug"], opts["name"], opts["admin"], shares=shares, threshold=threshold
            )
        except services.AccountError as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout.write
        out(f"Organization {made.organization.name} ({made.organization.slug}) created.\n")
        if len(made.recovery) == 1:
            out("RECOVERY KEY (shown only now; print it and keep it offline):")
        else:
            out(f"RECOVERY SHARES: any {threshold} of these {shares} restore access. "
                "Give each to a different coordinator; they are shown only now:")
        for text in made.recovery:
            out(f"  {text}")
        out(f"\nFirst administrator's one-time link (expires in a few days):\n  {made.admin_invite.url}")
