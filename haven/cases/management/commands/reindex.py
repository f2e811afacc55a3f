"""``haven reindex SLUG --user USERNAME``: put every waiting case of an organization
into the search index now.

After migration cases/0004 every case waits to be indexed again, and a search
indexes only a few hundred per request. The index needs the organization key,
which the server does not hold: a member unlocks their own keys with their
password (asked for at a prompt, or read from HAVEN_REINDEX_PASSWORD).
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.accounts.keys import unlock_member
from haven.accounts.models import Member, Organization
from haven.cases import search
from haven.vault import OrgVault, VaultError

PASSWORD_ENV = "HAVEN_REINDEX_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
BATCH = 500


class Command(BaseCommand):
    help = "Index every case of an organization that is not in the search index yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org", help="the organization's slug")
        parser.add_argument("--user", required=True, help="a member whose password opens the key")

    def handle(self, *args: Any, **opts: Any) -> None:
        org = Organization.objects.filter(slug=opts["org"]).first()
        if org is None:
            raise CommandError(f"no organization {opts['org']!r}")
        vault = _unlock(org, opts["user"])
        started, done, left = time.monotonic(), 0, search.pending(org.pk)
        while left:
            indexed = search.index_pending(vault, org.pk, limit=BATCH)
            done, left = done + indexed, search.pending(org.pk) if indexed else 0
            self.stderr.write(f"indexed {done}, {left} to go")
        self.stdout.write(f"indexed {done} cases in {time.monotonic() - started:.1f} s")


def _unlock(org: Organization, username: str) -> OrgVault:
    member = Member.objects.filter(organization=org, username__iexact=username,
                                   is_active=True).first()
    if member is None or not member.has_keys:
        raise CommandError(f"{username!r} is not an active member of {org.slug}")
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(
        f"Password of {member.username}: ", stream=sys.stderr)
    try:
        return unlock_member(member, password).ring(member.pk)
    except VaultError as exc:
        raise CommandError("the password does not open this member's keys") from exc
