"""Web intakes per second against ``haven serve`` on loopback, next to a trivial view.

For each database (SQLite, then PostgreSQL when it answers on 127.0.0.1:5432)
this starts ``python -m haven.cli serve --workers 2`` in a throw-away demo data
folder, creates an organization, and runs CLIENTS threads that behave like
browsers without JavaScript: they GET each page, keep cookies, send the CSRF
token and follow redirects, through a whole summons intake (start, consent,
six questions, confirm; 17 requests) until the codename page. In the same run
they fetch the public start page ``/`` (the trivial view) before and after.

Prints JSON lines: intakes_per_s, intake_requests_per_s, trivial_requests_per_s,
ratio_to_trivial (intake requests/s over trivial requests/s) and
failed_requests (must be 0). Goal: >= 30 intakes/s and a ratio >= 0.33.

Wall-clock rates depend on whatever else the machine runs, so the CPU time of
the server (gunicorn and its workers) and of this client is measured too:
server_cpu_ms_per_intake, server_cpu_ms_per_trivial, and cpu_bound_intakes_per_s,
the rate the machine's cores would reach running only this server and client.

    python bench/intake.py [--clients 8] [--seconds 15] [--workers 2] [--db sqlite]

To try a settings change without editing haven/settings.py, put a module that
imports ``haven.settings`` and overrides it in a folder, then run with
``BENCH_SETTINGS=module BENCH_PYTHONPATH=folder``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._setup import _pg_available, _pg_database, emit  # noqa: E402

SLUG = "bench"
SETTINGS = os.environ.get("BENCH_SETTINGS", "")  # an alternative settings module, for experiments
EXTRA_PATH = [p for p in os.environ.get("BENCH_PYTHONPATH", "").split(os.pathsep) if p]
POSTED = (date.today() - timedelta(days=2)).isoformat()
ANSWERS = [("kind", "electronic"), ("posted_on", POSTED), ("report_date", ""),
           ("purpose", "medical"), ("abroad", "no"),
           ("situation", "Пришла электронная повестка на медкомиссию. Что делать?")]
CODENAME = re.compile(rb'<p class="codename" id="codename"><code>[^<]{10,}</code>')


class Failed(Exception):
    """A response that a browser would not have got from a working server."""


class Browser:
    """One keep-alive connection with a cookie jar, like a browser tab without JavaScript."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.requests = 0

    def _send(self, method: str, path: str, body: dict[str, str] | None = None) -> http.client.HTTPResponse:
        headers = {"Accept-Language": "ru"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode({**body, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # a dropped keep-alive connection: reconnect once
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        self.requests += 1
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, path: str, expect: int = 200) -> bytes:
        response = self._send("GET", path)
        content = response.read()
        if response.status != expect:
            raise Failed(f"GET {path}: {response.status}")
        return content

    def post(self, path: str, body: dict[str, str], expect: int = 302) -> tuple[str, bytes]:
        response = self._send("POST", path, body)
        content = response.read()
        if response.status != expect:
            raise Failed(f"POST {path}: {response.status} {content[:200]!r}")
        return response.headers.get("Location", ""), content

    def intake(self) -> None:
        self.cookies.clear()
        base = f"/o/{SLUG}/"
        self.get(base)
        self.get(f"{base}consent/?topic=summons")
        location, _ = self.post(f"{base}consent/", {"topic": "summons", "agree": "1"})
        for step, value in ANSWERS:
            self.get(location)
            location, _ = self.post(f"{base}step/", {"step": step, "value": value, "action": "next"})
        self.get(location)
        sent, _ = self.post(location, {"send": "1"})
        page = self.get(sent)  # the codename stays on its own page until "written down"
        if not CODENAME.search(page):
            raise Failed("no codename on the last page")
        self.post(sent, {"written": "1"}, expect=200)


class Load:
    """Runs ``work`` in ``clients`` threads for ``seconds``; counts completions and failures."""

    def __init__(self, port: int, clients: int, seconds: float) -> None:
        self.port, self.clients, self.seconds = port, clients, seconds
        self.lock = threading.Lock()
        self.done = self.requests = self.failures = 0
        self.errors: list[str] = []

    def run(self, kind: str) -> float:
        self.done = self.requests = self.failures = 0
        stop = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self._client, args=(kind, stop)) for _ in range(self.clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started

    def _client(self, kind: str, stop: float) -> None:
        browser = Browser(self.port)
        done = failures = 0
        while time.monotonic() < stop:
            try:
                browser.intake() if kind == "intake" else browser.get("/")
                done += 1
            except Failed as exc:
                failures += 1
                with self.lock:
                    self.errors.append(str(exc))
        with self.lock:
            self.done += done
            self.requests += browser.requests
            self.failures += failures


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data: str, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HAVEN_", "DJANGO_")) and k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(HAVEN_MODE="demo", HAVEN_DATA=data, PYTHONPATH=os.pathsep.join([str(ROOT), *EXTRA_PATH]))
    if SETTINGS:
        env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


SEED = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from haven.accounts.keys import make_organization
make_organization("bench", "Bench help desk")
"""


@contextmanager
def server(data: str, database_url: str | None, workers: int) -> Iterator[tuple[int, int]]:
    env = _env(data, database_url)
    subprocess.run([sys.executable, "-c", SEED],
                   env={"DJANGO_SETTINGS_MODULE": "haven.settings", **env}, check=True, cwd=ROOT)
    port = _free_port()
    log = open(Path(data) / "serve.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "haven.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--no-migrate"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(port, proc)
        yield port, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own gunicorn and its workers only
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _wait_until_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"haven serve exited with {proc.returncode}")
        try:
            Browser(port).get("/")
            return
        except (OSError, Failed, http.client.HTTPException):
            time.sleep(0.3)
    raise SystemExit("haven serve did not answer within 60 s")


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its children (gunicorn's workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    rate: float  # completions per second (wall clock)
    requests_per_s: float
    done: int
    server_cpu: float  # seconds
    client_cpu: float
    failures: int


def _phase(load: Load, kind: str, pid: int) -> Phase:
    server, client = _tree_cpu(pid), time.process_time()
    elapsed = load.run(kind)
    server, client = _tree_cpu(pid) - server, time.process_time() - client
    return Phase(load.done / elapsed, load.requests / elapsed, load.done, server, client, load.failures)


def measure(db: str, port: int, pid: int, clients: int, seconds: float) -> None:
    load = Load(port, clients, 2)
    load.run("intake")  # warm-up: imports, connections, caches
    load.run("trivial")
    load.seconds = seconds
    before = _phase(load, "trivial", pid)
    intake = _phase(load, "intake", pid)
    errors = list(load.errors)
    after = _phase(load, "trivial", pid)
    trivial_rps = (before.requests_per_s + after.requests_per_s) / 2
    trivial_cpu = (before.server_cpu + after.server_cpu) / max(before.done + after.done, 1)
    per_intake = (intake.server_cpu + intake.client_cpu) / max(intake.done, 1)
    extra = {"db": db, "clients": clients}
    emit("intake", "intakes_per_s", round(intake.rate, 1), "1/s", **extra)
    emit("intake", "intake_requests_per_s", round(intake.requests_per_s, 1), "1/s", **extra)
    emit("intake", "trivial_requests_per_s", round(trivial_rps, 1), "1/s", **extra)
    emit("intake", "ratio_to_trivial", round(intake.requests_per_s / trivial_rps, 3), "ratio", **extra)
    emit("intake", "failed_requests", before.failures + intake.failures + after.failures, "count", **extra)
    emit("intake", "server_cpu_ms_per_intake", round(1000 * intake.server_cpu / max(intake.done, 1), 1),
         "ms", **extra)
    emit("intake", "server_cpu_ms_per_trivial", round(1000 * trivial_cpu, 2), "ms", **extra)
    emit("intake", "cpu_bound_intakes_per_s", round((os.cpu_count() or 1) / per_intake, 1), "1/s", **extra)
    # The most this machine could do if every request of an intake cost the server no
    # more than the trivial page: what the one-page-per-step design allows at best.
    requests_per_intake = intake.requests_per_s / intake.rate if intake.rate else 0.0
    client_per_intake = intake.client_cpu / max(intake.done, 1)
    ceiling = (os.cpu_count() or 1) / (requests_per_intake * trivial_cpu + client_per_intake)
    emit("intake", "requests_per_intake", round(requests_per_intake, 1), "count", **extra)
    emit("intake", "ceiling_at_trivial_cost_intakes_per_s", round(ceiling, 1), "1/s", **extra)
    for error in errors[:5]:
        print(f"# {db}: {error}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", choices=["both", "sqlite", "postgresql"],
                        default=os.environ.get("BENCH_DB", "both"))
    args = parser.parse_args()
    targets = [] if args.db == "postgresql" else ["sqlite"]
    if args.db != "sqlite" and _pg_available():
        targets.append("postgresql")
    for db in targets:
        with tempfile.TemporaryDirectory(prefix="haven-bench-intake-") as data:
            if db == "sqlite":
                with server(data, None, args.workers) as (port, pid):
                    measure(db, port, pid, args.clients, args.seconds)
            else:
                with _pg_database() as url, server(data, url, args.workers) as (port, pid):
                    measure(db, port, pid, args.clients, args.seconds)


if __name__ == "__main__":
    main()
