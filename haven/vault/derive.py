"""Keys derived from what a requester or an invitee holds (see vault.purposes)."""

from __future__ import annotations

import hashlib

from .box import derive_subkey
from .purposes import CODENAME_KEY, INTAKE_CODENAME


def codename_key(normalised: str) -> bytes:
    """32 bytes that wrap a requester's private key, from the normalised codename.

    A plain hash is enough at 80 bits; it also fits the codename, which may be
    longer than a key may be, into one key's length.
    """
    return hashlib.sha256(CODENAME_KEY.info + b"\x00" + normalised.encode("utf-8")).digest()


def intake_codename_key(handle: str) -> bytes:
    """The key of a codename kept for a browser, from that browser's handle."""
    return derive_subkey(handle.encode("ascii"), INTAKE_CODENAME.info)
