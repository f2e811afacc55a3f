"""A case's one-line summary and the language it is written in, encrypted together.

The language stays inside the ciphertext: in clear it would tell a seized disk
who wrote (a Ukrainian, a Russian). Summaries written before the language was
kept are plain text and read back with no language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import categories


@dataclass(frozen=True)
class Summary:
    text: str
    lang: str = ""  # "ru", "uk", "en", or "" when not known


def pack(text: str, lang: str = "") -> str:
    data = {"summary": text, "lang": lang} if lang else {"summary": text}
    return json.dumps(data, ensure_ascii=False)


def unpack(plain: str, category: str = "") -> Summary:
    if plain.startswith('{"summary"'):
        try:
            data = json.loads(plain)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("summary"), str):
            return Summary(data["summary"], str(data.get("lang") or ""))
    return Summary(_without_category(plain, category))


def _without_category(text: str, category: str) -> str:
    """Older intake summaries began with the category's name, which the desk shows anyway."""
    names = categories.get(category).names.values() if category else ()
    for name in names:
        if text.startswith(f"{name} — ") and len(text) > len(name) + 3:
            return text[len(name) + 3:]
    return text
