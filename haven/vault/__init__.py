"""Haven's vault: keys, sealing, wrapping and keyed lookups. No Django models here.

Every key it derives and every keyed-hash label is named once, in
:mod:`haven.vault.purposes`. See docs/threat-model.md for the key hierarchy
this implements; :mod:`haven.core.keys` hands it the server secrets.
"""

from __future__ import annotations

from . import purposes
from .box import KeyPair, generate_keypair, open_sealed, padded_length, public_of, seal
from .derive import codename_key
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
    slow_keyed_hash,
    unwrap_with_password,
    unwrap_with_token,
    wrap_with_password,
    wrap_with_token,
)
from .keyring import CaseVault, KeyRing, NoKey
from .org import OrgVault, keyed_hash, seal_text
from .server import Envelope, ServerBox
from .session import pack_member_keys, pack_ring, unpack_member_keys, unpack_ring

__all__ = [
    "BadRecoveryKey",
    "CaseVault",
    "Envelope",
    "KdfParams",
    "KeyPair",
    "KeyRing",
    "NoKey",
    "OrgVault",
    "ServerBox",
    "TamperedCiphertext",
    "UnknownKeyVersion",
    "VaultError",
    "WrappedKey",
    "WrongPassword",
    "codename_key",
    "generate_keypair",
    "keyed_hash",
    "open_sealed",
    "pack_member_keys",
    "pack_ring",
    "padded_length",
    "public_of",
    "purposes",
    "seal",
    "seal_text",
    "slow_keyed_hash",
    "unpack_member_keys",
    "unpack_ring",
    "unwrap_with_password",
    "unwrap_with_token",
    "wrap_with_password",
    "wrap_with_token",
]
