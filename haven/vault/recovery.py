"""Organization recovery keys, whole or split k-of-n (Shamir over GF(256)).

The recovery key is a 32-byte X25519 private key. The organization's private
key is sealed to its public half at creation; whoever later presents the
recovery key (or k shares of it) can restore access.
"""

from __future__ import annotations

import base64
import secrets

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


def split(secret: bytes, threshold: int, shares: int) -> list[str]:
    """Split ``secret`` into ``shares`` texts of which any ``threshold`` recover it."""
    if not 2 <= threshold <= shares <= 255:
        raise ValueError("need 2 <= threshold <= shares <= 255")
    coeffs = [[b] + [secrets.randbelow(256) for _ in range(threshold - 1)] for b in secret]
    out = []
    for x in range(1, shares + 1):
        ys = bytes(_eval(c, x) for c in coeffs)
        out.append(f"{threshold}-{x}-" + format_key(ys))
    return out


def _eval(coeffs: list[int], x: int) -> int:
    y = 0
    for c in reversed(coeffs):
        y = _mul(y, x) ^ c
    return y


def combine(texts: list[str]) -> bytes:
    """Recover the secret from at least ``threshold`` distinct shares."""
    points: dict[int, bytes] = {}
    threshold = 0
    for text in texts:
        try:
            t_str, x_str, body = text.strip().split("-", 2)
            t, x = int(t_str), int(x_str)
        except ValueError as exc:
            raise BadRecoveryKey("a share must look like 2-1-ABCD-...") from exc
        if threshold and t != threshold:
            raise BadRecoveryKey("the shares come from different splits")
        threshold = t
        points[x] = parse_key(body)
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
