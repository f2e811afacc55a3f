"""An organization's keys once a member has unlocked them."""

from __future__ import annotations

import hashlib
import hmac

import nacl.public

from .box import (
    KIND_SEALED,
    KIND_SECRET,
    derive_subkey,
    kind_of,
    open_sealed_with,
    seal,
    secret_decrypt,
    secret_encrypt,
)
from .errors import TamperedCiphertext
from .purposes import FINGERPRINT, ORG_KEYED, RECORDS, Lookup


class OrgVault:
    """Reads and writes an organization's records.

    Records written without a member present (intake) are sealed to the
    organization's public key. Records written by a member use a symmetric
    record key derived from the organization's private key, which is faster
    to open in bulk (queues, search). Both open with the private key alone.
    """

    def __init__(self, private_key: bytes) -> None:
        self._private = bytes(private_key)
        key = nacl.public.PrivateKey(self._private)
        self.public_key = bytes(key.public_key)
        # Built once: opening many sealed records must not redo the key set-up each time.
        self._sealed_box = nacl.public.SealedBox(key)
        self._record_key = derive_subkey(self._private, RECORDS.info)
        self._keyed_keys = {label: derive_subkey(self._private, purpose.info)
                            for label, purpose in ORG_KEYED.items()}
        self._fingerprint_key = derive_subkey(self._private, FINGERPRINT.info)

    @property
    def private_key(self) -> bytes:
        return self._private

    def encrypt(self, plaintext: bytes) -> bytes:
        return secret_encrypt(self._record_key, plaintext, KIND_SECRET)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Open a record of either kind; raise a vault error otherwise."""
        kind = kind_of(ciphertext)
        if kind == KIND_SECRET:
            return secret_decrypt(self._record_key, ciphertext, KIND_SECRET)
        if kind == KIND_SEALED:
            return open_sealed_with(self._sealed_box, ciphertext)
        raise TamperedCiphertext(f"records are never of kind {kind}")

    def is_sealed(self, ciphertext: bytes) -> bool:
        """True for records sealed at intake, which open more slowly than secret boxes."""
        return kind_of(ciphertext) == KIND_SEALED

    def encrypt_text(self, text: str) -> bytes:
        return self.encrypt(text.encode("utf-8"))

    def decrypt_text(self, ciphertext: bytes) -> str:
        return self.decrypt(ciphertext).decode("utf-8")

    def keyed(self, purpose: Lookup, value: str) -> str:
        """A keyed hash for ``purpose`` under the organization's key (only members can
        compute it). Each label has its own subkey, :data:`~haven.vault.purposes.ORG_KEYED`;
        a label not listed there is refused."""
        key = self._keyed_keys.get(purpose)
        if key is None:
            raise ValueError(f"{purpose!r} is not a keyed hash of an organization")
        return keyed_hash(key, purpose, value)

    def fingerprint(self, kind: str, value: str) -> str:
        """A requester identifier's keyed hash for duplicate detection, under the
        :data:`~haven.vault.purposes.FINGERPRINT` key; ``kind`` (phone, telegram) is the label.
        """
        return keyed_hash(self._fingerprint_key, kind, value)


def seal_text(public_key: bytes, text: str) -> bytes:
    """Seal a string to an organization (intake, with no member present)."""
    return seal(public_key, text.encode("utf-8"))


def keyed_hash(key: bytes, purpose: str, value: str | bytes) -> str:
    """HMAC-SHA256 of ``value`` for ``purpose`` under ``key``, as hex.

    Used for lookups that must not reveal the value: with the server pepper as
    the key, a seized database alone cannot be searched by guessing values.
    The purpose keeps lookups of different kinds from matching each other.
    """
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    mac = hmac.new(key, purpose.encode("utf-8") + b"\x00" + data, hashlib.sha256)
    return mac.hexdigest()
