"""A HAVEN_TOKEN_KEY of any length works (review L-8): BLAKE2b keys stop at 64 bytes."""

from __future__ import annotations

import base64
import io
import os

import nacl.encoding
import nacl.hash
import pytest
from django.core.management import call_command
from django.test import override_settings

from haven import outbox
from haven.core.keys import server_box
from haven.telegram import sealing
from haven.vault import TamperedCiphertext, purposes
from haven.vault.box import derive_subkey

LONG = base64.b64encode(os.urandom(64))  # what `openssl rand -base64 64` gives, unwrapped


def test_an_88_character_token_key_seals_and_opens_every_server_value() -> None:
    assert len(LONG) == 88
    with override_settings(HAVEN_TOKEN_KEY=LONG):
        payload = {"text": "Ответ", "chat_id": 5}
        assert outbox.open_payload(outbox.seal_payload(payload)) == payload
        blob = sealing.seal(sealing.CHAT, "case:1", {"chat": 42})
        assert sealing.unseal(sealing.CHAT, "case:1", blob) == {"chat": 42}
        out = io.StringIO()
        call_command("check", stdout=out)
        assert "no issues" in out.getvalue()


def test_a_long_secret_is_hashed_whole_not_cut() -> None:
    other = LONG[:80] + (b"A" if LONG[80:81] != b"A" else b"B") + LONG[81:]
    key = derive_subkey(LONG, purposes.OUTBOX.info)
    assert len(key) == 32
    assert key != derive_subkey(LONG[:64], purposes.OUTBOX.info)
    with override_settings(HAVEN_TOKEN_KEY=LONG):
        sealed = server_box(purposes.OUTBOX).seal_json({"x": 1})
    with override_settings(HAVEN_TOKEN_KEY=other), pytest.raises(TamperedCiphertext):
        server_box(purposes.OUTBOX).unseal_json(sealed)


def test_secrets_up_to_64_bytes_derive_the_keys_they_always_did() -> None:
    secret = b"k" * 64
    assert derive_subkey(secret, b"info") == nacl.hash.blake2b(
        b"info", key=secret, digest_size=32, encoder=nacl.encoding.RawEncoder)
