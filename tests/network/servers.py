"""Two (or more) real Haven deployments on loopback, for the network's end-to-end tests
and bench/network.py.

Each :class:`Server` is what an organization runs: ``haven serve`` (gunicorn) on a free
127.0.0.1 port and ``haven worker``, with its own data folder (its own generated
secrets: HAVEN_SECRET_KEY, HAVEN_PEPPER, HAVEN_TOKEN_KEY) and its own database, SQLite
in the data folder or a fresh PostgreSQL database (``createdb`` on 127.0.0.1:5432,
dropped at the end). Its organization is seeded by running this module as a command
with the server's environment (``python -m tests.network.servers seed``): an
administrator ("coordinator") and a caseworker with known passwords and second-factor
secrets, and, when asked, a Telegram bot in webhook mode on the fake Bot API
(:mod:`haven.telegram.fake`) that the test process serves on loopback.

In front of each server a small :class:`Proxy` (in the test process) is the address
everybody uses, browsers and the partner's worker alike (the server's HAVEN_SITE_URL):
it keeps a copy of every envelope posted to ``/network/inbox/`` (what a machine on the
way sees), and when the web server is stopped it drops connections as a down host
would. Nothing reaches into a server's database: pages over HTTP, and the server's own
commands.

Logs (serve.log, worker.log, seed.log) stay in the data folder; :meth:`Server.logs`
returns their tails for a failing test's report.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.surge import Form, form_to, keep_cookies, parse_forms  # noqa: E402

TOKEN = "123456789:AAEhBP0av28pmVbzT6dvoXgE9rAzeqkV-jY"  # only the fake Bot API accepts it
PG_HOST = "127.0.0.1"
TIMEOUT = 60.0
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate", "content-length"}

__all__ = ["TOKEN", "Form", "Network", "Page", "Proxy", "Server", "Web", "form_to", "free_port",
           "parse_forms", "pg_available"]


# --- small helpers ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_available() -> bool:
    """PostgreSQL answers on 127.0.0.1:5432 and ``createdb`` is on the PATH."""
    if shutil.which("createdb") is None or shutil.which("dropdb") is None:
        return False
    try:
        with socket.create_connection((PG_HOST, 5432), timeout=2):
            pass
    except OSError:
        return False
    done = subprocess.run(["psql", "-h", PG_HOST, "-U", "postgres", "-d", "postgres", "-Atc", "select 1"],
                          capture_output=True, timeout=20, check=False) if shutil.which("psql") else None
    return done is None or done.returncode == 0


def _kill(proc: subprocess.Popen[bytes] | None, grace: float = 15.0) -> None:
    """Stop one process we started and its children (its own process group)."""
    if proc is None:
        return
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def multipart(fields: Iterable[tuple[str, str]],
              files: Iterable[tuple[str, str, bytes, str]] = ()) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it; ``files``: (field, name, data, type).
    A file field with no file is ("files", "", b"", "application/octet-stream")."""
    boundary = "----haven" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, filename, data, kind in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- a browser without JavaScript --------------------------------------------------------


@dataclass
class Page:
    status: int
    location: str
    body: str
    headers: dict[str, str]
    raw: bytes = b""
    url: str = ""  # the path this page was fetched from (a form without action posts here)

    @property
    def forms(self) -> list[Form]:
        return parse_forms(self.body)

    def form(self, action_part: str) -> Form:
        """The form whose action contains ``action_part`` (a page's own form has action "")."""
        for form in self.forms:
            if action_part in form.action:
                return form
        actions = [f.action for f in self.forms]
        raise AssertionError(f"no form posting to …{action_part}… on this page (forms: {actions})\n"
                             f"{text_of(self.body)[:1500]}")

    def form_having(self, field_name: str) -> Form:
        """The first form with a field (or checkbox) named ``field_name``."""
        for form in self.forms:
            if any(k == field_name for k, _v in [*form.fields, *form.checkboxes]):
                return form
        raise AssertionError(f"no form with a field {field_name!r} on this page\n{self.text[:1500]}")

    @property
    def text(self) -> str:
        return text_of(self.body)


