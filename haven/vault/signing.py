"""Ed25519 signatures between organizations.

An organization signs what it hands to a partner (referrals, receipts, the end of a
partnership, its partner card) and the monthly figures it publishes; partners verify
with the public half they hold from the card. The private half (a 32-byte seed) is
kept sealed to the organization's key (``haven.network.models.SigningKey``), so only
members sign; the server alone cannot.

A partner card is checked by a short fingerprint read over another channel, as
Signal's safety numbers: :func:`fingerprint` turns keys into 30 decimal digits.
"""

from __future__ import annotations

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.signing

from .errors import VaultError
from .purposes import CARD_FINGERPRINT

SIGNATURE_BYTES = 64


class BadSignature(VaultError):
    """The signature does not verify with this key (forged, altered or another signer)."""


def generate_signing_key() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key: (public verify key, private seed), 32 bytes each."""
    key = nacl.signing.SigningKey.generate()
    return bytes(key.verify_key), bytes(key)


def signing_public_of(seed: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def sign(seed: bytes, message: bytes) -> bytes:
    """The 64-byte detached signature of ``message``."""
    return bytes(nacl.signing.SigningKey(seed).sign(message).signature)


def verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`BadSignature` unless ``signature`` is ``public``'s over ``message``."""
    if len(public) != 32 or len(signature) != SIGNATURE_BYTES:
        raise BadSignature("malformed key or signature")
    try:
        nacl.signing.VerifyKey(public).verify(message, signature)
    except nacl.exceptions.BadSignatureError as exc:
        raise BadSignature("the signature does not verify") from exc


def fingerprint(*keys: bytes) -> str:
    """Six groups of five digits from the keys (in the order given): what two
    administrators read to each other to check a partner card."""
    digest = nacl.hash.blake2b(CARD_FINGERPRINT.info + b"\x00" + b"".join(keys),
                               digest_size=32, encoder=nacl.encoding.RawEncoder)
    groups = []
    for i in range(6):
        chunk = int.from_bytes(digest[i * 5:(i + 1) * 5], "big") % 100000
        groups.append(f"{chunk:05d}")
    return " ".join(groups)
