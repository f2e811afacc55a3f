"""Typed errors of the vault. Callers catch these, never libsodium's own."""

from __future__ import annotations


class VaultError(Exception):
    """Base class: something about keys or ciphertext is not right."""


class WrongPassword(VaultError):
    """The password (or token) does not open this wrapped key."""


class TamperedCiphertext(VaultError):
    """The ciphertext was altered, truncated, or was sealed to another key."""


class UnknownKeyVersion(VaultError):
    """The data names a format or key version this code does not know."""


class BadRecoveryKey(VaultError):
    """A recovery key or share is malformed or the shares do not fit together."""
