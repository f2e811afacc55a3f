"""Time to log in with the production key-derivation cost.

A login checks the password hash (Django's Argon2PasswordHasher), unwraps the
member's private key with Argon2id (opslimit 3, memlimit 128 MiB unless
HAVEN_KDF_* say otherwise in production) and opens the organization key with
it. This runs that work on a member made the usual way, in a throw-away demo
data folder with SQLite. Target: login between 0.2 and 1 s.

Run from the repository root: ``python bench/unlock.py [--teams 5]``. Prints JSON lines.
With ``--teams N`` the member is in N teams (General and N-1 more), so a login also
opens N team keys; those lines carry ``"teams": N``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROUNDS = 7
USERNAME = "bench-admin"
PASSWORD = "lantern-orchard-violet-91"  # noqa: S105 - a throw-away member of a temp database


def _median(work: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


TEAMS = 0


def _emit(metric: str, seconds: float) -> None:
    line: dict[str, object] = {"bench": "unlock", "metric": metric, "value": round(seconds, 3),
                               "unit": "s"}
    if TEAMS:
        line["teams"] = TEAMS
    print(json.dumps(line))


def _configure(data: str) -> None:
    """The demo profile keeps production's KDF and password hasher, with local secrets."""
    for name in list(os.environ):
        if name.startswith(("HAVEN_", "DJANGO_")) or name in {"DATABASE_URL", "REDIS_URL"}:
            del os.environ[name]
    os.environ.update(HAVEN_MODE="demo", HAVEN_DATA=data, DJANGO_SETTINGS_MODULE="haven.settings")


def main() -> None:
    global TEAMS
    if "--teams" in sys.argv:
        TEAMS = int(sys.argv[sys.argv.index("--teams") + 1])
    with tempfile.TemporaryDirectory(prefix="haven-bench-unlock-") as data:
        _configure(data)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        from haven import vault
        from haven.accounts import services
        from haven.accounts.keys import unlock_member, unwrap_member_key

        call_command("migrate", interactive=False, verbosity=0)
        made = services.create_organization("bench", "Bench", USERNAME)
        token = made.admin_invite.token
        member = services.accept_invite(token, PASSWORD).member
        if TEAMS > 1:
            from haven.cases import actions

            ring = unlock_member(member, PASSWORD).ring(member.pk)
            for n in range(TEAMS - 1):
                actions.create_team(member, ring, f"Team {n + 2}", [])
        held = len(unlock_member(member, PASSWORD).team_keys)
        assert held == max(TEAMS, 1), held

        params = vault.WrappedKey.from_text(member.wrapped_private_key).params
        print(f"# argon2id opslimit={params.opslimit} memlimit={params.memlimit // 2**20} MiB; "
              f"password hasher {settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}; "
              f"{os.cpu_count()} cpus", file=sys.stderr)
        assert member.password.startswith("argon2p$"), "not the production password hasher"
        assert member.check_password(PASSWORD)

        def login() -> None:
            if not member.check_password(PASSWORD):
                raise SystemExit("the password check failed")
            unlock_member(member, PASSWORD)

        _emit("login_s", _median(login))
        _emit("unwrap_s", _median(lambda: unwrap_member_key(member.wrapped_private_key, PASSWORD)))
        _emit("password_check_s", _median(lambda: member.check_password(PASSWORD)))
        connections.close_all()


if __name__ == "__main__":
    main()
