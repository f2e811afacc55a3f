"""The background loop: periodic tasks registered by each app.

Each task is a function run every ``every`` seconds. Tasks must be safe to run
in several workers at once (they claim rows, or their work is idempotent).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections

log = logging.getLogger("haven.worker")


@dataclass
class Task:
    name: str
    every: float
    func: Callable[[], int]
    next_run: float = field(default=0.0)


TASKS: dict[str, Task] = {}


def periodic(every: float) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register ``func`` (returning how many items it handled) to run every ``every`` s."""

    def decorate(func: Callable[[], int]) -> Callable[[], int]:
        TASKS[func.__name__] = Task(func.__name__, every, func)
        return func

    return decorate


def run_due(now: float | None = None, force: bool = False) -> dict[str, int]:
    """Run every task that is due; return how many items each handled."""
    now = time.monotonic() if now is None else now
    done: dict[str, int] = {}
    for task in TASKS.values():
        if force or now >= task.next_run:
            close_old_connections()
            try:
                done[task.name] = task.func()
            except Exception:  # one failing task must not stop the others
                log.exception("task %s failed", task.name)
                done[task.name] = -1
            task.next_run = now + task.every
    return done


def loop(stop: Callable[[], bool], tick: float = 1.0) -> None:
    while not stop():
        run_due()
        time.sleep(tick)


@periodic(every=6 * 3600)
def refresh_planner_statistics() -> int:
    """Keep SQLite's query planner statistics fresh (PostgreSQL's autovacuum does its own)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA optimize")
    return 1
