"""``haven funds import FILE ...`` and ``haven funds verify``.

The import needs the organization key to encrypt donor references and to find
duplicates by keyed hash, and the server does not hold that key: a member who
manages funds unlocks their own keys with their password (asked for at a
prompt, or read from HAVEN_IMPORT_PASSWORD for scripts). The import is booked
under that member's name in the audit trail, all rows or none.
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from pathlib import Path
from typing import Any, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.accounts.keys import unlock_member
from haven.accounts.models import Member, Organization
from haven.funds import access, actions, importing, ledger
from haven.funds.errors import FundsError
from haven.funds.models import Channel
from haven.vault import OrgVault, VaultError


class Writer(Protocol):
    def write(self, text: str) -> Any: ...

    def flush(self) -> Any: ...


PASSWORD_ENV = "HAVEN_IMPORT_PASSWORD"  # noqa: S105 - the name of a variable, not a secret


class ProgressBar:
    """``\\r[#####     ] 50,000/100,000 rows`` on stderr, redrawn at most every 0.1 s."""

    def __init__(self, stream: Writer, label: str, width: int = 30) -> None:
        self.stream, self.label, self.width, self.last = stream, label, width, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,} rows")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class _SameLine:
    """Django's command output adds a newline to every write; a progress bar must not."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")

    def flush(self) -> None:
        self.wrapper.flush()


def parse_map(text: str) -> dict[str, str]:
    """``date=Date,amount=Amount`` -> {"date": "Date", "amount": "Amount"}."""
    columns = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        target, sep, column = part.partition("=")
        if not sep or target.strip() not in importing.TARGETS or not column.strip():
            raise CommandError(f"--map: {part!r} should be FIELD=Column with FIELD one of "
                               f"{', '.join(importing.TARGETS)}")
        columns[target.strip()] = column.strip()
    return columns


class Command(BaseCommand):
    help = ("Funds tools. 'import FILE' books donations from a CSV file (all rows or none); "
            "'verify' checks every cached balance and every transaction against the entries.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["import", "verify"])
        parser.add_argument("file", nargs="?", help="the CSV file to import")
        parser.add_argument("--org", help="the organization's short name")
        parser.add_argument("--user", help="username of a member who manages funds")
        parser.add_argument("--fund", help="fund for rows without a fund column (its name)")
        parser.add_argument("--map", default="", help="FIELD=Column,... for date, amount, "
                            "currency, reference, fund, channel")
        parser.add_argument("--currency", default="", help="currency for every row, when no column")
        parser.add_argument("--channel", default="", choices=["", *Channel.values])
        parser.add_argument("--holding", default="", help="where the money arrived (its name); "
                            "default: the first holding")
        parser.add_argument("--date-format", default="iso", choices=list(importing.DATE_FORMATS))
        parser.add_argument("--decimal-comma", action="store_true")
        parser.add_argument("--include-duplicates", action="store_true")
        parser.add_argument("--dry-run", action="store_true", help="check only, book nothing")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["what"] == "verify":
            self._verify(opts)
        else:
            self._import(opts)

    def _verify(self, opts: dict[str, Any]) -> None:
        org_id = None
        if opts["org"]:
            org_id = self._org(opts["org"]).pk
        problems = ledger.verify(org_id)
        for problem in problems:
            self.stdout.write(f"MISMATCH {problem}")
        if problems:
            sys.exit(1)
        self.stdout.write("every balance equals the sum of its entries; every transaction "
                          "balances")

    @staticmethod
    def _org(slug: str) -> Organization:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"no organization has the short name {slug!r}")
        return org

    def _import(self, opts: dict[str, Any]) -> None:
        for name in ("file", "org", "user"):
            if not opts[name]:
                raise CommandError(f"import needs {'FILE' if name == 'file' else '--' + name}")
        org = self._org(opts["org"])
        member, vault = self._unlock(org, opts["user"])
        ch = ledger.chart(org)
        mapping = self._mapping(opts, ch)
        try:
            data = Path(opts["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {opts['file']}: {exc.strerror}") from exc
        started = time.monotonic()
        try:
            parsed = importing.check_file(data, mapping, ch, org.pk, vault,
                                          progress=ProgressBar(_SameLine(self.stderr), "checking"))
        except FundsError as exc:
            raise CommandError(str(exc)) from exc
        if parsed.error_count:
            for error in parsed.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{parsed.error_count} rows have errors; nothing was imported")
        rows = parsed.to_book(opts["include_duplicates"])
        skipped = len(parsed.rows) - len(rows)
        if not rows:
            raise CommandError(f"all {skipped} rows look like donations already booked; nothing "
                               "was imported (--include-duplicates imports them anyway)")
        if opts["dry_run"]:
            self.stdout.write(f"{len(rows)} rows would be imported, {skipped} duplicates left out")
            return
        assert mapping.holding_id is not None  # noqa: S101 - _mapping made sure
        try:
            batch = actions.import_donations(member, vault, rows, holding_id=mapping.holding_id,
                                             source="cli", skipped=skipped,
                                             progress=ProgressBar(_SameLine(self.stderr), "booking "))
        except FundsError as exc:
            raise CommandError(f"{exc} Nothing was imported.") from exc
        seconds = time.monotonic() - started
        self.stdout.write(f"imported {batch.rows} donations ({skipped} duplicates left out) "
                          f"in {seconds:.1f} s")

    def _unlock(self, org: Organization, username: str) -> tuple[Member, OrgVault]:
        member = Member.objects.filter(organization=org, username__iexact=username).first()
        if member is None or not member.has_keys or not access.can_manage(member):
            raise CommandError(f"{username!r} is not an active member of {org.slug} who "
                               "manages funds")
        password = os.environ.get(PASSWORD_ENV) or getpass.getpass(
            f"Password of {member.username}: ", stream=sys.stderr)
        try:
            keys = unlock_member(member, password)
        except VaultError as exc:
            raise CommandError("the password does not open this member's keys") from exc
        return member, OrgVault(keys.org_private)

    def _mapping(self, opts: dict[str, Any], ch: ledger.Chart) -> importing.Mapping:
        fund_id = holding_id = None
        if opts["fund"]:
            fund_id = next((pk for pk, a in ch.funds.items()
                            if a.name.casefold() == opts["fund"].casefold()), None)
            if fund_id is None:
                raise CommandError(f"no fund called {opts['fund']!r}; funds: "
                                   + ", ".join(a.name for a in ch.funds.values()))
        holdings = sorted(ch.holdings.values(), key=lambda a: a.pk)
        if opts["holding"]:
            holdings = [a for a in holdings if a.name.casefold() == opts["holding"].casefold()]
            if not holdings:
                raise CommandError(f"no holding called {opts['holding']!r}")
        holding_id = holdings[0].pk if holdings else None
        mapping = importing.Mapping(
            columns=parse_map(opts["map"]), currency=opts["currency"].upper(), fund_id=fund_id,
            channel=opts["channel"] or ("" if "channel" in opts["map"] else Channel.BANK),
            holding_id=holding_id, date_format=opts["date_format"],
            decimal_comma=opts["decimal_comma"])
        return mapping
