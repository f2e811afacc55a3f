"""Server-key encryption for what the bot must read with no member present.

Every key here is derived from the server's ``HAVEN_TOKEN_KEY`` for one purpose.
A copy of the database alone opens none of them; the database together with the
server's environment secrets opens all of them (see docs/threat-model.md). Each
ciphertext carries the identity of the row it belongs to, checked on opening, so
a value cannot be moved to another row (for instance, one case's chat to another).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.conf import settings

from haven.accounts.keys import pepper_hash
from haven.vault import TamperedCiphertext, box

TOKEN = b"haven/bot-token/v1"
CHAT = b"haven/telegram-chat/v1"
UPDATE = b"haven/telegram-update/v1"
STATE = b"haven/telegram-state/v1"
AUTOCLEAR = b"haven/telegram-autoclear/v1"


@cache
def _key(secret: bytes, purpose: bytes) -> bytes:
    return box.derive_subkey(secret, purpose)


def seal(purpose: bytes, bound_to: str, value: Any) -> bytes:
    """Encrypt ``value`` (JSON) for ``purpose``, bound to the row identity ``bound_to``."""
    data = json.dumps([bound_to, value], ensure_ascii=False, separators=(",", ":"))
    return box.secret_encrypt(_key(settings.HAVEN_TOKEN_KEY, purpose), data.encode("utf-8"))


def unseal(purpose: bytes, bound_to: str, blob: bytes) -> Any:
    """Open what :func:`seal` made; raise TamperedCiphertext if altered or moved."""
    raw = box.secret_decrypt(_key(settings.HAVEN_TOKEN_KEY, purpose), bytes(blob))
    try:
        bound, value = json.loads(raw)
    except ValueError as exc:
        raise TamperedCiphertext("not a sealed Telegram value") from exc
    if bound != bound_to:
        raise TamperedCiphertext("the value belongs to another row")
    return value


def seal_bytes(purpose: bytes, data: bytes) -> bytes:
    """Encrypt raw bytes (an update body) without parsing them."""
    return box.secret_encrypt(_key(settings.HAVEN_TOKEN_KEY, purpose), data)


def unseal_bytes(purpose: bytes, blob: bytes) -> bytes:
    return box.secret_decrypt(_key(settings.HAVEN_TOKEN_KEY, purpose), bytes(blob))


def chat_key(telegram_bot_id: int | None, chat_id: int) -> str:
    """How a chat is found again: a keyed hash under the server pepper, never the id."""
    return pepper_hash("tg-chat", f"{telegram_bot_id}:{chat_id}")


def secret_hash(secret: str) -> str:
    return pepper_hash("tg-webhook-secret", secret)
