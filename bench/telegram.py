"""Telegram throughput: the webhook view on loopback, and the outbox against the 30/s limit.

1. Updates a second through the real webhook view, served by gunicorn on
   127.0.0.1 with the production settings (gthread workers, the full middleware
   stack), next to a trivial Django view measured in the same run and the same
   server. Goals: at least 300 updates a second, and at least a third of the
   trivial view's rate.
2. The outbox's sustained send rate against the fake Bot API's per-bot limit of
   30 messages a second, sent by the worker's own loop (``haven.core.worker``).
   Goals: at least 95 % of 30/s, and no 429.
3. What one chat key costs (``chat_key_ms``: the slow keyed hash that finds a chat
   again, Argon2id under the pepper, uncached), and from it what a search of every
   Telegram id (2^33) for one bot would cost someone holding the database and the
   pepper: ``chat_id_search_core_years`` and ``chat_id_search_days_1000_cores``.

On SQLite and on PostgreSQL (when it answers on 127.0.0.1:5432). Prints JSON
lines: {"bench": "telegram", "db", "updates_per_s", "trivial_per_s",
"ratio_to_trivial", "outbox_per_s", "outbox_429", "chat_key_ms", ...}.

    python bench/telegram.py [--seconds 5] [--clients 16] [--messages 600]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from bench._setup import ROOT, child_or_per_database, django_setup

SECRET = "bench-secret"  # noqa: S105 - a throw-away value for a throw-away database
TOKEN = "123456789:AAEhBP0av28pmVbzT6dvoXgE9rAzeqkV-jY"  # noqa: S105 - only the fake accepts it


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def __getattr__(name: str) -> Any:
    """The URL configuration gunicorn serves here (Haven's plus the trivial view), built on use."""
    if name == "urlpatterns":
        return [path("trivial/", trivial), path("", include("haven.urls"))]
    raise AttributeError(name)


_app: Any = None


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """Haven's WSGI application with this module's URL configuration."""
    global _app
    if _app is None:
        from django.conf import settings
        from django.core.wsgi import get_wsgi_application

        _app = get_wsgi_application()
        settings.ROOT_URLCONF = "bench.telegram"
        if os.environ.get("BENCH_CONN_MAX_AGE"):  # what persistent connections would change
            settings.DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])
    return _app(environ, start_response)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """gunicorn as `haven serve` runs it (access log included), serving this module's app."""
    from haven.core.management.commands.serve import gunicorn_argv

    argv = gunicorn_argv(f"127.0.0.1:{port}", workers=args.workers, threads=args.threads)
    argv[argv.index("haven.wsgi:application")] = "bench.telegram:application"
    server = subprocess.Popen(argv, env=dict(os.environ), cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def _load(port: int, clients: int, seconds: float, request: Any) -> float:
    """Requests a second from ``clients`` keep-alive connections for ``seconds``."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            method, url, body, headers = request(index, counts[index])
            conn.request(method, url, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
            counts[index] += 1
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def _webhook_bench(args: argparse.Namespace) -> dict[str, float]:
    from haven.telegram import sealing
    from haven.telegram.models import Bot, Mode, Update
    from tests.conftest import make_org

    alice, _ = make_org("bench", "alice")
    bot = Bot.objects.create(organization=alice.org, public_id="benchbot", mode=Mode.WEBHOOK,
                             webhook_secret_hash=sealing.secret_hash(SECRET), telegram_id=123456789)
    url = f"/telegram/webhook/{bot.public_id}/"

    def update(index: int, n: int) -> tuple[str, str, bytes, dict[str, str]]:
        body = json.dumps({"update_id": index * 10_000_000 + n, "message": {
            "message_id": n, "date": 0, "text": "Здравствуйте, мне пришла повестка",
            "chat": {"id": 1000 + index, "type": "private"},
            "from": {"id": 1000 + index, "is_bot": False, "first_name": "T"}}}).encode()
        return "POST", url, body, {"Content-Type": "application/json",
                                   "X-Telegram-Bot-Api-Secret-Token": SECRET}

    port = _free_port()
    server = _serve(port, args)
    try:
        def plain(index: int, n: int) -> tuple[str, str, None, dict[str, str]]:
            return "GET", "/trivial/", None, {}

        _load(port, args.clients, 1.0, plain)  # warm-up
        # Alternate one-second slices, so both views see the same background load.
        trivial_rates, webhook_rates, offset = [], [], 0
        for _ in range(int(args.seconds)):
            trivial_rates.append(_load(port, args.clients, 1.0, plain))
            webhook_rates.append(_load(port, args.clients, 1.0,
                                       lambda i, n, o=offset: update(i, n + o)))
            offset += 100_000
        trivial_rate = sum(trivial_rates) / len(trivial_rates)
        webhook_rate = sum(webhook_rates) / len(webhook_rates)
        recorded = Update.objects.count()
    finally:
        server.terminate()
        server.wait(20)
    return {"updates_per_s": round(webhook_rate, 1), "trivial_per_s": round(trivial_rate, 1),
            "ratio_to_trivial": round(webhook_rate / trivial_rate, 3), "updates_recorded": recorded}


def _outbox_bench(args: argparse.Namespace) -> dict[str, float]:
    from django.conf import settings

    from haven.cases.models import Outbox
    from haven.core import worker
    from haven.telegram import bots, sealing
    from haven.telegram.fake import FakeTelegram
    from haven.telegram.models import Bot, Update
    from haven.telegram.outgoing import Out

    Update.objects.all().delete()  # the webhook phase's updates: not this phase's work
    Outbox.objects.all().delete()
    bot = Bot.objects.get(public_id="benchbot")
    Bot.objects.filter(pk=bot.pk).update(token=sealing.seal(sealing.TOKEN, bot.public_id, TOKEN),
                                         token_hint=bots.hint(TOKEN))
    bot.refresh_from_db()
    with FakeTelegram() as fake:
        settings.HAVEN_TELEGRAM_API_URL = fake.url
        for n in range(args.messages):
            fake.open_chat(TOKEN, 50_000 + n)
            out = Out(bot, 50_000 + n)
            out.say(f"Ответ номер {n}: приходите с паспортом.")
            out.queue()
        done = threading.Event()

        def watch() -> None:
            while len(fake.sent) < args.messages:
                time.sleep(0.05)
            done.set()
        threading.Thread(target=watch, daemon=True).start()
        worker.loop(done.is_set, tick=1.0)  # the worker's own loop, as `haven worker` runs it
        times = sorted(m["at"] for m in fake.sent)
        steady = [t for t in times if t >= times[0] + 1.0]  # after the bucket's first burst
        return {"outbox_per_s": round((len(times) - 1) / (times[-1] - times[0]), 2),
                "outbox_steady_per_s": round((len(steady) - 1) / (steady[-1] - steady[0]), 2),
                "outbox_limit_per_s": 30.0, "outbox_429": fake.refused_429,
                "outbox_messages": len(times)}


TELEGRAM_IDS = 2**33


def _chat_key_bench(count: int = 40) -> dict[str, float]:
    """One slow chat key, as the bot computes it on a cache miss."""
    from haven.core.keys import slow_pepper_hash
    from haven.vault.purposes import Lookup

    slow_pepper_hash(Lookup.TG_CHAT_SLOW, "123456789:1")  # warm-up
    started = time.perf_counter()
    for n in range(count):
        slow_pepper_hash(Lookup.TG_CHAT_SLOW, f"123456789:{7_000_000 + n}")
    seconds = (time.perf_counter() - started) / count
    core_years = TELEGRAM_IDS * seconds / (365.25 * 86400)
    return {"chat_key_ms": round(seconds * 1000, 2),
            "chat_id_search_core_years": round(core_years, 2),
            "chat_id_search_days_1000_cores": round(core_years * 365.25 / 1000, 1)}


def child(args: argparse.Namespace) -> None:
    db = django_setup()
    chat_key = _chat_key_bench()
    webhook = _webhook_bench(args)
    outbox = {"outbox_per_s": 0.0, "outbox_429": -1} if args.skip_outbox else _outbox_bench(args)
    print(json.dumps({"bench": "telegram", "db": db, **chat_key, **webhook, **outbox,
                      "goal_updates": webhook["updates_per_s"] >= 300,
                      "goal_ratio": webhook["ratio_to_trivial"] >= 1 / 3,
                      "goal_outbox": outbox.get("outbox_steady_per_s", 0) >= 0.95 * 30
                      and outbox["outbox_429"] == 0}),
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)  # = workers x threads (gthread keep-alive)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--skip-outbox", action="store_true")
    child_or_per_database(__file__, parser, child)


if __name__ == "__main__":
    main()
