"""Shared set-up for benchmarks: a throw-away data folder and database.

``database()`` yields ("sqlite", None) and, when PostgreSQL answers on
127.0.0.1:5432, ("postgresql", url) with a fresh database dropped afterwards.
Each benchmark runs once per database in a fresh subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def emit(bench: str, metric: str, value: float | None, unit: str, **extra: object) -> None:
    print(json.dumps({"bench": bench, "metric": metric, "value": value, "unit": unit, **extra}),
          flush=True)


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:
        return False


@contextmanager
def _pg_database() -> Iterator[str]:
    import psycopg

    name = f"haven_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_per_database(script: str, args: list[str]) -> None:
    """Run ``script --child`` once per database, each in a fresh process and data folder."""
    targets: list[tuple[str, str | None]] = [("sqlite", None)]
    if os.environ.get("BENCH_DB", "both") != "sqlite" and _pg_available():
        targets.append(("postgresql", "pg"))
    if os.environ.get("BENCH_DB") == "postgresql":
        targets = [t for t in targets if t[0] == "postgresql"]
    for db, pg in targets:
        with tempfile.TemporaryDirectory(prefix="haven-bench-") as data:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DJANGO_"))}
            env.update(HAVEN_MODE="test", HAVEN_DATA=data, BENCH_DBNAME=db,
                       DJANGO_SETTINGS_MODULE="haven.settings", PYTHONPATH=str(ROOT))
            env.pop("DATABASE_URL", None)
            if pg:
                with _pg_database() as url:
                    env["DATABASE_URL"] = url
                    subprocess.run([sys.executable, script, "--child", *args], env=env, check=True)
            else:
                subprocess.run([sys.executable, script, "--child", *args], env=env, check=True)


def django_setup() -> str:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    return os.environ.get("BENCH_DBNAME", "sqlite")


def median_ms(fn: Callable[[], object], runs: int) -> float:
    """The median time of ``runs`` calls of ``fn`` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def child_or_per_database(script: str, parser: argparse.ArgumentParser,
                          child: Callable[[argparse.Namespace], None]) -> None:
    """Run ``child`` when called with --child, else this script once per database."""
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        run_per_database(script, [a for a in sys.argv[1:] if a != "--child"])
