"""A surge: several ``haven worker`` processes sending replies through a slow Bot API.

Three phases, each against the fake Bot API (:mod:`haven.telegram.fake`) served in
this process, with real worker processes (``haven worker``) sending:

1. ``duplicates``: ``--replies`` replies queued, ``--workers`` workers, every send
   taking ``--delay`` seconds, the claim lease shortened to ``--lease`` seconds
   (the proportions of 2 s sends against the 60 s lease). Counts replies sent twice
   and replies lost.
2. ``early_sends_after_429``: the same workers, sends at full speed, one 429 with
   ``retry_after`` 2 s part-way; counts sends that reach the API after a 429 and
   before its ``retry_after`` ended (the first 0.25 s after a 429 are not counted:
   a send already under way when it came is not an early send).
3. ``killed_worker_*``: one worker with the default lease, killed with SIGKILL
   while it sends; the rows it still holds, for how long (seconds until each is
   free again: the median, the longest) and the row-seconds of waiting it causes.

The delay and the record of every send attempt are wrapped around the fake here,
so the bench runs unchanged against older code. On SQLite and on PostgreSQL (when
it answers on 127.0.0.1:5432). Prints JSON lines {"bench": "outbox_surge", "metric",
"value", "unit", "db"}.

    python bench/outbox_surge.py [--replies 120] [--workers 3] [--delay 0.2] [--lease 6]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._setup import ROOT, child_or_per_database, django_setup, emit

TOKEN = "123456789:AAEhBP0av28pmVbzT6dvoXgE9rAzeqkV-jY"  # noqa: S105 - only the fake accepts it
BENCH = "outbox_surge"
WORKER = """
import datetime, os, django
django.setup()
from django.conf import settings
settings.HAVEN_TELEGRAM_API_URL = os.environ["FAKE_TELEGRAM"]
from haven import outbox
if os.environ.get("BENCH_LEASE"):
    outbox.LEASE = datetime.timedelta(seconds=float(os.environ["BENCH_LEASE"]))
from django.core.management import call_command
call_command("worker")
"""


class Recorder:
    """The fake's ``api``, made slow for sends, with every send attempt recorded."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.delay = 0.0
        self.attempts: list[tuple[float, int]] = []  # (arrival, status)
        self.refusals: list[tuple[float, float]] = []  # (time of a 429, its retry_after)
        self.lock = threading.Lock()
        self._api = fake.api
        fake.api = self.api

    def api(self, token: str, method: str, params: dict[str, Any]) -> Any:
        from haven.telegram.fake import Refused

        if method != "sendMessage":
            return self._api(token, method, params)
        arrived = time.monotonic()
        try:
            if self.delay:
                time.sleep(self.delay)
            result = self._api(token, method, params)
        except Refused as exc:
            with self.lock:
                self.attempts.append((arrived, exc.status))
                if exc.status == 429:
                    self.refusals.append((time.monotonic(), float(exc.retry_after or 1)))
            raise
        with self.lock:
            self.attempts.append((arrived, 200))
        return result

    def reset(self) -> None:
        with self.lock:
            self.attempts.clear()
            self.refusals.clear()
            self.fake.sent.clear()


