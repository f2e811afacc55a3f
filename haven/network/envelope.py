"""The signed envelope every message between organizations travels in.

Layout (all lengths big-endian)::

    b"HVNET" | version (1 byte) | kind (1 byte) | header length (4) | header (JSON)
            | payload length (8) | payload | Ed25519 signature (64)

The signature covers every byte before it. The header names the envelope (``id``,
a UUID), the sender's signing key and the recipient's encryption key (base64), the
time it was made and, when the payload is encrypted, ``key``: a fresh 32-byte
secret-box key sealed to the recipient. The payload is then a Haven secret box
under that key (padded like every record, ``haven.vault.box``). A referral's
envelope is made while the proposing caseworker is present (the signing key needs
the organization key) and is stored as it is: the referring server keeps only
ciphertext for the partner.

:func:`read` checks the structure and size only; :func:`verify` the signature
against a key the caller trusts; :func:`open_payload` decrypts with the recipient's
private key. Every refusal is a :class:`BadEnvelope` with a reason a person can read.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

import nacl.encoding
import nacl.hash
import nacl.utils
from django.utils.translation import gettext as _

from haven.vault import VaultError, open_sealed, seal
from haven.vault.box import KIND_SECRET, secret_decrypt, secret_encrypt
from haven.vault.signing import SIGNATURE_BYTES, BadSignature, sign
from haven.vault.signing import verify as verify_signature

MAGIC = b"HVNET"
VERSION = 1
PREFIX = len(MAGIC) + 2 + 4
MAX_HEADER = 64 * 1024


class Kind(IntEnum):
    REFERRAL = 1  # a case handed to a partner (encrypted payload)
    RECEIPT = 2  # the partner's answer: received, accepted, declined (small, encrypted)
    ENDED = 3  # the sender ended the partnership (no payload)


class BadEnvelope(Exception):
    """Refused: ``reason`` says why, in words for the log and the page (never content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    kind: Kind
    header: dict[str, Any]
    payload: bytes
    signed: bytes  # every byte the signature covers
    signature: bytes

    @property
    def id(self) -> str:
        return str(self.header.get("id", ""))

    @property
    def sender(self) -> bytes:
        return _b64(self.header.get("sender"), "sender")

    @property
    def recipient(self) -> bytes:
        return _b64(self.header.get("recipient"), "recipient")

    @property
    def created(self) -> datetime:
        try:
            return datetime.fromisoformat(str(self.header["created"]))
        except (KeyError, ValueError) as exc:
            raise BadEnvelope(_("The envelope's date is missing or malformed.")) from exc


def digest(blob: bytes) -> str:
    """BLAKE2b-256 of a whole envelope, hex: a resent envelope must match its first copy."""
    return nacl.hash.blake2b(bytes(blob), digest_size=32, encoder=nacl.encoding.HexEncoder).decode()


def make(kind: Kind, *, envelope_id: str, sender_seed: bytes, sender_public: bytes,
         recipient_public: bytes, created: datetime, content: bytes | None,
         extra: dict[str, Any] | None = None) -> bytes:
    """Build and sign an envelope; ``content`` (None: no payload) is encrypted to the
    recipient."""
    header: dict[str, Any] = {
        "id": envelope_id,
        "sender": base64.b64encode(sender_public).decode(),
        "recipient": base64.b64encode(recipient_public).decode(),
        "created": created.isoformat(),
        **(extra or {}),
    }
    payload = b""
    if content is not None:
        key = nacl.utils.random(32)
        header["key"] = base64.b64encode(seal(recipient_public, key)).decode()
        payload = secret_encrypt(key, content, KIND_SECRET)
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    signed = (MAGIC + bytes([VERSION, int(kind)]) + len(head).to_bytes(4, "big") + head
              + len(payload).to_bytes(8, "big") + payload)
    return signed + sign(sender_seed, signed)


def read(blob: bytes, *, max_size: int) -> Envelope:
    """Parse an envelope without trusting it: structure, lengths and size only."""
    blob = bytes(blob)
    if len(blob) > max_size:
        raise BadEnvelope(_("The envelope is larger than this server accepts."))
    if len(blob) < PREFIX + 8 + SIGNATURE_BYTES or blob[:len(MAGIC)] != MAGIC:
        raise BadEnvelope(_("Not a Haven envelope, or cut short."))
    version, kind = blob[len(MAGIC)], blob[len(MAGIC) + 1]
    if version != VERSION:
        raise BadEnvelope(_("The envelope was made by a Haven version this server does not read."))
    try:
        kind_ = Kind(kind)
    except ValueError as exc:
        raise BadEnvelope(_("Unknown kind of envelope.")) from exc
    head_len = int.from_bytes(blob[PREFIX - 4:PREFIX], "big")
    if head_len > MAX_HEADER:
        raise BadEnvelope(_("The envelope's header is too long."))
    at = PREFIX + head_len
    if len(blob) < at + 8 + SIGNATURE_BYTES:
        raise BadEnvelope(_("The envelope is cut short."))
    payload_len = int.from_bytes(blob[at:at + 8], "big")
    end = at + 8 + payload_len
    if len(blob) != end + SIGNATURE_BYTES:
        raise BadEnvelope(_("The envelope is cut short or has bytes after its end."))
    try:
        header = json.loads(blob[PREFIX:at].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadEnvelope(_("The envelope's header is not readable.")) from exc
    if not isinstance(header, dict) or not header.get("id"):
        raise BadEnvelope(_("The envelope's header has no id."))
    return Envelope(kind_, header, blob[at + 8:end], blob[:end], blob[end:])


def verify(envelope: Envelope, signer_public: bytes) -> None:
    """Raise :class:`BadEnvelope` unless ``signer_public`` signed it and the header names
    that key as its sender."""
    if envelope.sender != bytes(signer_public):
        raise BadEnvelope(_("The envelope names another sender."))
    try:
        verify_signature(bytes(signer_public), envelope.signed, envelope.signature)
    except BadSignature as exc:
        raise BadEnvelope(_("The signature does not verify: forged or altered.")) from exc


def open_payload(envelope: Envelope, recipient_private: bytes) -> bytes:
    """Decrypt the payload with the recipient's private key (a member's organization key)."""
    sealed_key = envelope.header.get("key")
    if not sealed_key:
        raise BadEnvelope(_("The envelope carries no encrypted payload."))
    try:
        key = open_sealed(recipient_private, _b64(sealed_key, "key"))
        return secret_decrypt(key, envelope.payload, KIND_SECRET)
    except VaultError as exc:
        raise BadEnvelope(_("The envelope does not open with this organization's key.")) from exc


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (ValueError, TypeError) as exc:
        raise BadEnvelope(_("The envelope's %(part)s is malformed.") % {"part": what}) from exc
