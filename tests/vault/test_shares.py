"""Recovery shares: a mistyped share is refused and named, old printed shares still work."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven import vault
from haven.vault import recovery

SECRET = bytes(range(32))
# Printed by the first version (no version marker, no checksum) for SECRET, 2 of 3.
OLD_SHARES = [
    "2-1-JKGJ-IIAX-KRVU-CNGQ-EHB6-RUSX-XDCZ-ZF67-V73H-MURY-RWKT-OLFY-FPCA",
    "2-2-SQAD-KRJC-U7OI-W4FA-LSAN-7KF4-PKQR-AA4Q-PHEN-NHKY-FIPU-G7CM-OSZA",
    "2-3-32G2-GZRR-62Y4-2TDZ-O5ED-W57F-ZV2J-3BS4-YIV3-NWDY-X2IG-6THJ-IFUQ",
]
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def test_shares_printed_before_checksums_still_recover_the_key() -> None:
    assert recovery.combine(OLD_SHARES[1:]) == SECRET
    assert recovery.combine([OLD_SHARES[2].lower(), OLD_SHARES[0]]) == SECRET


def test_new_shares_carry_a_version_marker_and_recover_the_key() -> None:
    shares = recovery.split(SECRET, 2, 3)
    assert all(re.fullmatch(r"v2-2-[123]-[A-Z2-7]{4}(-[A-Z2-7]{1,4}){14}", s) for s in shares)
    assert recovery.combine([shares[2], shares[0]]) == SECRET
    assert recovery.combine([s.lower() for s in shares[:2]]) == SECRET


def test_one_wrong_letter_is_refused_and_the_share_named() -> None:
    shares = recovery.split(SECRET, 2, 3)
    wrong = shares[1][:12] + ("B" if shares[1][12] != "B" else "C") + shares[1][13:]
    with pytest.raises(vault.BadRecoveryKey, match=r"^share 2 \(as entered\), marked 2-2, is "
                                                   "mistyped: its check letters do not match"):
        recovery.combine([shares[0], wrong])


@pytest.mark.parametrize(("body_change", "reason"), [
    (lambda b: b[:-1], "it has 57 letters and digits after its number, a share has 58"),
    (lambda b: b + "AAAA", "it has 62 letters and digits after its number, a share has 58"),
    (lambda b: b[1:].replace("-", "-1", 1), "a share holds only the letters A-Z and the digits 2-7"),
])
def test_a_share_missing_or_gaining_letters_is_named(body_change: object, reason: str) -> None:
    shares = recovery.split(SECRET, 2, 3)
    damaged = shares[0][:7] + body_change(shares[0][7:])  # type: ignore[operator]
    with pytest.raises(vault.BadRecoveryKey, match=rf"^share 1 \(as entered\) is mistyped: {reason}"):
        recovery.combine([damaged, shares[1]])


@pytest.mark.parametrize("text", [
    "2-0-" + OLD_SHARES[0][4:], "2-256-" + OLD_SHARES[0][4:], "v2-2-0-AAAA", "v2-2-999-AAAA",
])
def test_share_number_zero_or_past_255_is_refused(text: str) -> None:
    with pytest.raises(vault.BadRecoveryKey, match=r"^share 2 \(as entered\) has number \d+; "
                                                   "share numbers run from 1 to 255"):
        recovery.combine([OLD_SHARES[1], text])


@pytest.mark.parametrize("text", ["1-1-AAAA", "256-1-AAAA", "v2-0-1-AAAA"])
def test_an_impossible_threshold_is_refused(text: str) -> None:
    with pytest.raises(vault.BadRecoveryKey, match=r"^share 1 \(as entered\) names \d+ shares "
                                                   "needed; it must be 2 to 255"):
        recovery.combine([text])


def test_an_unreadable_share_says_what_a_share_looks_like() -> None:
    with pytest.raises(vault.BadRecoveryKey, match=r"^share 1 \(as entered\) must look like v2-3-1-"):
        recovery.combine(["JKGJ-IIAX", OLD_SHARES[0]])


def test_two_different_shares_with_the_same_number_are_refused() -> None:
    other = recovery.split(SECRET, 2, 3)
    old_two = "2-1-" + OLD_SHARES[1][4:]  # share 2's body typed under number 1
    with pytest.raises(vault.BadRecoveryKey, match="both number 1 but differ"):
        recovery.combine([OLD_SHARES[0], old_two])
    assert recovery.combine([other[0], other[0], other[1]]) == SECRET  # a share given twice is fine


@settings(max_examples=200)
@given(st.integers(0, 2), st.integers(0, 10_000), st.sampled_from(BASE32))
def test_a_single_changed_character_never_recovers_a_wrong_key(which: int, where: int,
                                                                 letter: str) -> None:
    shares = recovery.split(SECRET, 3, 3)
    text = shares[which]
    spots = [i for i, ch in enumerate(text) if ch.isalnum() and i >= 3 and ch != letter]
    spot = spots[where % len(spots)]
    shares[which] = text[:spot] + (letter if text[spot].isalpha() else str(
        (int(text[spot]) + 1) % 10)) + text[spot + 1:]
    try:
        recovered = recovery.combine(shares)
    except vault.BadRecoveryKey as exc:
        assert str(exc).startswith(f"share {which + 1} (as entered)")
    else:
        # Only a change in the last letter's unused bits decodes to the same share.
        assert recovered == SECRET


@pytest.mark.parametrize(("threshold", "shares"), [(1, 3), (3, 2), (2, 256)])
def test_splitting_refuses_impossible_counts(threshold: int, shares: int) -> None:
    with pytest.raises(ValueError, match="need 2 <= threshold <= shares <= 255"):
        recovery.split(SECRET, threshold, shares)
