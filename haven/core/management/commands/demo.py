"""``haven demo``: data folder, migrate, seed, and run web and worker on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from haven.cli import DEMO_MARKER
from haven.core import demo
from haven.core.management.commands.serve import gunicorn_argv
from haven.knowledge.demo import load_shipped


class Command(BaseCommand):
    help = "Run a demo of Haven on 127.0.0.1 with a seeded organization."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up and seed, then exit")

    def handle(self, *args: Any, **opts: Any) -> None:
        data = settings.DATA_DIR
        data.mkdir(parents=True, exist_ok=True)
        (data / DEMO_MARKER).write_text("This data folder belongs to a Haven demo.\n")
        self.stdout.write(f"Data folder: {data}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        logins = demo.seed()
        load_shipped()
        self._print_logins(logins, opts["port"])
        if opts["no_serve"]:
            return
        self._run(opts["port"])

    def _print_logins(self, logins: list[demo.DemoLogin], port: int) -> None:
        out = self.stdout.write
        data_arg = f"--data {settings.DATA_DIR}"
        haven = _haven_command()
        out(f"\nHaven demo: http://127.0.0.1:{port}/login/\n")
        out("Log in as one of (username / password / role):")
        for person in logins:
            out(f"  {person.username:<6} {person.password:<28} {person.role}")
        out("\nThe second factor is a 6-digit code that changes every 30 seconds. Get the current one with:")
        out(f"  {haven} {data_arg} totp alice")
        out(f"(right now alice's code is {demo.current_code('alice')})\n")
        out("Talk to the demo bot from another terminal, no internet needed:")
        out(f"  {haven} {data_arg} chat\n")

    def _run(self, port: int) -> None:
        # A fake Telegram on the next port, so `haven chat` and desk replies work offline.
        fake_url = f"http://127.0.0.1:{port + 1}"
        env = dict(os.environ, HAVEN_MODE="demo", HAVEN_DATA=str(settings.DATA_DIR),
                   HAVEN_SITE_URL=f"http://127.0.0.1:{port}", HAVEN_TELEGRAM_API_URL=fake_url)
        fake = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "haven.telegram.fake", "--port", str(port + 1),
             "--url-file", str(settings.DATA_DIR / "fake-telegram.url")], env=env)
        web = subprocess.Popen(gunicorn_argv(f"127.0.0.1:{port}", workers=2), env=env)  # noqa: S603
        worker = subprocess.Popen(
            [sys.executable, "-m", "haven.cli", "worker"], env=env
        )
        procs = (web, worker, fake)
        signal.signal(signal.SIGTERM, _interrupt)  # stop them all, as on Ctrl-C
        try:
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stdout.write("Demo stopped. Your data stays in the data folder.")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _haven_command() -> str:
    """How to call `haven` from here: the venv's script when it is not on PATH."""
    script = Path(sys.executable).with_name("haven")
    if not script.exists() or shutil.which("haven") == str(script):
        return "haven"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)