def text_of(html: str) -> str:
    """The page's words, tags dropped, whitespace squeezed (for asserts and failure reports)."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    words = re.sub(r"<[^>]+>", " ", html)
    import html as html_lib

    return re.sub(r"\s+", " ", html_lib.unescape(words)).strip()


class Web:
    """One browser tab without JavaScript: cookies, the CSRF token, forms as browsers post them.

    Unlike bench/surge.py's Browser it returns every answer, refusals included, so tests
    can assert on 400s and 403s; :meth:`ok` asserts a 2xx/3xx.
    """

    def __init__(self, base: str, lang: str = "en") -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.base, self.lang = base.rstrip("/"), lang
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _path(self, url: str) -> str:
        if url.startswith("http"):
            parts = urlsplit(url)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return url

    def request(self, method: str, url: str, *, form: Iterable[tuple[str, str]] | None = None,
                files: Iterable[tuple[str, str, bytes, str]] | None = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, csrf: bool = True) -> Page:
        path = self._path(url)
        sent = {"Accept-Language": self.lang, "Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = data
        if form is not None:
            fields = list(form)
            if csrf and not any(k == "csrfmiddlewaretoken" for k, _v in fields):
                fields.append(("csrfmiddlewaretoken", self.cookies.get("csrftoken", "")))
            if files is not None:
                body, sent["Content-Type"] = multipart(fields, files)
            else:
                body, sent["Content-Type"] = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # a keep-alive connection the server closed while idle: once more
                if attempt == 2:
                    raise
        keep_cookies(self.cookies, response)
        if response.will_close:
            self.close()
        return Page(response.status, response.headers.get("Location", ""),
                    content.decode("utf-8", "replace"), dict(response.headers.items()), content,
                    path)

    def get(self, url: str, **kw: Any) -> Page:
        return self.request("GET", url, **kw)

    def post(self, url: str, form: Iterable[tuple[str, str]], **kw: Any) -> Page:
        return self.request("POST", url, form=form, **kw)

    def follow(self, page: Page, limit: int = 5) -> Page:
        while 300 <= page.status < 400 and page.location and limit:
            page, limit = self.get(page.location), limit - 1
        return page

    def ok(self, page: Page, what: str = "") -> Page:
        if not 200 <= page.status < 400:
            raise AssertionError(f"{what or 'request'}: HTTP {page.status}\n{page.text[:2000]}")
        return page

    def open(self, url: str) -> Page:
        """GET, follow redirects, assert it answered."""
        return self.ok(self.follow(self.get(url)), f"GET {url}")

    def submit(self, page: Page, which: Form | str = "", *, button: tuple[str, str] | None = None,
               files: Iterable[tuple[str, str, bytes, str]] | None = None, follow: bool = True,
               expect_ok: bool = True, **overrides: str | list[str]) -> Page:
        """Submit a form of ``page`` (``which``: a Form of it, or a part of its action) as a
        browser would, with ``overrides`` replacing fields; a form without action posts to
        the page's own address."""
        form = which if isinstance(which, Form) else page.form(which)
        values = form.values(**overrides)
        if button is not None:
            values.append(button)
        action = form.action or page.url
        answer = (self.post(action, values, files=files) if form.method == "post"
                  else self.get(f"{self._path(action)}?{urlencode(values)}"))
        if follow:
            answer = self.follow(answer)
        if expect_ok:
            self.ok(answer, f"{form.method.upper()} {action}")
        return answer

    def log_in(self, who: dict[str, Any]) -> Web:
        from django_otp.oath import totp

        # A code is taken once: a second login within its 30 s uses the next one, which
        # the server accepts too (one step of clock drift).
        for drift in (0, 1):
            self.get("/login/")
            code = f"{totp(bytes.fromhex(who['totp']), drift=drift):06d}"
            answer = self.post("/login/", [("username", who["username"]), ("password", who["password"]),
                                           ("code", code)])
            if answer.status == 302:
                break
        if answer.status != 302:
            raise AssertionError(f"{who['username']} could not log in: HTTP {answer.status}\n{answer.text[:800]}")
        return self


# --- a proxy in front of each server ---------------------------------------------------------


