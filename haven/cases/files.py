"""Encrypted attachments on disk: random names, ciphertext only, confined to one folder."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from haven.env import private_dir
from haven.vault import OrgVault

from .models import Attachment, Case


class FileLike(Protocol):
    """A cleaned file (haven.intake.attachments.CleanFile has this shape)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> bytes: ...


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


@dataclass(frozen=True)
class OpenedFile:
    """A decrypted attachment, held only in the member's request."""

    record_id: int
    name: str
    type: str
    data: bytes


def attachment_of(case: Case, record_id: int) -> Attachment | None:
    """The case's attachment for ``record_id``, or None (also for another case's file)."""
    return (Attachment.objects.select_related("record")
            .filter(record_id=record_id, record__case=case).first())


def attachments_of(case: Case) -> list[Attachment]:
    return list(Attachment.objects.select_related("record").filter(record__case=case)
                .order_by("record__created", "record_id"))


def open_file(vault: OrgVault, attachment: Attachment) -> OpenedFile:
    """Decrypt an attachment's sealed description and its file (raises a vault error)."""
    meta: dict[str, Any] = json.loads(vault.decrypt_text(bytes(attachment.record.body)))
    data = vault.decrypt(read(attachment.storage_name))
    return OpenedFile(attachment.record_id, str(meta.get("name") or "document"),
                      str(meta.get("type") or ""), data)


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
