"""Envelopes kept as files under ``files/network/`` (a referral is up to tens of MB).

An envelope is already ciphertext to its recipient and signed, so it is stored as it
came, mode 0600. Use :func:`kept` around the transaction that records the row naming
the file: if anything in it fails, the file is removed, so a failed request never
leaves an envelope behind. A process killed between the two leaves an orphan, which
the worker's :func:`sweep` removes after a day.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction

from haven.env import private_dir

ORPHAN_AGE = 24 * 3600
# Functions returning the envelope names rows still refer to (registered by the parts
# that keep envelopes: referrals out and in, the transport's queued sends).
_USERS: list[Callable[[], Iterator[str]]] = []


def folder() -> Path:
    private_dir(Path(settings.MEDIA_ROOT))
    return private_dir(Path(settings.MEDIA_ROOT) / "network")


def path_of(name: str) -> Path:
    if not name or not name.isalnum():
        raise FileNotFoundError("no such envelope")
    return folder() / name


def write(blob: bytes) -> str:
    """Store ``blob`` under a new random name; return the name."""
    name = secrets.token_hex(16)
    fd = os.open(path_of(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(bytes(blob))
    return name


@contextmanager
def kept(blob: bytes) -> Iterator[str]:
    """Write ``blob`` and yield its name; remove it again if the block raises."""
    name = write(blob)
    try:
        yield name
    except BaseException:
        remove(name)
        raise


def read(name: str) -> bytes:
    return path_of(name).read_bytes()


def remove(name: str) -> None:
    if name:
        try:
            path_of(name).unlink(missing_ok=True)
        except FileNotFoundError:
            pass


def remove_after_commit(name: str) -> None:
    """Remove the file once the current transaction (which dropped its row's name) commits."""
    if name:
        transaction.on_commit(lambda: remove(name))


def uses(func: Callable[[], Iterator[str]]) -> Callable[[], Iterator[str]]:
    """Register a source of names still in use (for :func:`sweep`)."""
    _USERS.append(func)
    return func


def sweep(now: float | None = None) -> int:
    """Remove envelope files older than a day that no row names; return how many."""
    cutoff = (now or time.time()) - ORPHAN_AGE
    old = [p for p in folder().iterdir()
           if p.is_file() and not p.name.startswith(".") and p.stat().st_mtime < cutoff]
    if not old:
        return 0
    from .models import IncomingReferral, Referral

    wanted: set[str] = set(Referral.objects.exclude(envelope="").values_list("envelope", flat=True))
    wanted.update(IncomingReferral.objects.exclude(envelope="").values_list("envelope", flat=True))
    for source in _USERS:
        wanted.update(source())
    removed = 0
    for path in old:
        if path.name not in wanted:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
