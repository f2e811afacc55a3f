"""Desk speed at scale: the "new" queue, a case page with 50 records, and a search.

100,000 cases in one organization and 10 other organizations of 10,000 each,
on SQLite and on PostgreSQL. Prints medians as JSON lines (metrics queue_ms,
case_ms, search_ms). Targets: queue and case page under 100 ms, search under 1 s.

    python bench/desk.py [--cases 100000] [--others 10] [--other-cases 10000] [--teams 5]

Every case has its own key, sealed to its team, as intake makes them. With ``--teams N``
the big organization's cases are spread over N teams: its administrator holds every team
(the lines without "teams": what a member saw before teams, the whole organization) and
bob is in one team (the lines with "teams": N).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import child_or_per_database, django_setup, emit, median_ms

WORDS = ("повестка военкомат контракт отпуск госпиталь документы паспорт граница автобус "
         "мама сын брат часть комиссия заявление служба отказ юрист деньги билеты справка "
         "summons contract border tickets passport mother unit lawyer").split()
RARE = "дезертирство"  # planted in 1% of the big organization's cases
RUNS = 15


def _seed(org, vault, count: int, rare_every: int | None,  # type: ignore[no-untyped-def]
          teams: list | None = None) -> list[int]:
    from haven.accounts.models import Team
    from haven.cases import search
    from haven.cases.models import (
        Case,
        CaseKey,
        CaseRecord,
        Channel,
        OrgSettings,
        SearchField,
        SearchToken,
    )
    from haven.vault import CaseVault, generate_keypair, seal

    rng = random.Random(org.pk)
    teams = teams or [Team.objects.get(pk=org.default_team_id)]
    team_index = {t.pk: vault.team_vault(t.pk) for t in teams}

    cats = ["acs", "summons", "leaving-service", "family", "evacuation", "money", "other"]
    ids: list[int] = []
    for start in range(0, count, 2000):
        batch = []
        texts = []
        keys = []
        for n in range(start, min(start + 2000, count)):
            text = " ".join(rng.choice(WORDS) for _ in range(12))
            if rare_every and n % rare_every == 0:
                text += f" {RARE}"
            texts.append(text)
            pair, team = generate_keypair(), teams[n % len(teams)]
            opened = CaseVault(pair.private, 0)
            keys.append((pair.private, team, opened))
            batch.append(Case(organization=org, number=n + 1, category=rng.choice(cats),
                              channel=Channel.WEB, summary=opened.encrypt_text(text[:60]),
                              indexed=True, team=team, public_key=pair.public))
        cases = Case.objects.bulk_create(batch)
        CaseKey.objects.bulk_create(
            CaseKey(case=c, team=team, sealed_private_key=seal(bytes(team.public_key), private))
            for c, (private, team, _o) in zip(cases, keys, strict=True))
        pairs = list(zip(cases, texts, strict=True))
        CaseRecord.objects.bulk_create(
            CaseRecord(case=c, kind="inbound", body=k[2].encrypt_text(t))
            for (c, t), k in zip(pairs, keys, strict=True))
        tokens = []
        for c, t in pairs:  # as search.index_case writes them: padded with random tokens
            index = team_index[c.team_id]
            real = {(SearchField.MESSAGE, search.token(index, s)) for s in set(search.stems(t))}
            tokens += [SearchToken(case=c, organization=org, token=tok, field=f)
                       for f, tok in real | search.padding(len(real), [SearchField.MESSAGE])]
        SearchToken.objects.bulk_create(tokens, batch_size=5000)
        ids.extend(c.pk for c in cases)
    OrgSettings.objects.update_or_create(organization=org, defaults={"next_number": count + 1})
    return ids



def child(args: argparse.Namespace) -> None:
    db = django_setup()
    from django.db import connection
    from django.test import Client

    from haven.accounts.models import Role, Team
    from haven.cases import actions
    from haven.cases.models import Case
    from tests.conftest import add_member, log_in, make_org

    t0 = time.perf_counter()
    alice, _ = make_org("big", "alice")
    teams = [Team.objects.get(pk=alice.org.default_team_id)]
    for n in range(1, args.teams):
        teams.append(actions.create_team(alice.member, alice.vault(), f"Team {n + 1}", []))
    bob = add_member(alice, "bob", Role.CASEWORKER, teams=[teams[0]])
    _seed(alice.org, alice.vault(), args.cases, rare_every=100, teams=teams)
    for i in range(args.others):
        other, _ = make_org(f"other{i}", f"admin{i}")
        _seed(other.org, other.vault(), args.other_cases, rare_every=None)
    with connection.cursor() as cursor:
        # Bulk loading leaves the planner without statistics; a live database has
        # them from autovacuum (PostgreSQL) or `haven` maintenance (SQLite).
        cursor.execute("ANALYZE")
    print(json.dumps({"bench": "desk", "db": db, "note": "seeded",
                      "seconds": round(time.perf_counter() - t0, 1)}), file=sys.stderr)
    number = args.cases // 2 - (args.cases // 2 - 1) % len(teams)  # a case of the first team
    case = Case.objects.get(organization=alice.org, number=number)
    assert case.team_id == teams[0].pk
    vault = alice.vault()
    for i in range(49):
        actions.add_note(alice.member, vault, case, f"note {i} " + " ".join(WORDS[i % 10: i % 10 + 8]))
    # Without teams every member read the whole organization: alice holds every team's key.
    _measure(db, log_in(Client(), alice), case.number, {})
    if args.teams > 1:
        _measure(db, log_in(Client(), bob), case.number, {"teams": args.teams})
    emit("desk", "reindex_case_ms", _reindex_ms(alice.org.pk, vault), "ms", db=db)


def _measure(db: str, client, number: int, extra: dict) -> None:  # type: ignore[no-untyped-def]
    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    emit("desk", "queue_ms", median_ms(lambda: get("/desk/?queue=new"), RUNS), "ms", db=db, **extra)
    emit("desk", "case_ms", median_ms(lambda: get(f"/desk/cases/{number}/"), RUNS), "ms", db=db,
         **extra)
    emit("desk", "search_ms", median_ms(lambda: get(f"/desk/search/?q={RARE}"), RUNS), "ms", db=db,
         **extra)
    emit("desk", "search_common_ms", median_ms(lambda: get("/desk/search/?q=паспорта"), RUNS),
         "ms", db=db, **extra)


def _reindex_ms(org_id: int, vault) -> float:  # type: ignore[no-untyped-def]
    """Per case, what the first search after a re-index migration (cases/0004) pays."""
    from haven.cases import search
    from haven.cases.models import Case

    ids = list(Case.objects.filter(organization_id=org_id).order_by("pk").values_list("pk", flat=True)[:200])
    Case.objects.filter(pk__in=ids).update(indexed=False)
    t0 = time.perf_counter()
    done = search.index_pending(vault, org_id)
    return round((time.perf_counter() - t0) * 1000 / max(done, 1), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=10)
    parser.add_argument("--other-cases", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=1,
                        help="spread the big organization's cases over this many teams")
    child_or_per_database(__file__, parser, child)


if __name__ == "__main__":
    main()
