from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.accounts.models import Organization
from haven.audit.chain import verify


class Command(BaseCommand):
    help = "Audit trail tools. 'haven audit verify' checks every organization's hash chain."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", choices=["verify"])
        parser.add_argument("--org", help="only this organization (short name)")

    def handle(self, *args: Any, **opts: Any) -> None:
        orgs = Organization.objects.order_by("pk")
        if opts["org"]:
            orgs = orgs.filter(slug=opts["org"])
            if not orgs.exists():
                raise CommandError(f"no organization has the short name {opts['org']!r}")
        broken = False
        for org in orgs:
            problem = verify(org.pk)
            if problem is None:
                self.stdout.write(f"{org.slug}: chain intact")
            else:
                broken = True
                self.stdout.write(f"{org.slug}: BROKEN at {problem}")
        if broken:
            sys.exit(1)
