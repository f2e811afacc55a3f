"""Messages for Telegram's HTML parse mode: escaping, splitting, buttons.

Every text that did not come from this module's own tags is escaped, so a
reply containing ``<b>`` or ``&`` shows as written and never breaks the send.
Telegram counts the 4,096-character limit after entities are parsed, in
UTF-16 code units; texts are split on paragraph, line or word boundaries
before escaping, so no entity is ever cut in two.
"""

from __future__ import annotations

import html
from typing import Any

LIMIT = 4096


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def bold(text: str) -> str:
    return f"<b>{esc(text)}</b>"


def italic(text: str) -> str:
    return f"<i>{esc(text)}</i>"


def code(text: str) -> str:
    return f"<code>{esc(text)}</code>"


def bullets(points: list[str]) -> str:
    return "\n".join(f"• {esc(p)}" for p in points)


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` units, at the best boundary found."""
    pieces: list[str] = []
    rest = text.strip()
    while units(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        for sep in ("\n\n", "\n", ". ", " "):
            at = window.rfind(sep)
            if at > cut // 2:
                cut = at + len(sep)
                break
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return [p for p in pieces if p]


def _fit(text: str, limit: int) -> int:
    """The longest prefix (in characters) of at most ``limit`` UTF-16 units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > limit:
            return index
    return len(text)


def keyboard(rows: list[list[tuple[str, str]]]) -> dict[str, Any]:
    """Inline buttons: rows of (label, callback data of at most 64 bytes)."""
    return {"inline_keyboard": [[{"text": label[:64], "callback_data": data} for label, data in row]
                                for row in rows if row]}


def reply_parts(header: str, text: str, footer: str) -> list[str]:
    """A caseworker's reply as HTML messages: the header on the first, the footer on the last."""
    head, foot = f"{bold(header)}\n\n", f"\n\n{italic(footer)}"
    room = LIMIT - units(header) - units(footer) - 4
    parts = split(text, room)
    out = [esc(p) for p in parts] or [""]
    out[0] = head + out[0]
    out[-1] = out[-1] + foot
    return out
