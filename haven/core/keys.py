"""The Django side of the vault: server secrets from the settings, handed to it.

Apps use these instead of reading ``HAVEN_PEPPER`` or ``HAVEN_TOKEN_KEY``
themselves, so no app depends on another for a hash or a server box.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.conf import settings

from haven.vault import keyed_hash, slow_keyed_hash
from haven.vault.box import derive_subkey
from haven.vault.purposes import PASSWORD_PEPPER, Purpose
from haven.vault.server import Envelope, ServerBox


def pepper_hash(purpose: str, value: str | bytes) -> str:
    """Keyed hash under the server pepper (lookups that must not reveal the value).

    ``purpose`` is a :class:`haven.vault.purposes.Lookup` label.
    """
    return keyed_hash(settings.HAVEN_PEPPER, purpose, value)


def slow_pepper_hash(purpose: str, value: str | bytes) -> str:
    """:func:`pepper_hash` that also costs an Argon2id per value (see
    :func:`haven.vault.kdf.slow_keyed_hash`): for values from a small space, such as
    Telegram chat ids, that must not be searchable even with the pepper."""
    return slow_keyed_hash(settings.HAVEN_PEPPER, purpose, value)


def server_box(purpose: Purpose, envelope: Envelope = Envelope.PAIR) -> ServerBox:
    """The :class:`ServerBox` for ``purpose`` under the server's ``HAVEN_TOKEN_KEY``."""
    return _server_box(settings.HAVEN_TOKEN_KEY, purpose, envelope)


@cache
def _server_box(secret: bytes, purpose: Purpose, envelope: Envelope) -> ServerBox:
    # Built once per secret: deriving the key again for each row would be wasted work.
    return ServerBox(secret, purpose, envelope)


def password_pepper() -> bytes:
    """The 32-byte server secret mixed into password-derived keys and login hashes.

    Derived from ``HAVEN_PEPPER`` (hashed first: a BLAKE2b key may be 64 bytes at
    most). Read on each call, so a changed setting (tests) takes effect.
    """
    return derive_subkey(hashlib.sha256(settings.HAVEN_PEPPER).digest(), PASSWORD_PEPPER.info)
