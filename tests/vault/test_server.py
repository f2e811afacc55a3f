"""The server box refuses what is not its own: another purpose, another row, another format."""

from __future__ import annotations

import pytest

from haven import vault
from haven.vault import purposes
from haven.vault.server import Envelope, ServerBox

SECRET = b"s" * 32


def test_a_value_sealed_for_one_purpose_does_not_open_under_another() -> None:
    chat = ServerBox(SECRET, purposes.TELEGRAM_CHAT)
    state = ServerBox(SECRET, purposes.TELEGRAM_STATE)
    with pytest.raises(vault.TamperedCiphertext):
        state.unseal("case:1", chat.seal("case:1", 42))
    with pytest.raises(vault.TamperedCiphertext):
        ServerBox(b"t" * 32, purposes.TELEGRAM_CHAT).unseal("case:1", chat.seal("case:1", 42))


def test_a_box_refuses_a_value_in_another_envelope_or_not_bound() -> None:
    keyed = ServerBox(SECRET, purposes.INTAKE_STATE, Envelope.KEYED)
    pair = ServerBox(SECRET, purposes.INTAKE_STATE)
    with pytest.raises(vault.TamperedCiphertext):
        keyed.unseal("k", pair.seal("k", {"a": 1}))
    with pytest.raises(vault.TamperedCiphertext):
        pair.unseal("k", keyed.seal("k", {"a": 1}))
    with pytest.raises(vault.TamperedCiphertext):
        pair.unseal("k", pair.seal_json({"a": 1}))
    with pytest.raises(vault.TamperedCiphertext):
        pair.unseal_json(pair.seal_bytes(b"\xff not json"))
