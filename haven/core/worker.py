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
    purges: bool = False  # deletes content rows: the SQLite write-ahead log is emptied after


TASKS: dict[str, Task] = {}
CHECKPOINT_EVERY = 60.0  # seconds: at most one WAL truncation a minute while rows are deleted


@dataclass
class _Wal:
    pending: bool = False
    last: float = float("-inf")


_wal = _Wal()


def periodic(every: float, *, purges: bool = False) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register ``func`` (returning how many items it handled) to run every ``every`` s.

    ``purges``: the task deletes rows with content (delivered outbox rows, updates,
    conversations, expired cases); when it handled any, the SQLite write-ahead
    log is checkpointed and truncated (see :func:`truncate_wal`).
    """

    def decorate(func: Callable[[], int]) -> Callable[[], int]:
        TASKS[func.__name__] = Task(func.__name__, every, func, purges=purges)
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
            _wal.pending = _wal.pending or (task.purges and done[task.name] > 0)
    if _wal.pending and now - _wal.last >= CHECKPOINT_EVERY:
        _wal.pending, _wal.last = not truncate_wal(), now
    return done


def truncate_wal() -> bool:
    """On SQLite, copy the write-ahead log into the database and truncate it to zero bytes.

    ``secure_delete`` zeroes freed pages of the database file, but the WAL keeps
    the frames written before a delete (ciphertext of delivered replies, updates,
    conversations) until they are overwritten. Returns False where there is
    nothing to do (PostgreSQL, inside a transaction) or readers kept it from
    finishing (it is tried again after the next purge).
    """
    from django.db import connection

    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = cursor.fetchone()[0]
    return not busy


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
