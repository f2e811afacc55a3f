"""Password-based wrapping of secrets with Argon2id.

The parameters travel with each wrapped key (``WrappedKey``), so they can be
raised later: old keys still open with the parameters they were made with,
and are re-wrapped with the current ones at the member's next login.

Two versions: ``argon2id$1$`` is Argon2id of the password as typed. ``argon2id$2$``
normalises the password to NFC and mixes a server secret (the password pepper,
kept off the backups) into the key: BLAKE2b keyed with the pepper over the
Argon2id output. A copy of the database alone then allows no offline guessing.
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass

import nacl.encoding
import nacl.hash
import nacl.pwhash
import nacl.utils

from .box import KIND_WRAPPED, derive_subkey, secret_decrypt, secret_encrypt
from .errors import TamperedCiphertext, UnknownKeyVersion, WrongPassword
from .org import keyed_hash
from .purposes import TOKEN_WRAP

SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES
SCHEME = "argon2id"
VERSIONS = (1, 2)
PEPPERED = 2


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: ``opslimit`` passes over ``memlimit`` bytes."""

    opslimit: int = 3
    memlimit: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.opslimit < nacl.pwhash.argon2id.OPSLIMIT_MIN:
            raise ValueError("opslimit below libsodium's minimum")
        if self.memlimit < nacl.pwhash.argon2id.MEMLIMIT_MIN:
            raise ValueError("memlimit below libsodium's minimum")


@dataclass(frozen=True)
class WrappedKey:
    """A secret encrypted under a key derived from a password, with its parameters."""

    params: KdfParams
    salt: bytes
    ciphertext: bytes
    version: int = 1

    def to_text(self) -> str:
        """Serialise as ``argon2id$<version>$ops$mem$salt$ciphertext`` (base64 url-safe)."""
        return "$".join(
            [
                SCHEME,
                str(self.version),
                str(self.params.opslimit),
                str(self.params.memlimit),
                _b64(self.salt),
                _b64(self.ciphertext),
            ]
        )

    @classmethod
    def from_text(cls, text: str) -> WrappedKey:
        parts = text.split("$")
        if len(parts) != 6 or parts[0] != SCHEME:
            raise TamperedCiphertext("not a wrapped key")
        if parts[1] not in {str(v) for v in VERSIONS}:
            raise UnknownKeyVersion(f"wrapped key version {parts[1]} is not supported")
        try:
            params = KdfParams(int(parts[2]), int(parts[3]))
            return cls(params=params, salt=_unb64(parts[4]), ciphertext=_unb64(parts[5]),
                       version=int(parts[1]))
        except ValueError as exc:
            raise TamperedCiphertext("wrapped key is malformed") from exc


def normalise_password(password: str) -> str:
    """NFC, so a password typed on another system (composed or decomposed letters) matches."""
    return unicodedata.normalize("NFC", password)


def derive_key(password: str, salt: bytes, params: KdfParams, pepper: bytes | None = None) -> bytes:
    """Run Argon2id and return a 32-byte key; with ``pepper``, the version-2 key."""
    if len(salt) != SALT_BYTES:
        raise TamperedCiphertext("salt has the wrong length")
    if pepper is not None:
        password = normalise_password(password)
    stretched = nacl.pwhash.argon2id.kdf(
        32,
        password.encode("utf-8"),
        salt,
        opslimit=params.opslimit,
        memlimit=params.memlimit,
    )
    if pepper is None:
        return stretched
    return nacl.hash.blake2b(stretched, key=pepper, digest_size=32, encoder=nacl.encoding.RawEncoder)


def wrap_with_password(
    secret: bytes, password: str, params: KdfParams, pepper: bytes | None = None
) -> WrappedKey:
    """Encrypt ``secret`` under a fresh salt and a key derived from ``password``.

    With ``pepper`` (32 bytes, a server secret) the result is version 2; without,
    version 1 (kept for reading old keys and for tests of the upgrade).
    """
    salt = nacl.utils.random(SALT_BYTES)
    key = derive_key(password, salt, params, pepper)
    return WrappedKey(params=params, salt=salt, ciphertext=secret_encrypt(key, secret, KIND_WRAPPED),
                      version=PEPPERED if pepper is not None else 1)


def unwrap_with_password(wrapped: WrappedKey | str, password: str, pepper: bytes | None = None) -> bytes:
    """Return the secret, or raise :class:`WrongPassword` (a version-2 key needs ``pepper``)."""
    if isinstance(wrapped, str):
        wrapped = WrappedKey.from_text(wrapped)
    if wrapped.version == PEPPERED and pepper is None:
        raise WrongPassword("this key needs the server's password pepper")
    key = derive_key(password, wrapped.salt, wrapped.params, pepper if wrapped.version == PEPPERED else None)
    try:
        return secret_decrypt(key, wrapped.ciphertext, KIND_WRAPPED)
    except TamperedCiphertext as exc:
        raise WrongPassword("the password does not open this key") from exc


def wrap_with_token(secret: bytes, token: bytes) -> bytes:
    """Encrypt ``secret`` under a high-entropy token (an invite link's secret).

    A token of 32 random bytes needs no slow hash: guessing it is hopeless.
    """
    return secret_encrypt(derive_subkey(token, TOKEN_WRAP.info), secret, KIND_WRAPPED)


def unwrap_with_token(ciphertext: bytes, token: bytes) -> bytes:
    try:
        return secret_decrypt(derive_subkey(token, TOKEN_WRAP.info), ciphertext, KIND_WRAPPED)
    except TamperedCiphertext as exc:
        raise WrongPassword("the token does not open this key") from exc


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# What one slow lookup costs: Argon2id, 3 passes over 32 MiB, about 40 ms on one core
# (bench/telegram.py prints it as chat_key_ms). Changing it changes every slow lookup
# made with it: a new value goes with a new Lookup label.
SLOW_LOOKUP = KdfParams(opslimit=3, memlimit=32 * 1024 * 1024)


def slow_keyed_hash(key: bytes, purpose: str, value: str | bytes,
                    params: KdfParams = SLOW_LOOKUP) -> str:
    """A keyed lookup hash that also costs ``params`` of Argon2id for each value, as hex.

    For lookups the server must make with no member present over values from a
    small space (a Telegram chat id, about 2^33 of them): holding ``key`` (the
    server pepper) still leaves a search of the whole space at one Argon2id per
    guess. The HMAC binds key and purpose; the salt comes from them too, so equal
    values give equal hashes (a lookup) and there is nothing to precompute
    without the key. It does nothing against testing one suspected value.
    """
    mac = bytes.fromhex(keyed_hash(key, purpose, value))
    salt = derive_subkey(key, purpose.encode("utf-8"))[:SALT_BYTES]
    out = nacl.pwhash.argon2id.kdf(32, mac, salt, opslimit=params.opslimit,
                                   memlimit=params.memlimit)
    return bytes(out).hex()
