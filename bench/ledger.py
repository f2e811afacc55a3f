"""Ledger benchmark: import 100,000 donation rows, then time balances and the monthly report.

Run from the repository root: ``python bench/ledger.py [--rows N]``. It always
runs on SQLite (a file in a temporary data folder), then on PostgreSQL: the
server DATABASE_URL names, or else the local one on 127.0.0.1:5432 when it
answers, in a fresh database it creates and drops.
Each run happens in its own process (Django's settings are read once).

The import goes through ``haven funds import`` exactly as an operator runs it
(member's password, checking, duplicate detection, encryption of donor
references, booking all or nothing). Balances and the report come from
aggregate queries over the entries. Targets: import >= 5,000 rows/s, fund
balances plus the monthly report < 1 s.

Prints JSON lines to stdout: {"bench": "ledger", "db": ..., "metric": ...,
"value": ..., "unit": ...}; the import's progress bar goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._setup import PG_ADMIN, _pg_available  # noqa: E402

PASSWORD = "bench-lantern-harbor-quietly-47"  # noqa: S105 - a throwaway member in a temporary database
CURRENCIES = [("EUR", 40), ("USD", 20), ("RUB", 20), ("UAH", 10), ("USDT", 10)]
CHANNELS = ["bank", "card", "crypto", "cash", "other"]


def emit(db: str, metric: str, value: float, unit: str) -> None:
    print(json.dumps({"bench": "ledger", "db": db, "metric": metric, "value": value,
                      "unit": unit}), flush=True)


# --- the child process: one database ---------------------------------------------


def _setup_django(data_dir: str) -> None:
    os.environ["HAVEN_MODE"] = "test"
    os.environ["HAVEN_DATA"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "haven.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _treasurer() -> Any:

    from haven.accounts import services
    from haven.accounts.keys import unlock_member

    made = services.create_organization("bench", "Bench", "alice")
    admin = services.accept_invite(made.admin_invite.token, PASSWORD).member
    issued = services.invite_member(admin, unlock_member(admin, PASSWORD).org_private, "tina",
                                    "Tina", "treasurer")
    treasurer = services.accept_invite(issued.token, PASSWORD).member
    return treasurer


def _write_csv(path: Path, rows: int, months: list[Any]) -> None:
    rng = random.Random(7)  # the same file every run
    codes = [c for c, weight in CURRENCIES for _ in range(weight)]
    funds = ["General fund", "Evacuation fund"]
    with path.open("w", encoding="utf-8") as out:
        out.write("Date,Amount,Currency,Reference,Channel,Fund\n")
        for n in range(rows):
            month = months[n % len(months)]
            day = month.replace(day=1 + n % 28).isoformat()
            code = codes[n % len(codes)]
            decimals = 6 if code == "USDT" else 2
            amount = f"{rng.randint(1, 50_000)}.{rng.randint(0, 10**decimals - 1):0{decimals}d}"
            reference = f"donor {n}" if n % 10 < 7 else ""
            out.write(f"{day},{amount},{code},{reference},{CHANNELS[n % 5]},{funds[n % 2]}\n")


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend, when the server is local; else 0."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(func: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def run_one(db: str, rows: int) -> None:
    """Set up Django on the current DATABASE_URL (or SQLite), import, time the reports."""
    with tempfile.TemporaryDirectory(prefix="haven-bench-") as data_dir:
        _setup_django(data_dir)
        from django.utils import translation

        try:
            with translation.override("en"):  # the starter fund's name is in the CSV
                _measure(db, rows, data_dir)
        finally:
            from django.db import connections

            connections.close_all()


def _measure(db: str, rows: int, data_dir: str) -> None:
    from django.core.management import call_command

    from haven.funds import actions, reports
    from haven.funds.models import AccountKind

    member = _treasurer()
    actions.add_account(member, AccountKind.FUND, "Evacuation fund")
    months = reports.complete_months(12)
    path = Path(data_dir) / "donations.csv"
    _write_csv(path, rows, months)
    os.environ["HAVEN_IMPORT_PASSWORD"] = PASSWORD
    cpu, server = time.process_time(), _server_cpu()
    _result, import_s = _timed(lambda: call_command(
        "funds", "import", str(path), "--org", "bench", "--user", "tina",
        "--fund", "General fund", "--holding", "Bank account",
        "--map", "date=Date,amount=Amount,currency=Currency,reference=Reference,"
                 "channel=Channel,fund=Fund", stdout=sys.stderr))
    import_cpu_s = time.process_time() - cpu
    server_cpu_s = _server_cpu() - server
    org = member.organization
    balances, balances_s = _timed(lambda: reports.balances(org, AccountKind.FUND,
                                                           from_entries=True))
    report, month_s = _timed(lambda: reports.monthly_report(org, months[0], 5))
    _ok, verify_s = _timed(lambda: call_command("funds", "verify", stdout=sys.stderr))
    assert len(balances) == 2 and report.blocks, "the benchmark booked nothing"
    emit(db, "import_rows_per_s", round(rows / import_s), "rows/s")
    emit(db, "import_s", round(import_s, 2), "s")
    emit(db, "import_cpu_s", round(import_cpu_s, 2), "s")
    if db == "postgresql":
        emit(db, "import_server_cpu_s", round(server_cpu_s, 2), "s")
    # What an otherwise idle machine would reach: rows per CPU second spent on the
    # import (this process, plus the PostgreSQL backend when it runs locally).
    emit(db, "import_rows_per_cpu_s", round(rows / (import_cpu_s + server_cpu_s)), "rows/s")
    emit(db, "balances_s", round(balances_s, 3), "s")
    emit(db, "monthly_report_s", round(month_s, 3), "s")
    emit(db, "report_s", round(balances_s + month_s, 3), "s")
    emit(db, "verify_s", round(verify_s, 3), "s")
    emit(db, "rows", rows, "rows")


# --- the parent process: one child per database --------------------------------------


def _child(db: str, rows: int, env: dict[str, str]) -> int:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", db, "--rows", str(rows)]
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


def _postgres(url: str, rows: int, base_env: dict[str, str]) -> int:
    """Run in a fresh database on the server DATABASE_URL points at, then drop it."""
    import psycopg
    from psycopg import sql

    name = f"haven_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        parts = urlsplit(url)
        bench_url = urlunsplit(parts._replace(path=f"/{name}"))
        return _child("postgresql", rows, {**base_env, "DATABASE_URL": bench_url})
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args.rows)
        return 0
    emit("host", "loadavg_1m", round(os.getloadavg()[0], 2), "processes")
    emit("host", "cpus", os.cpu_count() or 0, "cpus")
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("HAVEN_", "DJANGO_")) and k != "DATABASE_URL"}
    status = _child("sqlite", args.rows, base)
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url and _pg_available():  # the local server the other benchmarks use
        url = PG_ADMIN
    if url.startswith(("postgres://", "postgresql://")):
        status = _postgres(url, args.rows, base) or status
    emit("host", "loadavg_1m_after", round(os.getloadavg()[0], 2), "processes")
    return status


if __name__ == "__main__":
    sys.exit(main())
