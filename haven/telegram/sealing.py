"""Server-key encryption for what the bot must read with no member present.

The boxes are :class:`haven.vault.server.ServerBox` es under the server's
``HAVEN_TOKEN_KEY``, one per purpose of :mod:`haven.vault.purposes`. A copy of
the database alone opens none of them; the database together with the server's
environment secrets opens all of them (see docs/threat-model.md). Each value is
bound to the identity of the row it belongs to, checked on opening, so a value
cannot be moved to another row (for instance, one case's chat to another).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings

from haven.core.keys import pepper_hash, server_box, slow_pepper_hash
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


# Chat keys computed in the last minute, so that a conversation (an update, the answers
# to it, their pacing and tracking) pays the slow hash once, not at each step. Kept
# in this process's memory only, which already holds the chat id while it works.
CACHE_SECONDS = 60.0
CACHE_MAX = 10_000
_recent: dict[tuple[bytes, int | None, int], tuple[float, str]] = {}
_lock = threading.Lock()


def chat_key(telegram_bot_id: int | None, chat_id: int) -> str:
    """How a chat is found again: a slow keyed hash under the server pepper, never the id.

    Argon2id per value (``Lookup.TG_CHAT_SLOW``), so that the database and the
    pepper together still cost an Argon2id per guessed chat id (see
    docs/threat-model.md for what a search of every id costs).
    """
    now = time.monotonic()
    name = (bytes(settings.HAVEN_PEPPER), telegram_bot_id, int(chat_id))
    with _lock:
        hit = _recent.get(name)
    if hit is not None and hit[0] > now:
        return hit[1]
    key = slow_pepper_hash(Lookup.TG_CHAT_SLOW, f"{telegram_bot_id}:{chat_id}")
    with _lock:
        if len(_recent) >= CACHE_MAX:
            for stale in [n for n, (until, _k) in _recent.items() if until <= now] or list(_recent):
                del _recent[stale]
        _recent[name] = (now + CACHE_SECONDS, key)
    return key


def fast_chat_key(telegram_bot_id: int | None, chat_id: int) -> str:
    """The chat key before it was slow (``Lookup.TG_CHAT``): only to re-key old rows."""
    return pepper_hash(Lookup.TG_CHAT, f"{telegram_bot_id}:{chat_id}")


def secret_hash(secret: str) -> str:
    return pepper_hash(Lookup.TG_WEBHOOK_SECRET, secret)
