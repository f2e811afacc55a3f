from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import AppConfig

from haven.env import tighten


class CoreConfig(AppConfig):
    name = "haven.core"
    label = "core"
    verbose_name = "Haven core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import checks, worker  # noqa: F401  (registers checks and periodic tasks)

        connection_created.connect(_private_sqlite_files, dispatch_uid="haven-private-sqlite")


def _private_sqlite_files(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite made the file with the umask's mode: 0600 for it, its -wal and its -shm (L-10)."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    # chmod only: opening and closing the files here would drop SQLite's POSIX locks.
    for suffix in ("", "-wal", "-shm"):
        tighten(Path(name + suffix), 0o600)
