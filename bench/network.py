"""The network (issue 16): a referral between two real Haven servers on loopback.

Each measurement is a function registered with :func:`metric`; ``--only`` runs some of
them (``--only referral_s``). Every figure is a JSON line on stdout,
{"bench": "network", "metric", "value", "unit", "db", ...}; progress goes to stderr.

``referral_s`` (and ``propose_s``, ``continuation_s`` from the same runs): two
deployments as an organization runs them (``haven serve`` + ``haven worker``, each with
its own data folder, generated secrets and database, the production cost of password
hashing and key derivation: HAVEN_MODE=demo), started by tests/network/servers.py: A
then B on SQLite / PostgreSQL, and the other way round, when PostgreSQL answers on
127.0.0.1:5432 (otherwise both on SQLite). Their administrators exchange partner cards
on the partners pages. Then, ``--runs`` times: a requester sends a web summons request
with ``--mb`` MB of attachments (PDFs, each within the intake's 10 MB a file, at most
two files), a caseworker on A proposes the referral of everything to B (``propose_s``:
that form's post, which seals and signs the envelope), the requester agrees on A's
follow-up page and

- ``referral_s``: from the Agree post to the referral listed on B's "Referrals from
  partners" page (A's worker posts the envelope to B's inbox, which checks and stores
  it; B's page is read every 50 ms). Target (issue 16): under 5 s for 10 MB;
- ``continuation_s``: from B's coordinator's Accept post (a case is made at B from the
  envelope: files checked and sealed again, a new codename) to B's "how to reach us"
  message shown in the requester's thread on A's follow-up page (B's worker posts the
  signed receipt to A; A opens it and puts the message in the requester's channel).

Each is the median of the runs, with ``runs`` (every value) and ``max``.

    python bench/network.py [--only referral_s] [--db sqlite|postgresql|both] [--runs 3] [--mb 10]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._setup import emit  # noqa: E402

BENCH = "network"
METRICS: dict[str, Callable[[argparse.Namespace], None]] = {}  # name -> measurement, in order


Measurement = Callable[[argparse.Namespace], None]


def metric(name: str) -> Callable[[Measurement], Measurement]:
    """Register a measurement under ``name`` (what ``--only`` selects)."""

    def register(func: Measurement) -> Measurement:
        METRICS[name] = func
        return func

    return register


def say(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def pdf(size: int) -> bytes:
    """A PDF of ``size`` bytes that passes the intake's checks: one stream of hex digits
    (random, so nothing on the way compresses it; no "/" that could name an action)."""
    def head(length: int) -> bytes:
        return b"%PDF-1.4\n1 0 obj\n<< /Length " + str(length).encode() + b" >>\nstream\n"

    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%EOF\n"
    body_len = size - len(head(size)) - len(tail)
    body = secrets.token_hex(body_len // 2 + 1).encode()[:body_len]
    return head(len(body)) + body + tail


def db_pairs(choice: str) -> list[tuple[str, str]]:
    from tests.network.servers import pg_available

    if choice == "sqlite":
        return [("sqlite", "sqlite")]
    if not pg_available():
        say("PostgreSQL does not answer on 127.0.0.1:5432: both servers on SQLite")
        return [("sqlite", "sqlite")]
    if choice in ("postgres", "postgresql"):
        return [("postgresql", "postgresql")]
    return [("sqlite", "postgresql"), ("postgresql", "sqlite")]


def summary(values: list[float]) -> dict[str, object]:
    return {"runs": [round(v, 3) for v in values], "max": round(max(values), 3)}


@metric("referral_s")
def referral_s(args: argparse.Namespace) -> None:
    from tests.network.flows import (
        case_numbers,
        exchange_cards,
        follow_up,
        incoming_ids,
        new_case,
        propose_referral,
        web_intake,
    )
    from tests.network.servers import two_servers

    files_count = 1 if args.mb <= 5 else 2  # a summons request takes two files of at most 10 MB
    sizes = [int(args.mb * 2**20 / files_count)] * files_count
    for a_db, b_db in db_pairs(args.db):
        say(f"referral_s: A on {a_db}, B on {b_db}: starting the servers")
        with two_servers(a_db, b_db, mode="demo", telegram=False, proxied=False) as (_net, a, b):
            exchange_cards(a, b)
            desk_a, coordinator_b = a.member("caseworker"), b.member("coordinator")
            propose, referral, continuation = [], [], []
            for run in range(args.runs):
                files = [(f"scan-{run}-{n}.pdf", pdf(size), "application/pdf")
                         for n, size in enumerate(sizes)]
                before_cases = case_numbers(desk_a)
                codename = web_intake(a, files)
                number = new_case(desk_a, before_cases)
                before = incoming_ids(coordinator_b)
                started = time.monotonic()
                propose_referral(desk_a, number)
                propose.append(time.monotonic() - started)
                tab, page = follow_up(a, codename)
                question = page.form_having("referral")
                started = time.monotonic()
                tab.submit(page, question, button=("answer", "agree"))
                deadline = started + 120
                fresh: list[int] = []
                while not fresh and time.monotonic() < deadline:
                    fresh = [i for i in incoming_ids(coordinator_b) if i not in before]
                    if not fresh:
                        time.sleep(0.05)
                if not fresh:
                    raise SystemExit(f"the referral did not reach B within 120 s\n{a.logs()}\n{b.logs()}")
                referral.append(time.monotonic() - started)
                detail = coordinator_b.open(f"/network/incoming/{fresh[0]}/")
                started = time.monotonic()
                coordinator_b.submit(detail, f"/network/incoming/{fresh[0]}/accept/")
                shown = False
                while not shown and time.monotonic() < started + 120:
                    _tab, thread = follow_up(a, codename)
                    shown = b.url in thread.text
                    if not shown:
                        time.sleep(0.1)
                if not shown:
                    raise SystemExit(f"B's message did not reach A's requester within 120 s\n{a.logs()}")
                continuation.append(time.monotonic() - started)
                say(f"run {run + 1}: propose {propose[-1]:.2f} s, referral {referral[-1]:.2f} s, "
                    f"continuation {continuation[-1]:.2f} s")
            extra = {"db": a_db, "partner_db": b_db, "attachments_mb": round(sum(sizes) / 2**20, 1),
                     "files": len(sizes)}
            errors = a.errors_logged() + b.errors_logged()
            emit(BENCH, "referral_s", round(statistics.median(referral), 3), "s", **summary(referral),
                 **extra)
            emit(BENCH, "propose_s", round(statistics.median(propose), 3), "s", **summary(propose), **extra)
            emit(BENCH, "continuation_s", round(statistics.median(continuation), 3), "s",
                 **summary(continuation), **extra)
            emit(BENCH, "server_errors_logged", len(errors), "lines", **extra)
            for line in errors[:5]:
                say(f"log: {line[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(METRICS)}")
    parser.add_argument("--db", choices=["sqlite", "postgres", "postgresql", "both"],
                        default=os.environ.get("BENCH_DB", "both"))
    parser.add_argument("--runs", type=int, default=3, help="referrals measured per pair of servers")
    parser.add_argument("--mb", type=float, default=10.0, help="MB of attachments in each referral")
    args = parser.parse_args()
    chosen = [m.strip() for m in args.only.split(",") if m.strip()] or list(METRICS)
    unknown = [m for m in chosen if m not in METRICS]
    if unknown:
        parser.error(f"unknown measurement {', '.join(unknown)}; choose from {', '.join(METRICS)}")
    for name in chosen:
        METRICS[name](args)


if __name__ == "__main__":
    main()
