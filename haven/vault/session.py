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


TEAM_ENTRY = 8 + KEY_BYTES  # team id (big-endian) and the team's private key


def pack_ring(cookie_key: bytes, member_private: bytes, org_private: bytes,
              team_keys: dict[int, bytes]) -> bytes:
    """Like :func:`pack_member_keys`, followed by the team keys the member holds."""
    if len(member_private) != KEY_BYTES or len(org_private) != KEY_BYTES:
        raise ValueError("private keys are 32 bytes")
    teams = b"".join(team_id.to_bytes(8, "big") + key for team_id, key in sorted(team_keys.items())
                     if len(key) == KEY_BYTES)
    return secret_encrypt(cookie_key, member_private + org_private + teams)


def unpack_ring(cookie_key: bytes, blob: bytes) -> tuple[bytes, bytes, dict[int, bytes]]:
    """(member key, organization key, {team id: team key}); a blob of
    :func:`pack_member_keys` gives no team keys. Raise a VaultError."""
    raw = secret_decrypt(cookie_key, blob)
    if len(raw) < 2 * KEY_BYTES or (len(raw) - 2 * KEY_BYTES) % TEAM_ENTRY:
        raise TamperedCiphertext("a key session holds 32-byte keys")
    rest = raw[2 * KEY_BYTES:]
    teams = {int.from_bytes(rest[i:i + 8], "big"): rest[i + 8:i + TEAM_ENTRY]
             for i in range(0, len(rest), TEAM_ENTRY)}
    return raw[:KEY_BYTES], raw[KEY_BYTES:2 * KEY_BYTES], teams
