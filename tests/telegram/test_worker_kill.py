"""A real ``haven worker`` process, killed while it sends, then restarted: nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from haven.cases import actions
from haven.cases.models import Delivery, RecordKind
from haven.outbox.models import Outbox
from haven.telegram import bots
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona

from .conftest import TOKEN, telegram_case

ROOT = Path(__file__).resolve().parents[2]
# The worker as `haven worker` runs it, pointed at the fake, with the outbox's claim
# lease shortened from 60 s to 2 s so the restarted worker need not wait a minute.
WORKER = """
import datetime, os, django
django.setup()
from django.conf import settings
settings.HAVEN_TELEGRAM_API_URL = os.environ["FAKE_TELEGRAM"]
from haven import outbox
outbox.LEASE = datetime.timedelta(seconds=2)
from django.core.management import call_command
call_command("worker")
"""


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start(settings: Any, fake: FakeTelegram, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HAVEN_MODE": "test", "HAVEN_DATA": str(settings.DATA_DIR),
           "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": _database_url(),
           "FAKE_TELEGRAM": fake.url, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def _wait(check: Callable[[], bool], seconds: float, log: Path, fake: FakeTelegram) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raw = getattr(connection.connection, "in_transaction", None)
            again = check()
            rows = list(Outbox.objects.values("attempts", "last_error", "next_attempt",
                                              "claimed_until"))
            first = fake.sent[0]["at"] if fake.sent else 0.0
            times = [round(m["at"] - first, 2) for m in fake.sent]
            raise AssertionError(
                f"timed out at {timezone.now()}; check again {again}; in transaction {raw}, "
                f"atomic {connection.in_atomic_block}; {len(fake.sent)} sent at {times}, "
                f"now {round(time.monotonic() - first, 2)}; calls {dict(fake.calls)}, "
                f"429s {fake.refused_429}; outbox {rows}; the workers wrote:\n"
                + log.read_text()[-3000:])
        time.sleep(0.02)


def _outbox_empty() -> bool:
    return not Outbox.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_sending_loses_nothing(
        alice: Persona, fake: FakeTelegram, settings: Any, tmp_path: Path) -> None:
    bots.set_token(alice.member, TOKEN)
    bot = Bot.objects.get()
    vault = alice.vault()
    count = 40
    for n in range(count):
        fake.open_chat(TOKEN, 9500 + n)
        actions.reply(alice.member, vault, telegram_case(alice, bot, 9500 + n), f"reply number {n}")
    workers: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "worker.log"
    try:
        workers.append(_start(settings, fake, log))
        _wait(lambda: len(fake.sent) >= 12, 90, log, fake)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        assert len(fake.sent) < count, "the kill came too late to test anything"
        workers.append(_start(settings, fake, log))
        _wait(_outbox_empty, 150, log, fake)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(10)
    delivered = Counter(m["text"].split("\n\n")[1] for m in fake.sent)
    assert set(delivered) == {f"reply number {n}" for n in range(count)}, log.read_text()[-3000:]
    assert sum(delivered.values()) - count <= 1  # at most the one message in flight, again
    records = actions.Case.objects.filter(organization=alice.org)
    assert all(r.delivery == Delivery.SENT for c in records for r in c.records.filter(kind=RecordKind.OUTBOUND))
