"""``haven demo``: data folder, migrate, seed, and run web, worker and a fake Telegram on 127.0.0.1."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from haven.accounts.models import Organization
from haven.cli import DEMO_MARKER
from haven.core.children import Children, port_is_free
from haven.core.management.commands.serve import gunicorn_argv
from haven.demo import seed as demo
from haven.env import SITE_URL_FILE
from haven.knowledge.demo import load_shipped
from haven.telegram.demo import seed_bot

FAKE_URL_FILE = "fake-telegram.url"  # read by `haven chat`
FAKE_START_S = 30.0


class Command(BaseCommand):
    help = "Run a demo of Haven on 127.0.0.1 with a seeded organization."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--telegram-port", type=int, default=0,
                            help="port of the fake Telegram (default: any free port)")
        parser.add_argument("--no-serve", action="store_true", help="set up and seed, then exit")

    def handle(self, *args: Any, **opts: Any) -> None:
        port, telegram_port = opts["port"], opts["telegram_port"]
        if not opts["no_serve"]:
            _check_ports(port, telegram_port)
        data = settings.DATA_DIR
        data.mkdir(parents=True, exist_ok=True)
        (data / DEMO_MARKER).write_text("This data folder belongs to a Haven demo.\n")
        self.stdout.write(f"Data folder: {data}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        logins = demo.seed()
        seed_bot(Organization.objects.get(slug=demo.DEMO_ORG))
        load_shipped()
        (data / SITE_URL_FILE).write_text(f"http://127.0.0.1:{port}\n", encoding="utf-8")
        self._print_logins(logins, port)
        if opts["no_serve"]:
            return
        self._run(port, telegram_port)

    def _print_logins(self, logins: list[demo.DemoLogin], port: int) -> None:
        out = self.stdout.write
        site = f"http://127.0.0.1:{port}"
        haven = f"{_database_prefix()}{_haven_command()} --data {settings.DATA_DIR}"
        out(f"\nHaven demo: {site}/")
        out(f"  staff login:       {site}/login/")
        out(f"  requesters start:  {site}/o/{demo.DEMO_ORG}/")
        out(f"  knowledge base:    {site}/kb/o/{demo.DEMO_ORG}/\n")
        out("Log in as one of (username / password / role):")
        partner = {p.username for p in demo.PARTNER_PEOPLE}
        for person in logins:
            where = f"  (administrator of /o/{demo.PARTNER_ORG}/, the demo's partner)" \
                if person.username in partner else ""
            out(f"  {person.username:<6} {person.password:<28} {person.role}{where}")
        out("\nThe second factor is a 6-digit code that changes every 30 seconds. Get the current one with:")
        out(f"  {haven} totp alice")
        out(f"(right now alice's code is {demo.current_code('alice')})\n")
        if _database_password():
            out("(first set DATABASE_URL in that terminal as when you started the demo; it holds a "
                "password, so it is not shown here)\n")
        out("Talk to the demo bot from another terminal, no internet needed:")
        out(f"  {haven} chat\n")

    def _run(self, port: int, telegram_port: int) -> None:
        data = Path(settings.DATA_DIR)
        url_file = data / FAKE_URL_FILE
        url_file.unlink(missing_ok=True)
        env = dict(os.environ, HAVEN_MODE="demo", HAVEN_DATA=str(data),
                   HAVEN_SITE_URL=f"http://127.0.0.1:{port}")
        children = Children(env)
        previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            fake = children.start("fake Telegram", [
                sys.executable, "-m", "haven.telegram.fake", "--port", str(telegram_port),
                "--url-file", str(url_file)])
            children.env["HAVEN_TELEGRAM_API_URL"] = _wait_for_url(url_file, fake.process)
            children.start("web server (gunicorn)", gunicorn_argv(f"127.0.0.1:{port}", workers=2))
            children.start("worker", [sys.executable, "-m", "haven.cli", "worker"])
            self._print_ports(port, children.env["HAVEN_TELEGRAM_API_URL"])
            dead = _watch(children)
        except KeyboardInterrupt:
            dead = None
        finally:
            for sig in previous:  # a second Ctrl-C must not cut the stopping short
                signal.signal(sig, signal.SIG_IGN)
            children.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if dead is not None:
            raise CommandError(f"the demo's {dead} stopped (exit code {_exit_code(children, dead)}); "
                               "the demo stopped everything else. Its output is above.")
        self.stdout.write("Demo stopped. Your data stays in the data folder.")

    def _print_ports(self, port: int, fake_url: str) -> None:
        fake_port = urllib.parse.urlsplit(fake_url).port
        self.stdout.write(f"Ports in use: {port} (web), {fake_port} (fake Telegram). "
                          "Press Ctrl-C to stop the demo.")
        sys.stdout.flush()


def _check_ports(port: int, telegram_port: int) -> None:
    if telegram_port and telegram_port == port:
        raise CommandError("--telegram-port must differ from --port")
    for value, option in ((port, "--port"), (telegram_port, "--telegram-port")):
        if value and not port_is_free(value):
            raise CommandError(f"port {value} is in use (another demo?): give another {option}")


def _wait_for_url(url_file: Path, fake: Any) -> str:
    deadline = time.monotonic() + FAKE_START_S
    while time.monotonic() < deadline:
        if url_file.exists() and url_file.read_text(encoding="utf-8").strip():
            return url_file.read_text(encoding="utf-8").strip()
        if fake.poll() is not None:
            raise CommandError(f"the fake Telegram did not start (exit code {fake.returncode})")
        time.sleep(0.05)
    raise CommandError(f"the fake Telegram did not start within {FAKE_START_S:.0f} s")


def _watch(children: Children) -> str:
    """Sleep until a child ends; return its name."""
    while True:
        dead = children.first_dead()
        if dead is not None:
            return dead.name
        time.sleep(0.5)


def _exit_code(children: Children, name: str) -> int | None:
    return next(c.process.returncode for c in children.running if c.name == name)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _database_url() -> str:
    return os.environ.get("DATABASE_URL", "").strip()


def _database_password() -> bool:
    url = _database_url()
    return bool(url) and bool(urllib.parse.urlsplit(url).password)


def _database_prefix() -> str:
    """What other commands need to reach the demo's database, without printing a password."""
    url = _database_url()
    if not url or _database_password():
        return ""
    return f"DATABASE_URL={shlex.quote(url)} "


def _haven_command() -> str:
    """How to call `haven` from here: the venv's script when it is not on PATH."""
    script = Path(sys.executable).with_name("haven")
    if not script.exists() or shutil.which("haven") == str(script):
        return "haven"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)
