"""The signed envelope between organizations: made, read, verified, opened; refused when
forged, altered, cut short or too large."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from haven.network import envelope as env
from haven.vault import generate_keypair
from haven.vault.signing import fingerprint, generate_signing_key


def _make(content: bytes | None = b"hello") -> tuple[bytes, bytes, bytes]:
    public, seed = generate_signing_key()
    recipient = generate_keypair()
    blob = env.make(env.Kind.REFERRAL, envelope_id=str(uuid.uuid4()), sender_seed=seed,
                    sender_public=public, recipient_public=recipient.public,
                    created=timezone.now(), content=content)
    return blob, public, recipient.private


def test_an_envelope_opens_for_its_recipient_and_verifies_with_its_sender() -> None:
    blob, public, private = _make(b"x" * 100_000)
    read = env.read(blob, max_size=1 << 20)
    env.verify(read, public)
    assert env.open_payload(read, private) == b"x" * 100_000
    assert read.kind is env.Kind.REFERRAL


def test_another_key_an_altered_byte_and_a_cut_are_refused() -> None:
    blob, public, _private = _make()
    other_public, _ = generate_signing_key()
    with pytest.raises(env.BadEnvelope, match="another sender"):
        env.verify(env.read(blob, max_size=1 << 20), other_public)
    altered = bytearray(blob)
    altered[-80] ^= 1  # inside the payload
    with pytest.raises(env.BadEnvelope, match="forged or altered"):
        env.verify(env.read(bytes(altered), max_size=1 << 20), public)
    with pytest.raises(env.BadEnvelope, match="cut short"):
        env.read(blob[:-1], max_size=1 << 20)
    with pytest.raises(env.BadEnvelope, match="larger"):
        env.read(blob, max_size=len(blob) - 1)
    with pytest.raises(env.BadEnvelope, match=r"(?i)not a haven envelope"):
        env.read(b"GET / HTTP/1.1\r\n" * 10, max_size=1 << 20)
    stranger = generate_keypair()
    with pytest.raises(env.BadEnvelope, match="does not open"):
        env.open_payload(env.read(blob, max_size=1 << 20), stranger.private)


def test_fingerprints_are_six_groups_of_five_digits_and_depend_on_every_key() -> None:
    a, b = generate_keypair().public, generate_signing_key()[0]
    shown = fingerprint(a, b)
    assert len(shown.split()) == 6 and all(len(g) == 5 and g.isdigit() for g in shown.split())
    assert fingerprint(a, b) == shown
    assert fingerprint(generate_keypair().public, b) != shown
