"""Server-key encryption for what the bot must read with no member present.

The boxes are :class:`haven.vault.server.ServerBox` es under the server's
``HAVEN_TOKEN_KEY``, one per purpose of :mod:`haven.vault.purposes`. A copy of
the database alone opens none of them; the database together with the server's
environment secrets opens all of them (see docs/threat-model.md). Each value is
bound to the identity of the row it belongs to, checked on opening, so a value
cannot be moved to another row (for instance, one case's chat to another).
"""

from __future__ import annotations

from typing import Any

from haven.core.keys import pepper_hash, server_box
from haven.vault import purposes
from haven.vault.purposes import Lookup, Purpose

TOKEN = purposes.BOT_TOKEN
CHAT = purposes.TELEGRAM_CHAT
UPDATE = purposes.TELEGRAM_UPDATE
STATE = purposes.TELEGRAM_STATE
AUTOCLEAR = purposes.TELEGRAM_AUTOCLEAR


def seal(purpose: Purpose, bound_to: str, value: Any) -> bytes:
    """Encrypt ``value`` (JSON) for ``purpose``, bound to the row identity ``bound_to``."""
    return server_box(purpose).seal(bound_to, value)


def unseal(purpose: Purpose, bound_to: str, blob: bytes) -> Any:
    """Open what :func:`seal` made; raise TamperedCiphertext if altered or moved."""
    return server_box(purpose).unseal(bound_to, blob)


def seal_bytes(purpose: Purpose, data: bytes) -> bytes:
    """Encrypt raw bytes (an update body) without parsing them."""
    return server_box(purpose).seal_bytes(data)


def unseal_bytes(purpose: Purpose, blob: bytes) -> bytes:
    return server_box(purpose).unseal_bytes(blob)


def chat_key(telegram_bot_id: int | None, chat_id: int) -> str:
    """How a chat is found again: a keyed hash under the server pepper, never the id."""
    return pepper_hash(Lookup.TG_CHAT, f"{telegram_bot_id}:{chat_id}")


def secret_hash(secret: str) -> str:
    return pepper_hash(Lookup.TG_WEBHOOK_SECRET, secret)
