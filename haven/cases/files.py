"""Encrypted attachments on disk: random names, ciphertext only, confined to one folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings

from haven.env import private_dir

from .models import Attachment, Case


def folder() -> Path:
    """The attachments folder, 0700 like the files folder above it (L-10)."""
    private_dir(Path(settings.MEDIA_ROOT))
    return private_dir(Path(settings.MEDIA_ROOT) / "attachments")


def _path(storage_name: str) -> Path:
    if not storage_name.isalnum():
        raise ValueError("bad storage name")
    return folder() / storage_name


def write(ciphertext: bytes) -> str:
    """Store ciphertext under a new random name; returns the name."""
    name = secrets.token_hex(16)
    path = _path(name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(ciphertext)
    return name


def discard(storage_name: str) -> None:
    """Remove a file written for a record that was not kept (ciphertext, but remove it anyway)."""
    _path(storage_name).unlink(missing_ok=True)


def read(storage_name: str) -> bytes:
    return _path(storage_name).read_bytes()


def delete_files(case: Case) -> None:
    for name in Attachment.objects.filter(record__case=case).values_list("storage_name", flat=True):
        _shred(_path(name))


def _shred(path: Path) -> None:
    """Overwrite, then unlink (best effort on journaling or copy-on-write filesystems)."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
    except FileNotFoundError:
        pass
