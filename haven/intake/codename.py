"""Codenames: how a requester comes back to a case without an account.

A codename is a few words drawn uniformly from a list in the requester's
language (``words/<lang>.txt``, 4,096 words: 12 bits a word). The number of
words is chosen so a codename carries at least 80 bits, which no online or
offline guessing reaches; so it is stored as an HMAC under the server pepper,
not a slow hash (a slow hash would add nothing at 80 bits and would cap how many
intakes a server can take). The codename itself is never stored; it also
unwraps the requester's private key, so the thread cannot be read without it.
"""

from __future__ import annotations

import math
import re
import secrets
from functools import cache
from pathlib import Path

from haven.core.keys import pepper_hash
from haven.core.langs import LANGS
from haven.vault.derive import codename_key
from haven.vault.purposes import Lookup

WORDS_DIR = Path(__file__).resolve().parent / "words"
MIN_BITS = 80
MIN_WORDS_IN_LIST = 2048
MAX_INPUT = 400  # characters looked at when a codename is typed


@cache
def word_list(lang: str) -> tuple[str, ...]:
    if lang not in LANGS:
        raise ValueError(f"no word list for {lang!r}")
    words = tuple(dict.fromkeys(
        normalise(line) for line in (WORDS_DIR / f"{lang}.txt").read_text("utf-8").splitlines()
        if line.strip()
    ))
    if len(words) < MIN_WORDS_IN_LIST or any(" " in w for w in words):
        raise ValueError(f"the {lang} word list must hold at least {MIN_WORDS_IN_LIST} single words")
    return words


def words_needed(lang: str) -> int:
    """How many words make at least MIN_BITS with this language's list."""
    return math.ceil(MIN_BITS / math.log2(len(word_list(lang))))


def bits(lang: str) -> float:
    return words_needed(lang) * math.log2(len(word_list(lang)))


def generate(lang: str) -> str:
    words = word_list(lang)
    return " ".join(secrets.choice(words) for _ in range(words_needed(lang)))


def normalise(text: str) -> str:
    """Lowercase, ё as е, any run of non-letters as one space: how a codename is compared."""
    text = text[:MAX_INPUT].lower().replace("ё", "е")
    return " ".join(re.findall(r"[^\W\d_]+", text))


def lookup_hash(codename: str) -> str:
    return pepper_hash(Lookup.CODENAME, normalise(codename))


def key_material(codename: str) -> bytes:
    """32 bytes that wrap the requester's private key (see vault.wrap_with_token)."""
    return codename_key(normalise(codename))
