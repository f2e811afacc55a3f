"""Run the production web server (gunicorn) with an access log that holds no addresses."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# Time, method, path without query string (tokens never reach the log), status, size, duration.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def gunicorn_argv(bind: str, workers: int, threads: int = 4) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "haven.wsgi:application",
        "--bind", bind, "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread",
        "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT,
        "--error-logfile", "-", "--forwarded-allow-ips", os.environ.get("HAVEN_PROXY_IPS", "127.0.0.1"),
        "--no-control-socket", "--limit-request-line", "8190", "--timeout", "60", "--graceful-timeout", "20",
    ]


class Command(BaseCommand):
    help = "Run Haven's web server (gunicorn)."
    requires_system_checks = "__all__"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=os.environ.get("HAVEN_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("HAVEN_WORKERS", "2")))
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = gunicorn_argv(opts["bind"], opts["workers"])
        self.stdout.write(f"Haven listening on http://{opts['bind']}/")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
