"""The network's speed: the combined figures page over many partners.

One organization with 50 active partners, each with 24 months of collected figures
(and the organization's own 24 publications), on SQLite and on PostgreSQL. Prints the
median time of GET /network/figures/ through Django's test client as a JSON line
(metric ``network_page_s``). Target: under 1 s.

    python bench/network.py [--partners 50] [--months 24] [--only network_page_s]

Each measurement is a function in ``METRICS`` (name -> function(args, db)); ``--only``
runs the named ones. A later measurement (``referral_s``) adds its function there.
"""

from __future__ import annotations

import argparse
import json
import random
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


METRICS: dict[str, Callable[[argparse.Namespace, str], None]] = {
    "network_page_s": network_page_s,
}


def child(args: argparse.Namespace) -> None:
    db = django_setup()
    for name in args.only or list(METRICS):
        METRICS[name](args, db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--only", action="append", choices=sorted(METRICS),
                        help="run only this measurement (may be repeated)")
    child_or_per_database(__file__, parser, child)


if __name__ == "__main__":
    main()
