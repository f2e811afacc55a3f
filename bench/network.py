"""The network's speed: the combined figures page, and a referral between two servers.

``network_page_s``: one organization with 50 active partners, each with 24 months of
collected figures (and the organization's own 24 publications), on SQLite and on
PostgreSQL. Prints the median time of GET /network/figures/ through Django's test
client as a JSON line (metric ``network_page_s``). Target: under 1 s.

``referral_s`` (and ``propose_s``, ``continuation_s`` from the same runs): two
deployments as an organization runs them (``haven serve`` + ``haven worker``, each with
its own data folder, generated secrets and database, and the production cost of
password hashing and key derivation: HAVEN_MODE=demo), started by
tests/network/servers.py. A is on the run's database ("db"), B on the other one
("partner_db": PostgreSQL for the SQLite run when it answers, else SQLite; SQLite for
the PostgreSQL run). Their administrators exchange partner cards on the partners pages.
Then, ``--runs`` times: a requester sends a web summons request with ``--mb`` MB of
attachments (random PDFs, at most two files of at most 10 MB: the intake's limits), a
caseworker on A proposes the referral of everything to B (``propose_s``: that form's
post, which seals and signs the envelope), the requester agrees on A's follow-up page,
and

- ``referral_s``: from the requester's Agree post to the referral listed on B's
  "Referrals from partners" page (A's worker posts the envelope to B's inbox, which
  checks and stores it; B's page is read every 50 ms). Target: under 5 s for 10 MB;
- ``continuation_s``: from B's coordinator's Accept post (a case is made at B from the
  envelope: files checked and sealed again, a new codename) to B's "how to reach us"
  message in the requester's thread on A's follow-up page (B's worker posts the signed
  receipt to A, whose worker opens it and puts the message in the requester's channel).

Each is the median of the runs, with ``runs`` (every value) and ``max``.

    python bench/network.py [--partners 50] [--months 24] [--runs 3] [--mb 10]
                            [--only network_page_s] [--only referral_s]

Each measurement is a function in ``METRICS`` (name -> function(args, db)); ``--only``
runs the named ones.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import child_or_per_database, django_setup, emit, median_ms

RUNS = 7


def _seed_figures(org, partners: int, months: int) -> None:  # type: ignore[no-untyped-def]
    """``partners`` active partners with ``months`` collected months each, and the
    organization's own publications, as collection and publishing store them."""
    from django.utils import timezone

    from haven.accounts.models import Organization
    from haven.network import figures
    from haven.network.models import CollectedFigures, Partner, Publication
    from haven.vault.signing import generate_signing_key, sign

    rng = random.Random(16)
    recent = figures.finished_months(org, months)
    now = timezone.now()

    def published(slug: str, name: str, month, epsilon):  # type: ignore[no-untyped-def]
        counts = {table: {cell: rng.randint(0, 40) for cell in cells}
                  for table, cells in figures.table_cells().items()}
        data = figures.privatize(counts, epsilon, rng)
        return figures.body_for(Organization(slug=slug, name=name), month, epsilon, data, now)

    _public, seed = generate_signing_key()
    Publication.objects.bulk_create(
        Publication(organization=org, month=m, body=(b := published(org.slug, org.name, m, None)),
                    signature=sign(seed, b)) for m in recent)
    for i in range(partners):
        slug = f"partner{i}"
        p_public, p_seed = generate_signing_key()
        partner = Partner.objects.create(
            organization=org, name=f"Partner {i}", server_url=f"https://p{i}.example",
            remote_slug=slug, encryption_key=b"k" * 32, signing_key=p_public,
            state=Partner.State.ACTIVE)
        rows = []
        for m in recent:
            body = published(slug, f"Partner {i}", m, rng.choice([None, 1.0, 2.0]))
            rows.append(CollectedFigures(organization=org, partner=partner, month=m, body=body,
                                         signature=sign(p_seed, body), figures=json.loads(body)))
        CollectedFigures.objects.bulk_create(rows)


def network_page_s(args: argparse.Namespace, db: str) -> None:
    from django.db import connection
    from django.test import Client

    from tests.conftest import log_in, make_org

    t0 = time.perf_counter()
    alice, _ = make_org("hub", "alice")
    _seed_figures(alice.org, args.partners, args.months)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(json.dumps({"bench": "network", "db": db, "note": "seeded",
                      "seconds": round(time.perf_counter() - t0, 1)}), file=sys.stderr)
    client = log_in(Client(), alice)

    def get() -> None:
        response = client.get("/network/figures/")
        assert response.status_code == 200, response.status_code

    emit("network", "network_page_s", round(median_ms(get, RUNS) / 1000, 3), "s", db=db,
         partners=args.partners, months=args.months)


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


def partner_db(db: str) -> str:
    """B's database for a run on ``db``: the other one, when PostgreSQL answers."""
    from tests.network.servers import pg_available

    if db != "sqlite":
        return "sqlite"
    if pg_available():
        return "postgresql"
    say("PostgreSQL does not answer on 127.0.0.1:5432: both servers on SQLite")
    return "sqlite"


def summary(values: list[float]) -> dict[str, object]:
    return {"runs": [round(v, 3) for v in values], "max": round(max(values), 3)}


def referral_s(args: argparse.Namespace, db: str) -> None:
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
    a_db, b_db = db, partner_db(db)
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
            missing = [name for name, _data, _kind in files if name not in detail.text]
            if missing:
                raise SystemExit(f"B's referral lacks {missing}: the measured one is not all of it")
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
        emit("network", "referral_s", round(statistics.median(referral), 3), "s", **summary(referral),
             **extra)
        emit("network", "propose_s", round(statistics.median(propose), 3), "s", **summary(propose), **extra)
        emit("network", "continuation_s", round(statistics.median(continuation), 3), "s",
             **summary(continuation), **extra)
        emit("network", "server_errors_logged", len(errors), "lines", **extra)
        for line in errors[:5]:
            say(f"log: {line[:200]}")


METRICS: dict[str, Callable[[argparse.Namespace, str], None]] = {
    "network_page_s": network_page_s,
    "referral_s": referral_s,
}


def child(args: argparse.Namespace) -> None:
    db = django_setup()
    for name in args.only or list(METRICS):
        METRICS[name](args, db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3, help="referrals measured (referral_s)")
    parser.add_argument("--mb", type=float, default=10.0,
                        help="MB of attachments in each referral (referral_s)")
    parser.add_argument("--only", action="append", choices=sorted(METRICS),
                        help="run only this measurement (may be repeated)")
    child_or_per_database(__file__, parser, child)


if __name__ == "__main__":
    main()
