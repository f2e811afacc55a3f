"""Property-based tests of the vault: round trips, tampering, key separation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven import vault
from haven.vault import recovery

FAST = vault.KdfParams(opslimit=1, memlimit=8 * 1024 * 1024)
ORG_A = vault.generate_keypair()
ORG_B = vault.generate_keypair()


@given(st.binary(max_size=4096))
def test_it_round_trips_sealed_and_secret_records(data: bytes) -> None:
    org = vault.OrgVault(ORG_A.private)
    assert org.decrypt(vault.seal(ORG_A.public, data)) == data
    assert org.decrypt(org.encrypt(data)) == data


@given(st.binary(min_size=1, max_size=256), st.data())
def test_it_rejects_any_flipped_byte(data: bytes, draw: st.DataObject) -> None:
    org = vault.OrgVault(ORG_A.private)
    for ciphertext in (org.encrypt(data), vault.seal(ORG_A.public, data)):
        index = draw.draw(st.integers(0, len(ciphertext) - 1))
        flip = draw.draw(st.integers(1, 255))
        broken = bytearray(ciphertext)
        broken[index] ^= flip
        with pytest.raises(vault.VaultError):
            org.decrypt(bytes(broken))


@given(st.binary(max_size=512))
def test_keys_of_one_organization_never_open_anothers_records(data: bytes) -> None:
    a, b = vault.OrgVault(ORG_A.private), vault.OrgVault(ORG_B.private)
    with pytest.raises(vault.TamperedCiphertext):
        b.decrypt(a.encrypt(data))
    with pytest.raises(vault.TamperedCiphertext):
        b.decrypt(vault.seal(ORG_A.public, data))


@settings(max_examples=10, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.text(min_size=1, max_size=40))
def test_password_wrapping_round_trips_and_refuses_other_passwords(secret: bytes, pw: str) -> None:
    wrapped = vault.wrap_with_password(secret, pw, FAST)
    text = wrapped.to_text()
    assert vault.unwrap_with_password(text, pw) == secret
    with pytest.raises(vault.WrongPassword):
        vault.unwrap_with_password(text, pw + "x")


def test_parameters_travel_with_the_wrapped_key_so_they_can_be_raised() -> None:
    old = vault.wrap_with_password(b"k" * 32, "pw", FAST)
    stronger = vault.KdfParams(opslimit=2, memlimit=16 * 1024 * 1024)
    new = vault.wrap_with_password(vault.unwrap_with_password(old.to_text(), "pw"), "pw", stronger)
    parsed = vault.WrappedKey.from_text(new.to_text())
    assert parsed.params == stronger
    assert vault.unwrap_with_password(parsed, "pw") == b"k" * 32


def test_an_unknown_version_is_reported_as_such() -> None:
    org = vault.OrgVault(ORG_A.private)
    ciphertext = bytearray(org.encrypt(b"x"))
    ciphertext[2] = 9
    with pytest.raises(vault.UnknownKeyVersion):
        org.decrypt(bytes(ciphertext))
    text = vault.wrap_with_password(b"k" * 32, "pw", FAST).to_text().replace("$1$", "$7$", 1)
    with pytest.raises(vault.UnknownKeyVersion):
        vault.unwrap_with_password(text, "pw")


def test_token_wrapping_needs_the_token() -> None:
    wrapped = vault.wrap_with_token(b"s" * 32, b"token-1")
    assert vault.unwrap_with_token(wrapped, b"token-1") == b"s" * 32
    with pytest.raises(vault.WrongPassword):
        vault.unwrap_with_token(wrapped, b"token-2")


def test_keyed_hashes_depend_on_key_and_purpose() -> None:
    h = vault.keyed_hash(b"pepper", "codename", "value")
    assert h == vault.keyed_hash(b"pepper", "codename", "value")
    assert h != vault.keyed_hash(b"other", "codename", "value")
    assert h != vault.keyed_hash(b"pepper", "chat", "value")
    assert "value" not in h


@settings(max_examples=25)
@given(st.binary(min_size=32, max_size=32), st.integers(2, 5), st.integers(0, 3), st.randoms())
def test_any_k_of_n_shares_recover_the_key(secret: bytes, k: int, extra: int, rnd: object) -> None:
    n = k + extra
    shares = recovery.split(secret, k, n)
    chosen = rnd.sample(shares, k)  # type: ignore[attr-defined]
    assert recovery.combine(chosen) == secret
    with pytest.raises(vault.BadRecoveryKey):
        recovery.combine(chosen[: k - 1] + chosen[:1])


def test_too_few_shares_are_refused() -> None:
    shares = recovery.split(b"x" * 32, 3, 5)
    with pytest.raises(vault.BadRecoveryKey):
        recovery.combine(shares[:2])


def test_a_recovery_key_survives_formatting() -> None:
    raw = bytes(range(32))
    assert recovery.parse_key(recovery.format_key(raw).lower()) == raw
    with pytest.raises(vault.BadRecoveryKey):
        recovery.parse_key("ABCD-EFGH")