def _start(fake_url: str, lease: float | None, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FAKE_TELEGRAM": fake_url, "PYTHONPATH": str(ROOT)}
    if lease:
        env["BENCH_LEASE"] = str(lease)
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


def _queue(bot: Any, count: int, tag: str) -> None:
    from haven.telegram.outgoing import Out

    for n in range(count):
        out = Out(bot, 60_000 + n)
        out.say(f"{tag} {n}")
        out.queue()


def _wait_empty(seconds: float) -> bool:
    from haven.outbox.models import Outbox

    deadline = time.monotonic() + seconds
    while Outbox.objects.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _bot() -> Any:
    from haven.telegram import bots, sealing
    from haven.telegram.models import Bot, Mode
    from tests.conftest import make_org

    alice, _ = make_org("surge", "alice")
    bot = Bot.objects.create(organization=alice.org, public_id="surgebot", mode=Mode.WEBHOOK,
                             telegram_id=123456789)
    Bot.objects.filter(pk=bot.pk).update(token=sealing.seal(sealing.TOKEN, bot.public_id, TOKEN),
                                         token_hint=bots.hint(TOKEN))
    bot.refresh_from_db()
    return bot


def _duplicates(args: argparse.Namespace, bot: Any, rec: Recorder, log: Path, db: str) -> None:
    rec.reset()
    rec.delay = args.delay
    _queue(bot, args.replies, "dup")
    started = time.monotonic()
    workers = [_start(rec.fake.url, args.lease, log) for _ in range(args.workers)]
    try:
        finished = _wait_empty(args.replies * args.delay * 3 + 60)
        time.sleep(max(0.5, args.delay * 2))  # sends still on the wire
    finally:
        _stop(workers)
    seconds = time.monotonic() - started
    counts = Counter(m["text"] for m in rec.fake.sent)
    extra = dict(db=db, workers=args.workers, delay_s=args.delay, lease_s=args.lease,
                 replies=args.replies)
    emit(BENCH, "duplicates", sum(c - 1 for c in counts.values()), "replies", **extra)
    emit(BENCH, "replies_sent_twice", sum(1 for c in counts.values() if c > 1), "replies", **extra)
    emit(BENCH, "lost", args.replies - len(counts), "replies", finished=finished, **extra)
    emit(BENCH, "surge_seconds", round(seconds, 1), "s", **extra)


def _early_sends(args: argparse.Namespace, bot: Any, rec: Recorder, log: Path, db: str) -> None:
    from haven.outbox.models import Outbox

    Outbox.objects.all().delete()
    rec.reset()
    rec.delay = 0.0
    count = 150
    _queue(bot, count, "burst")

    def inject() -> None:
        while len(rec.fake.sent) < 20:
            time.sleep(0.005)
        rec.fake.fail("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)

    threading.Thread(target=inject, daemon=True).start()
    workers = [_start(rec.fake.url, None, log) for _ in range(args.workers)]
    try:
        _wait_empty(120)
        time.sleep(0.5)
    finally:
        _stop(workers)
    early = 0
    resumed: list[float] = []
    for at, retry_after in rec.refusals:
        early += sum(1 for t, _ in rec.attempts if at + 0.25 <= t < at + retry_after)
        later = [t - at for t, status in rec.attempts if t >= at + 0.25 and status == 200]
        if later:
            resumed.append(min(later) - retry_after)
    extra = dict(db=db, workers=args.workers, refusals_429=len(rec.refusals), replies=count)
    emit(BENCH, "early_sends_after_429", early, "sends", **extra)
    emit(BENCH, "first_send_after_429_vs_retry_after_s",
         round(min(resumed), 2) if resumed else 0.0, "s", **extra)
    counts = Counter(m["text"] for m in rec.fake.sent)
    emit(BENCH, "lost_in_429_phase", count - len(counts), "replies", **extra)


def _killed_worker(args: argparse.Namespace, bot: Any, rec: Recorder, log: Path, db: str) -> None:
    from django.utils import timezone

    from haven.outbox.models import Outbox

    Outbox.objects.all().delete()
    rec.reset()
    rec.delay = args.delay
    _queue(bot, args.replies, "kill")
    worker = _start(rec.fake.url, None, log)  # the default lease, as in production
    try:
        deadline = time.monotonic() + 120
        while len(rec.fake.sent) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        _stop([worker])
    now = timezone.now()
    held = [(row.claimed_until - now).total_seconds()
            for row in Outbox.objects.filter(claimed_until__gt=now)]
    extra = dict(db=db, delay_s=args.delay, replies=args.replies)
    emit(BENCH, "killed_worker_held_rows", len(held), "replies", **extra)
    emit(BENCH, "killed_worker_hold_s", round(statistics.median(held), 1) if held else 0.0, "s",
         statistic="median", **extra)
    emit(BENCH, "killed_worker_hold_max_s", round(max(held), 1) if held else 0.0, "s", **extra)
    emit(BENCH, "killed_worker_row_seconds", round(sum(held), 1), "row-s", **extra)
    Outbox.objects.all().delete()


def child(args: argparse.Namespace) -> None:
    from django.conf import settings

    from haven.telegram.fake import FakeTelegram

    db = django_setup()
    bot = _bot()
    log = Path(os.environ["HAVEN_DATA"]) / "workers.log"
    with FakeTelegram(limits=(30.0, 30.0, 1000.0, 1000.0)) as fake:
        settings.HAVEN_TELEGRAM_API_URL = fake.url
        for n in range(max(args.replies, 150)):
            fake.open_chat(TOKEN, 60_000 + n)
        rec = Recorder(fake)
        _duplicates(args, bot, rec, log, db)
        _early_sends(args, bot, rec, log, db)
        _killed_worker(args, bot, rec, log, db)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=120)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--lease", type=float, default=6.0)
    child_or_per_database(__file__, parser, child)


if __name__ == "__main__":
    main()
