"""Key pairs, sealing and record encryption.

Every ciphertext the vault produces starts with a four-byte header:
``b"hv"``, a format version and a kind. The header is bound to the payload.
A secret box (kinds 2 and 3) is encrypted under BLAKE2b keyed with the given
key over the header (``_bind``), not under the key itself, so a header changed
to another kind or version yields a different key and the box does not open;
its 24-byte nonce is random and travels in clear after the header. A sealed
box (kind 1) cannot be re-labelled as a secret box because the two kinds are
opened with different keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.secret
import nacl.utils

from .errors import TamperedCiphertext, UnknownKeyVersion

MAGIC = b"hv"
VERSION = 1
KIND_SEALED = 1  # anonymous sealed box to a public key (intake, key grants)
KIND_SECRET = 2  # XSalsa20-Poly1305 secret box under an organization's record key
KIND_WRAPPED = 3  # secret box under a key derived from a password or token
HEADER_LEN = 4


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair as raw 32-byte values."""

    public: bytes
    private: bytes


def generate_keypair() -> KeyPair:
    """Return a fresh X25519 key pair."""
    key = nacl.public.PrivateKey.generate()
    return KeyPair(public=bytes(key.public_key), private=bytes(key))


def public_of(private: bytes) -> bytes:
    """Return the public key belonging to a private key."""
    return bytes(nacl.public.PrivateKey(private).public_key)


def header(kind: int) -> bytes:
    return MAGIC + bytes([VERSION, kind])


def split_header(data: bytes, kind: int) -> bytes:
    """Check the header of ``data`` and return the payload after it."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TamperedCiphertext("ciphertext must be bytes")
    data = bytes(data)
    if len(data) < HEADER_LEN or data[:2] != MAGIC:
        raise TamperedCiphertext("not a Haven ciphertext")
    if data[2] != VERSION:
        raise UnknownKeyVersion(f"ciphertext format version {data[2]} is not supported")
    if data[3] != kind:
        raise TamperedCiphertext(f"expected ciphertext kind {kind}, found {data[3]}")
    return data[HEADER_LEN:]


def kind_of(data: bytes) -> int:
    """Return the kind byte of a ciphertext after checking magic and version."""
    data = bytes(data)
    if len(data) < HEADER_LEN or data[:2] != MAGIC:
        raise TamperedCiphertext("not a Haven ciphertext")
    if data[2] != VERSION:
        raise UnknownKeyVersion(f"ciphertext format version {data[2]} is not supported")
    return data[3]


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` so only the holder of the matching private key can read it.

    Anyone with the public key can seal (intake runs with no member present);
    the sender is anonymous and cannot open the result afterwards.
    """
    box = nacl.public.SealedBox(nacl.public.PublicKey(public_key))
    return header(KIND_SEALED) + box.encrypt(plaintext)


def open_sealed(private_key: bytes, ciphertext: bytes) -> bytes:
    """Open a sealed box; raise :class:`TamperedCiphertext` on any alteration."""
    payload = split_header(ciphertext, KIND_SEALED)
    box = nacl.public.SealedBox(nacl.public.PrivateKey(private_key))
    try:
        return box.decrypt(payload)
    except nacl.exceptions.CryptoError as exc:
        raise TamperedCiphertext("sealed box does not open with this key") from exc


def secret_encrypt(key: bytes, plaintext: bytes, kind: int = KIND_SECRET) -> bytes:
    """Encrypt with a 32-byte symmetric key; the header is authenticated too."""
    head = header(kind)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    # Bind the header to the ciphertext: the box key is derived from key+header.
    box = nacl.secret.SecretBox(_bind(key, head))
    return head + bytes(box.encrypt(plaintext, nonce))


def secret_decrypt(key: bytes, ciphertext: bytes, kind: int = KIND_SECRET) -> bytes:
    """Decrypt what :func:`secret_encrypt` made; raise on any alteration."""
    payload = split_header(ciphertext, kind)
    box = nacl.secret.SecretBox(_bind(key, header(kind)))
    try:
        return box.decrypt(payload)
    except nacl.exceptions.CryptoError as exc:
        raise TamperedCiphertext("secret box does not open with this key") from exc


def _bind(key: bytes, head: bytes) -> bytes:
    return nacl.hash.blake2b(head, key=key, digest_size=32, encoder=nacl.encoding.RawEncoder)


def derive_subkey(secret: bytes, purpose: bytes) -> bytes:
    """Derive an independent 32-byte key for ``purpose`` from a secret.

    BLAKE2b-256 keyed with ``secret`` over ``purpose`` (a ``Purpose.info`` of
    :mod:`haven.vault.purposes`).
    """
    return nacl.hash.blake2b(
        purpose, key=secret, digest_size=32, encoder=nacl.encoding.RawEncoder
    )

