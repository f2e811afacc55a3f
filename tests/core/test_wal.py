"""Purged rows do not linger in SQLite's write-ahead log (review L-11)."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from haven.core import worker

MARKER = "wal-marker-4f1d2a"


def _wal_file() -> Path:
    return Path(f"{connection.settings_dict['NAME']}-wal")


def _read(path: Path) -> bytes:
    """The file's bytes, read by another process: opening and closing a database file in
    this one drops this process's SQLite locks on it (POSIX locks go with any close), and
    a later process would then rebuild the WAL index under live connections (the stale
    reads the worker-kill test once saw; see tests/core/test_seized_disk.py)."""
    return subprocess.run(["cat", str(path)], capture_output=True, check=True, timeout=60).stdout


def _only_the_session_purge(monkeypatch: pytest.MonkeyPatch) -> None:
    task = worker.TASKS["purge_expired_sessions"]
    assert task.purges
    monkeypatch.setattr(worker, "TASKS", {task.name: task})
    monkeypatch.setattr(worker, "_wal", worker._Wal())


@pytest.mark.django_db(transaction=True)
def test_a_purge_leaves_the_deleted_rows_in_no_log_file(monkeypatch: pytest.MonkeyPatch) -> None:
    _only_the_session_purge(monkeypatch)
    Session.objects.create(session_key="k" * 32, session_data=MARKER,
                           expire_date=timezone.now() - timedelta(minutes=1))
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        assert MARKER.encode() in _read(_wal_file())  # the insert went through the log
    assert worker.run_due(now=1000.0, force=True) == {"purge_expired_sessions": 1}
    assert not Session.objects.filter(session_key="k" * 32).exists()
    if sqlite:
        assert _wal_file().stat().st_size == 0
        assert MARKER.encode() not in _read(Path(connection.settings_dict["NAME"]))
    else:  # PostgreSQL: nothing to truncate (dead tuples are VACUUM's, see threat-model.md)
        assert worker.truncate_wal() is False


@pytest.mark.django_db(transaction=True)
def test_the_log_is_truncated_at_most_once_a_minute_and_only_after_a_purge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _only_the_session_purge(monkeypatch)
    calls: list[int] = []
    monkeypatch.setattr(worker, "truncate_wal", lambda: calls.append(1) or True)
    worker.run_due(now=1000.0, force=True)  # nothing expired: nothing purged
    assert calls == []
    for key in ("a", "b"):
        Session.objects.create(session_key=key * 32, session_data="x",
                               expire_date=timezone.now() - timedelta(minutes=1))
    worker.run_due(now=2000.0, force=True)
    assert calls == [1]
    Session.objects.create(session_key="z" * 32, session_data="x",
                           expire_date=timezone.now() - timedelta(minutes=1))
    worker.run_due(now=2030.0, force=True)  # purged again, but within the minute
    assert calls == [1]
    worker.run_due(now=2100.0, force=True)  # the pending truncation is done now
    assert calls == [1, 1]
