"""Files on their way to a requester: spooled encrypted beside the outbox, removed once sent.

A reply with a file would make a large outbox row, rewritten on every retry and
progress mark. So the file is written here, encrypted with the outbox's server key
(the worker reads it with no member present, like the payload), under a random
name; the row's sealed payload carries only that name. The spool file is written
before the reply's transaction and removed if that transaction fails; it is
removed after the transaction that deletes its row commits (sent, failed for good,
or cancelled when the case is burned). A worker that dies between spool and send
leaves both row and file: the row is claimed again after its lease, and the file
is still there. A worker that dies after that commit but before the unlink leaves
an unreadable orphan, which :func:`sweep` removes.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from haven.core.keys import server_box
from haven.env import private_dir
from haven.vault import VaultError
from haven.vault.purposes import OUTBOX

from .models import Outbox

ORPHAN_AGE = 24 * 3600  # an unreferenced spool file older than this is left over from a crash


class SpoolMissing(Exception):
    """The spooled file is gone (removed by hand, or the disk was restored from an older copy)."""


def folder() -> Path:
    private_dir(Path(settings.MEDIA_ROOT))
    return private_dir(Path(settings.MEDIA_ROOT) / "outbox-spool")


def _path(name: str) -> Path:
    if not name.isalnum():
        raise ValueError("bad spool name")
    return folder() / name


def write(data: bytes) -> str:
    """Encrypt ``data`` under the outbox key and spool it; returns its name."""
    name = secrets.token_hex(16)
    fd = os.open(_path(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(server_box(OUTBOX).seal_bytes(data))
    return name


def read(name: str) -> bytes:
    try:
        sealed = _path(name).read_bytes()
    except FileNotFoundError:
        raise SpoolMissing(name) from None
    return server_box(OUTBOX).unseal_bytes(sealed)


def remove(name: str) -> None:
    _path(name).unlink(missing_ok=True)


def names_in(payload: dict[str, Any]) -> list[str]:
    file = payload.get("file")
    name = file.get("spool") if isinstance(file, dict) else None
    return [name] if isinstance(name, str) and name.isalnum() else []


def _names_of(rows: Iterable[Outbox]) -> list[str]:
    from . import open_payload

    found: list[str] = []
    for row in rows:
        try:
            payload = open_payload(bytes(row.payload))
        except VaultError:  # a payload that no longer opens names no file we could read either
            payload = {}
        found += names_in(payload)
    return found


def remove_after_commit(rows: Iterable[Outbox]) -> None:
    """Remove the spool files of ``rows`` once the transaction deleting them commits."""
    names = _names_of(rows)
    if names:
        transaction.on_commit(lambda: _remove_all(names))


def _remove_all(names: list[str]) -> None:
    for name in names:
        remove(name)


def sweep(now: float | None = None) -> int:
    """Remove spool files no outbox row names and older than ORPHAN_AGE; returns how many."""
    cutoff = (now or time.time()) - ORPHAN_AGE
    old = [p for p in folder().iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
    if not old:
        return 0
    wanted = set(_names_of(Outbox.objects.only("payload").iterator()))
    removed = 0
    for path in old:
        if path.name not in wanted:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _on_done(sender: Any, row: Outbox, **kwargs: Any) -> None:
    remove_after_commit([row])


def connect() -> None:
    from . import failed, sent

    sent.connect(_on_done, dispatch_uid="haven.outbox.spool.sent")
    failed.connect(_on_done, dispatch_uid="haven.outbox.spool.failed")
