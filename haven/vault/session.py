"""Key sessions: a member's unlocked keys kept under a key that lives in a cookie."""

from __future__ import annotations

from .box import secret_decrypt, secret_encrypt
from .errors import TamperedCiphertext

KEY_BYTES = 32


def pack_member_keys(cookie_key: bytes, member_private: bytes, org_private: bytes) -> bytes:
    """Encrypt both private keys under ``cookie_key`` (member key first)."""
    if len(member_private) != KEY_BYTES or len(org_private) != KEY_BYTES:
        raise ValueError("private keys are 32 bytes")
    return secret_encrypt(cookie_key, member_private + org_private)


def unpack_member_keys(cookie_key: bytes, blob: bytes) -> tuple[bytes, bytes]:
    """Return (member private key, organization private key); raise a VaultError."""
    raw = secret_decrypt(cookie_key, blob)
    if len(raw) != 2 * KEY_BYTES:
        raise TamperedCiphertext("a key session holds two 32-byte keys")
    return raw[:KEY_BYTES], raw[KEY_BYTES:]
