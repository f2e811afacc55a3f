from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand

from haven.core import worker


class Command(BaseCommand):
    help = "Run Haven's background loop (housekeeping, outbox, reminders)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run every task once and exit")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["once"]:
            for name, count in worker.run_due(force=True).items():
                self.stdout.write(f"{name}: {count}")
            return
        stopping = {"flag": False}

        def stop(*_: Any) -> None:
            stopping["flag"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("Haven worker running; Ctrl-C to stop.")
        worker.loop(lambda: stopping["flag"])
        self.stdout.write("Haven worker stopped.")
