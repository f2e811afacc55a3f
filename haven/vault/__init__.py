"""Haven's vault: keys, sealing, wrapping and keyed lookups. No Django models here.

See docs/threat-model.md for the key hierarchy this implements.
"""

from __future__ import annotations

from .box import KeyPair, generate_keypair, open_sealed, public_of, seal
from .errors import (
    BadRecoveryKey,
    TamperedCiphertext,
    UnknownKeyVersion,
    VaultError,
    WrongPassword,
)
from .kdf import (
    KdfParams,
    WrappedKey,
    unwrap_with_password,
    unwrap_with_token,
    wrap_with_password,
    wrap_with_token,
)
from .org import OrgVault, keyed_hash, seal_text

__all__ = [
    "BadRecoveryKey",
    "KdfParams",
    "KeyPair",
    "OrgVault",
    "TamperedCiphertext",
    "UnknownKeyVersion",
    "VaultError",
    "WrappedKey",
    "WrongPassword",
    "generate_keypair",
    "keyed_hash",
    "open_sealed",
    "public_of",
    "seal",
    "seal_text",
    "unwrap_with_password",
    "unwrap_with_token",
    "wrap_with_password",
    "wrap_with_token",
]