class Proxy:
    """127.0.0.1:<port> forwarding to the server's gunicorn; records inbox posts; drops
    connections while the server is down (``up`` False or nothing listening)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.up = True
        self.inbox: list[bytes] = []  # every body posted to /network/inbox/, in order
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.command == "POST" and self.path.split("?")[0].rstrip("/").endswith("/network/inbox"):
                    with proxy.lock:
                        proxy.inbox.append(body or b"")
                if not proxy.up:
                    self.close_connection = True
                    with suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=TIMEOUT)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    content = answer.read()
                except OSError:
                    self.close_connection = True  # the server is down: as a dead host, no answer
                    with suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                finally:
                    conn.close()
                self.send_response_only(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_HEADERS and name.lower() not in {"date", "server"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="haven-proxy", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> Proxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- one deployment -------------------------------------------------------------------------


@dataclass
class Server:
    """One organization's Haven: data folder, database, web server, worker, seeded people."""

    name: str  # "A", "B": for messages and logs
    slug: str
    db: str = "sqlite"  # or "postgresql"
    mode: str = "test"  # HAVEN_MODE: "test" (fast password hashing) or "demo" (production costs)
    bot: bool = False  # seed a Telegram bot in webhook mode on the fake
    telegram_url: str = ""
    proxied: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    data: Path = field(init=False)
    port: int = field(init=False)  # gunicorn's
    database: str = field(init=False, default="")
    people: dict[str, dict[str, Any]] = field(init=False, default_factory=dict)
    bot_public_id: str = field(init=False, default="")
    web_proc: subprocess.Popen[bytes] | None = field(init=False, default=None)
    worker_proc: subprocess.Popen[bytes] | None = field(init=False, default=None)
    proxy: Proxy | None = field(init=False, default=None)
    sessions: dict[tuple[str, str], Web] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix=f"haven-net-{self.name.lower()}-"))
        self.port = free_port()
        if self.proxied:
            self.proxy = Proxy(self.port).start()

    # addresses
    @property
    def public_port(self) -> int:
        return self.proxy.port if self.proxy is not None else self.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def database_url(self) -> str | None:
        return f"postgres://postgres@{PG_HOST}:5432/{self.database}" if self.database else None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HAVEN_", "DJANGO_", "PYTEST_", "BENCH_"))
               and k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(HAVEN_MODE=self.mode, HAVEN_DATA=str(self.data), HAVEN_SITE_URL=self.url,
                   DJANGO_SETTINGS_MODULE="haven.settings", PYTHONPATH=str(ROOT),
                   HAVEN_LOG_LEVEL="INFO")
        if self.telegram_url:
            env["HAVEN_TELEGRAM_API_URL"] = self.telegram_url
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    # life cycle
    def create_database(self) -> None:
        if self.db != "postgresql":
            return
        self.database = f"haven_net_{uuid.uuid4().hex[:10]}"
        subprocess.run(["createdb", "-h", PG_HOST, "-U", "postgres", self.database], check=True,
                       capture_output=True, timeout=60)

    def seed(self) -> None:
        """Migrate and make the organization, its people (and bot), with the server's settings."""
        argv = [sys.executable, "-m", "tests.network.servers", "seed", "--slug", self.slug]
        if self.bot:
            argv.append("--bot")
        log = self.data / "seed.log"
        with log.open("ab") as err:
            done = subprocess.run(argv, env=self.env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=err,
                                  timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"seeding server {self.name} failed:\n{self.logs('seed.log')}")
        seeded = json.loads(done.stdout.decode().strip().splitlines()[-1])
        self.people, self.bot_public_id = seeded["people"], seeded.get("bot", "")

    def _spawn(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with (self.data / log_name).open("ab") as out:
            return subprocess.Popen(argv, env=self.env(), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def start_web(self, workers: int = 2) -> None:
        if self.web_proc is not None and self.web_proc.poll() is None:
            return
        self.web_proc = self._spawn([sys.executable, "-m", "haven.cli", "serve", "--bind",
                                     f"127.0.0.1:{self.port}", "--workers", str(workers), "--no-migrate"],
                                    "serve.log")
        self._wait_up()
        if self.proxy is not None:
            self.proxy.up = True

    def stop_web(self) -> None:
        if self.proxy is not None:
            self.proxy.up = False
        _kill(self.web_proc)
        self.web_proc = None

    def start_worker(self) -> None:
        if self.worker_proc is not None and self.worker_proc.poll() is None:
            return
        self.worker_proc = self._spawn([sys.executable, "-m", "haven.cli", "worker"], "worker.log")

    def stop_worker(self) -> None:
        _kill(self.worker_proc)
        self.worker_proc = None

    def worker_once(self) -> str:
        """One forced round of every worker task (``haven worker --once``), in its own process."""
        done = subprocess.run([sys.executable, "-m", "haven.cli", "worker", "--once"], env=self.env(),
                              cwd=ROOT, capture_output=True, timeout=120, check=False)
        with (self.data / "worker.log").open("ab") as out:
            out.write(b"--- worker --once\n" + done.stdout + done.stderr)
        return done.stdout.decode("utf-8", "replace")

    def command(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """A ``haven`` management command run with this server's settings."""
        return subprocess.run([sys.executable, "-m", "haven.cli", *args], env=self.env(), cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def _wait_up(self, limit: float = 90.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.web_proc is None or self.web_proc.poll() is not None:
                raise RuntimeError(f"server {self.name}'s web server exited:\n{self.logs('serve.log')}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login/", headers={"Host": f"127.0.0.1:{self.port}"})
                status = conn.getresponse().status
                conn.close()
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server {self.name} did not answer within {limit:.0f} s:\n{self.logs('serve.log')}")

    def close(self, keep_data: bool = False) -> None:
        self.stop_worker()
        self.stop_web()
        if self.proxy is not None:
            self.proxy.stop()
        if self.database:
            subprocess.run(["dropdb", "-h", PG_HOST, "-U", "postgres", "--if-exists", "--force",
                            self.database], capture_output=True, timeout=60, check=False)
            self.database = ""
        if not keep_data:
            shutil.rmtree(self.data, ignore_errors=True)

    # people
    def browser(self, lang: str = "en") -> Web:
        return Web(self.url, lang)

    def member(self, who: str, lang: str = "en") -> Web:
        """The logged-in browser of the seeded ``who`` ("coordinator" or "caseworker"), one per
        member and language, logged in once (a second-factor code cannot be used twice)."""
        key = (who, lang)
        if key not in self.sessions:
            self.sessions[key] = Web(self.url, lang).log_in(self.people[who])
        return self.sessions[key]

    def logs(self, *names: str, tail: int = 60) -> str:
        out = []
        for name in names or ("seed.log", "serve.log", "worker.log"):
            path = self.data / name
            if path.exists():
                lines = path.read_text("utf-8", "replace").splitlines()[-tail:]
                out.append(f"--- server {self.name} ({self.db}) {name} (last {len(lines)} lines)\n"
                           + "\n".join(lines))
        return "\n".join(out)

    def errors_logged(self) -> list[str]:
        """Lines with a traceback or a 5xx answer in the web server's and the worker's logs."""
        found = []
        status = re.compile(r'" 5\d\d ')
        for name in ("serve.log", "worker.log"):
            path = self.data / name
            if path.exists():
                found += [line for line in path.read_text("utf-8", "replace").splitlines()
                          if "Traceback" in line or status.search(line)]
        return found


# --- the pair of servers and the fake Telegram ------------------------------------------------


class Network:
    """The fake Bot API and the servers, started together and stopped whatever happens."""

    def __init__(self, specs: list[dict[str, Any]], telegram: bool = True) -> None:
        self.specs, self.telegram = specs, telegram
        self.fake: Any = None
        self.servers: list[Server] = []

    def start(self) -> Network:
        if self.telegram:
            from haven.telegram.fake import FakeTelegram

            # Requesters here type one step at a time; the real per-chat limit would only
            # slow the tests (the server paces itself to one message a second a chat).
            self.fake = FakeTelegram(limits=(30.0, 30.0, 1000.0, 1000.0)).start()
        for spec in self.specs:
            server = Server(**spec, telegram_url=self.fake.url if self.fake else "")
            self.servers.append(server)
        failures: list[BaseException] = []

        def prepare(server: Server) -> None:
            try:
                server.create_database()
                server.seed()
                server.start_web()
                server.start_worker()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=prepare, args=(s,)) for s in self.servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            self.close()
            raise failures[0]
        return self

    def close(self, keep_data: bool = False) -> None:
        for server in self.servers:
            with suppress(Exception):
                server.close(keep_data)
        if self.fake is not None:
            with suppress(Exception):
                self.fake.stop()
            self.fake = None

    def logs(self) -> str:
        return "\n".join(s.logs() for s in self.servers)

    def __enter__(self) -> Network:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def two_servers(a_db: str = "sqlite", b_db: str = "postgresql", mode: str = "test", telegram: bool = True,
                **extra: Any) -> Iterator[tuple[Network, Server, Server]]:
    """A (with the Telegram bot when ``telegram``) and B, each with a coordinator and a caseworker."""
    net = Network([dict(name="A", slug="alpha", db=a_db, mode=mode, bot=telegram, **extra),
                   dict(name="B", slug="beta", db=b_db, mode=mode, **extra)], telegram=telegram)
    with net:
        yield net, net.servers[0], net.servers[1]


# --- the seed command, run with a server's environment -----------------------------------------


def _seed(slug: str, bot: bool) -> dict[str, Any]:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from haven.accounts.models import Role
    from tests.conftest import add_member, make_org

    admin, _made = make_org(slug, "coordinator")
    worker = add_member(admin, "caseworker", Role.CASEWORKER)
    people = {p.member.username: {"id": p.member.pk, "username": p.member.username,
                                  "password": p.password, "totp": p.totp_secret}
              for p in (admin, worker)}
    out: dict[str, Any] = {"slug": slug, "people": people}
    if bot:
        from haven.telegram import bots
        from haven.telegram.models import Mode

        bots.set_token(admin.member, TOKEN)
        out["bot"] = bots.set_mode(admin.member, Mode.WEBHOOK).public_id
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="seed one test server (run with its environment)")
    parser.add_argument("command", choices=["seed"])
    parser.add_argument("--slug", required=True)
    parser.add_argument("--bot", action="store_true")
    args = parser.parse_args()
    print(json.dumps(_seed(args.slug, args.bot)), flush=True)


if __name__ == "__main__":
    main()
