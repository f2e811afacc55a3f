"""Key pairs, sealing and record encryption.

Every ciphertext the vault produces starts with a four-byte header:
``b"hv"``, a format version and a kind. The header is bound to the payload.
A secret box (kinds 2 and 3) is encrypted under BLAKE2b keyed with the given
key over the header (``_bind``), not under the key itself, so a header changed
to another kind or version yields a different key and the box does not open;
its 24-byte nonce is random and travels in clear after the header. A sealed
box (kind 1) cannot be re-labelled as a secret box because the two kinds are
opened with different keys.

Format version 2 (written since the padding change, M-3) pads every plaintext
before encryption with libsodium's ISO/IEC 7816-4 padding to a size class of
:func:`padded_length`, so a ciphertext's length tells a seized disk only the
class, not the exact length (an answer, a language). Inside a version-2 sealed
box the plaintext starts with the header again, so a sealed box relabelled to
another version or kind does not open either. Version 1 (unpadded) is still
read; nothing writes it any more.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.secret
import nacl.utils
from nacl.bindings import sodium_pad, sodium_unpad

from .errors import TamperedCiphertext, UnknownKeyVersion
from .purposes import LONG_SECRET

MAGIC = b"hv"
VERSION = 2  # written: padded plaintext (see padded_length)
UNPADDED = 1  # read only: what was written before padding
VERSIONS = (UNPADDED, VERSION)
KIND_SEALED = 1  # anonymous sealed box to a public key (intake, key grants)
KIND_SECRET = 2  # XSalsa20-Poly1305 secret box under an organization's record key
KIND_WRAPPED = 3  # secret box under a key derived from a password or token
HEADER_LEN = 4
MAX_KEY_BYTES = 64  # the longest key BLAKE2b takes

# Size classes of padded plaintexts (bytes). Short fields (summaries, names, chat
# ids, wrapped keys) all take one class; messages grow by 1 KiB; larger values go
# to the next power of two up to 64 KiB, then grow by 64 KiB (attachments).
SHORT = 256
BLOCK = 1024
BLOCKS_UP_TO = 16 * 1024
LARGE_BLOCK = 64 * 1024


def padded_length(length: int) -> int:
    """The size class a plaintext of ``length`` bytes is padded to (always larger:
    the padding takes at least one byte)."""
    if length < SHORT:
        return SHORT
    if length < BLOCKS_UP_TO:
        return _next_multiple(length, BLOCK)
    if length < LARGE_BLOCK:
        return 1 << length.bit_length()
    return _next_multiple(length, LARGE_BLOCK)


def _next_multiple(length: int, block: int) -> int:
    return (length // block + 1) * block


def pad(plaintext: bytes) -> bytes:
    return sodium_pad(plaintext, padded_length(len(plaintext)))


def unpad(padded: bytes) -> bytes:
    """Strip :func:`pad`; a plaintext whose length is not a size class is refused."""
    try:
        plain = sodium_unpad(padded, len(padded)) if padded else b""
    except nacl.exceptions.CryptoError as exc:
        raise TamperedCiphertext("bad padding") from exc
    if not padded or padded_length(len(plain)) != len(padded):
        raise TamperedCiphertext("bad padding")
    return plain


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


def header(kind: int, version: int = VERSION) -> bytes:
    return MAGIC + bytes([version, kind])


def split_header(data: bytes, kind: int) -> tuple[bytes, bytes]:
    """Check the header of ``data``; return it and the payload after it."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TamperedCiphertext("ciphertext must be bytes")
    data = bytes(data)
    if kind_of(data) != kind:
        raise TamperedCiphertext(f"expected ciphertext kind {kind}, found {data[3]}")
    return data[:HEADER_LEN], data[HEADER_LEN:]


def kind_of(data: bytes) -> int:
    """Return the kind byte of a ciphertext after checking magic and version."""
    data = bytes(data)
    if len(data) < HEADER_LEN or data[:2] != MAGIC:
        raise TamperedCiphertext("not a Haven ciphertext")
    if data[2] not in VERSIONS:
        raise UnknownKeyVersion(f"ciphertext format version {data[2]} is not supported")
    return data[3]


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` so only the holder of the matching private key can read it.

    Anyone with the public key can seal (intake runs with no member present);
    the sender is anonymous and cannot open the result afterwards.
    """
    box = nacl.public.SealedBox(nacl.public.PublicKey(public_key))
    head = header(KIND_SEALED)
    return head + box.encrypt(pad(head + plaintext))


def open_sealed(private_key: bytes, ciphertext: bytes) -> bytes:
    """Open a sealed box; raise :class:`TamperedCiphertext` on any alteration."""
    return open_sealed_with(nacl.public.SealedBox(nacl.public.PrivateKey(private_key)), ciphertext)


def open_sealed_with(box: nacl.public.SealedBox, ciphertext: bytes) -> bytes:
    """:func:`open_sealed` with a box already built (opening many records)."""
    head, payload = split_header(ciphertext, KIND_SEALED)
    try:
        plain = box.decrypt(payload)
    except nacl.exceptions.CryptoError as exc:
        raise TamperedCiphertext("sealed box does not open with this key") from exc
    inner = header(KIND_SEALED)  # what a version-2 plaintext starts with
    if head[2] == UNPADDED:
        if plain[:HEADER_LEN] == inner:  # a version-2 box relabelled as version 1
            raise TamperedCiphertext("sealed box was relabelled")
        return plain
    plain = unpad(plain)
    if plain[:HEADER_LEN] != inner:
        raise TamperedCiphertext("sealed box was relabelled")
    return plain[HEADER_LEN:]


def secret_encrypt(key: bytes, plaintext: bytes, kind: int = KIND_SECRET) -> bytes:
    """Encrypt with a 32-byte symmetric key; the header is authenticated too."""
    head = header(kind)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    # Bind the header to the ciphertext: the box key is derived from key+header.
    box = nacl.secret.SecretBox(_bind(key, head))
    return head + bytes(box.encrypt(pad(plaintext), nonce))


def secret_decrypt(key: bytes, ciphertext: bytes, kind: int = KIND_SECRET) -> bytes:
    """Decrypt what :func:`secret_encrypt` made (either version); raise on any alteration."""
    head, payload = split_header(ciphertext, kind)
    box = nacl.secret.SecretBox(_bind(key, head))
    try:
        plain = box.decrypt(payload)
    except nacl.exceptions.CryptoError as exc:
        raise TamperedCiphertext("secret box does not open with this key") from exc
    return plain if head[2] == UNPADDED else unpad(plain)


def _bind(key: bytes, head: bytes) -> bytes:
    return nacl.hash.blake2b(head, key=key, digest_size=32, encoder=nacl.encoding.RawEncoder)


def derive_subkey(secret: bytes, purpose: bytes) -> bytes:
    """Derive an independent 32-byte key for ``purpose`` from a secret.

    BLAKE2b-256 keyed with ``secret`` over ``purpose`` (a ``Purpose.info`` of
    :mod:`haven.vault.purposes`). A secret longer than a BLAKE2b key may be
    (64 bytes) is first hashed to 32 bytes (``purposes.LONG_SECRET``); shorter
    ones are used as they are, so the keys they made do not change.
    """
    if len(secret) > MAX_KEY_BYTES:
        secret = nacl.hash.blake2b(LONG_SECRET.info + b"\x00" + bytes(secret), digest_size=32,
                                   encoder=nacl.encoding.RawEncoder)
    return nacl.hash.blake2b(
        purpose, key=secret, digest_size=32, encoder=nacl.encoding.RawEncoder
    )

