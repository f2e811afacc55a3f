"""Secret boxes under a server secret, for what the server reads with no member present.

A :class:`ServerBox` encrypts under a key derived from a server secret
(``HAVEN_TOKEN_KEY``) for one :class:`~haven.vault.purposes.Purpose`. A copy of
the database alone opens none of them; the database together with the server's
secrets opens all of them (see docs/threat-model.md).

:meth:`ServerBox.seal` binds each value to the identity of the row it belongs
to, checked on opening, so a value cannot be moved to another row (one case's
chat to another). The JSON envelope that carries the binding is fixed per use
by :class:`Envelope`; the formats are those existing rows were written in.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from .box import derive_subkey, secret_decrypt, secret_encrypt
from .errors import TamperedCiphertext
from .purposes import Purpose


class Envelope(Enum):
    """How a bound value is laid out before encryption (compact JSON, UTF-8)."""

    PAIR = "pair"
    """``[bound_to, value]``: the format for new uses (Telegram values)."""
    KEYED = "keyed"
    """``{"k": bound_to, "s": value}``: intake conversations."""


class ServerBox:
    """Seal and open values for one purpose under a server secret."""

    def __init__(self, secret: bytes, purpose: Purpose, envelope: Envelope = Envelope.PAIR) -> None:
        self.purpose = purpose
        self.envelope = envelope
        self._key = derive_subkey(secret, purpose.info)

    def seal(self, bound_to: str, value: Any) -> bytes:
        """Encrypt ``value`` (JSON), bound to the row identity ``bound_to``."""
        if self.envelope is Envelope.KEYED:
            wrapped: Any = {"k": bound_to, "s": value}
        else:
            wrapped = [bound_to, value]
        data = json.dumps(wrapped, ensure_ascii=False, separators=(",", ":"))
        return secret_encrypt(self._key, data.encode("utf-8"))

    def unseal(self, bound_to: str, blob: bytes) -> Any:
        """Open what :meth:`seal` made; raise TamperedCiphertext if altered or moved."""
        bound, value = self._parse(self.unseal_bytes(blob))
        if bound != bound_to:
            raise TamperedCiphertext("the value belongs to another row")
        return value

    def _parse(self, raw: bytes) -> tuple[Any, Any]:
        try:
            data = json.loads(raw)
            if self.envelope is Envelope.KEYED:
                return data["k"], data.get("s")
            if not isinstance(data, list):  # a two-key object or string would unpack too
                raise TypeError("not a pair")
            bound, value = data
            return bound, value
        except (ValueError, TypeError, KeyError) as exc:
            raise TamperedCiphertext("not a sealed server value") from exc

    def seal_json(self, value: Any) -> bytes:
        """Encrypt ``value`` as JSON bound to no row (outbox payloads, deleted once sent)."""
        return secret_encrypt(self._key, json.dumps(value, ensure_ascii=False).encode("utf-8"))

    def unseal_json(self, blob: bytes) -> Any:
        try:
            return json.loads(self.unseal_bytes(blob))
        except ValueError as exc:
            raise TamperedCiphertext("not a sealed server value") from exc

    def seal_bytes(self, data: bytes) -> bytes:
        """Encrypt raw bytes (an update body) without parsing them."""
        return secret_encrypt(self._key, bytes(data))

    def unseal_bytes(self, blob: bytes) -> bytes:
        return secret_decrypt(self._key, bytes(blob))
