"""Organization recovery keys, whole or split k-of-n (Shamir over GF(256)).

The recovery key is a 32-byte X25519 private key. The organization's private
key is sealed to its public half at creation; whoever later presents the
recovery key (or k shares of it) can restore access.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from . import purposes
from .errors import BadRecoveryKey

KEY_BYTES = 32


def format_key(raw: bytes) -> str:
    """Human-friendly form: base32 in groups of four, e.g. ``ABCD-EFGH-...``."""
    text = base64.b32encode(raw).decode("ascii").rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_key(text: str, length: int = KEY_BYTES) -> bytes:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError as exc:
        raise BadRecoveryKey("the recovery key is not valid base32") from exc
    if len(raw) != length:
        raise BadRecoveryKey("the recovery key has the wrong length")
    return raw


# --- Shamir secret sharing over GF(2^8), polynomial x^8+x^4+x^3+x+1 (AES) ---

_EXP = [0] * 512
_LOG = [0] * 256


def _init_tables() -> None:
    x = 1
    for i in range(255):
        _EXP[i] = x
        _LOG[x] = i
        x ^= (x << 1) ^ (0x11B if x & 0x80 else 0)  # multiply by generator 3
        x &= 0xFF
    for i in range(255, 512):
        _EXP[i] = _EXP[i - 255]


_init_tables()


def _mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    if a == 0:
        return 0
    return _EXP[(_LOG[a] - _LOG[b]) % 255]


# A share is printed once, when the organization is created, and typed back in
# years later. Version 2 (``v2-3-1-ABCD-...``: threshold 3, share number 1)
# ends its body with a 4-byte checksum over threshold, number and body, so one
# wrong letter names the wrong share instead of silently recovering garbage.
# Shares printed before that (``3-1-ABCD-...``, no checksum) are still read.
SHARE_VERSION = "v2"
CHECK_BYTES = 4
_CHECK_PURPOSE = purposes.RECOVERY_SHARE_CHECK.info


def _checksum(threshold: int, x: int, ys: bytes) -> bytes:
    return hashlib.sha256(_CHECK_PURPOSE + bytes([threshold, x]) + ys).digest()[:CHECK_BYTES]


def split(secret: bytes, threshold: int, shares: int) -> list[str]:
    """Split ``secret`` into ``shares`` texts of which any ``threshold`` recover it."""
    if not 2 <= threshold <= shares <= 255:
        raise ValueError("need 2 <= threshold <= shares <= 255")
    coeffs = [[b] + [secrets.randbelow(256) for _ in range(threshold - 1)] for b in secret]
    out = []
    for x in range(1, shares + 1):
        ys = bytes(_eval(c, x) for c in coeffs)
        body = format_key(ys + _checksum(threshold, x, ys))
        out.append(f"{SHARE_VERSION}-{threshold}-{x}-{body}")
    return out


def _eval(coeffs: list[int], x: int) -> int:
    y = 0
    for c in reversed(coeffs):
        y = _mul(y, x) ^ c
    return y


def _header(text: str) -> tuple[bool, int, int, str]:
    """(has a checksum, threshold, share number, body) as written; ValueError if unreadable."""
    head, rest = text.strip().split("-", 1)
    checked = head.lower() == SHARE_VERSION
    if checked:
        head, rest = rest.split("-", 1)
    x_str, body = rest.split("-", 1)
    return checked, int(head), int(x_str), body


def _share_body(where: str, body: str, length: int) -> bytes:
    letters = sum(ch.isalnum() for ch in body)
    expected = -(-length * 8 // 5)
    if letters != expected:
        raise BadRecoveryKey(f"{where} is mistyped: it has {letters} letters and digits after "
                             f"its number, a share has {expected}")
    try:
        return parse_key(body, length)
    except BadRecoveryKey as exc:
        raise BadRecoveryKey(f"{where} is mistyped: a share holds only the letters A-Z and "
                             "the digits 2-7") from exc


def parse_share(text: str, position: int = 1) -> tuple[int, int, bytes]:
    """Read one share into (threshold, number, body); ``position`` names it in refusals."""
    where = f"share {position} (as entered)"
    try:
        checked, threshold, x, body = _header(text)
    except ValueError as exc:
        raise BadRecoveryKey(f"{where} must look like v2-3-1-ABCD-...") from exc
    if not 2 <= threshold <= 255:
        raise BadRecoveryKey(f"{where} names {threshold} shares needed; it must be 2 to 255")
    if not 1 <= x <= 255:
        raise BadRecoveryKey(f"{where} has number {x}; share numbers run from 1 to 255")
    raw = _share_body(where, body, KEY_BYTES + (CHECK_BYTES if checked else 0))
    ys = raw[:KEY_BYTES]
    if checked and not hmac.compare_digest(raw[KEY_BYTES:], _checksum(threshold, x, ys)):
        raise BadRecoveryKey(f"{where}, marked {threshold}-{x}, is mistyped: its check letters "
                             "do not match; compare it letter by letter with the printed copy")
    return threshold, x, ys


def combine(texts: list[str]) -> bytes:
    """Recover the secret from at least ``threshold`` distinct shares."""
    points: dict[int, bytes] = {}
    threshold = 0
    for position, text in enumerate(texts, start=1):
        t, x, ys = parse_share(text, position)
        if threshold and t != threshold:
            raise BadRecoveryKey("the shares come from different splits")
        if points.get(x, ys) != ys:
            raise BadRecoveryKey(f"share {position} (as entered) and an earlier one are both "
                                 f"number {x} but differ: one of them is mistyped")
        threshold = t
        points[x] = ys
    if len(points) < threshold:
        raise BadRecoveryKey(f"{threshold} different shares are needed, {len(points)} given")
    xs = list(points)[:threshold]
    return bytes(_interpolate_zero(xs, [points[x][i] for x in xs]) for i in range(KEY_BYTES))


def _interpolate_zero(xs: list[int], ys: list[int]) -> int:
    total = 0
    for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                num = _mul(num, xj)
                den = _mul(den, xi ^ xj)
        total ^= _mul(yi, _div(num, den))
    return total
