"""Words and their stems in Russian, Ukrainian and English.

Used wherever Haven matches words regardless of their form: case search and
the knowledge base. Each word is stemmed by the rules of its own script: Latin
by the English stemmer, Cyrillic with Ukrainian-only letters by a light
Ukrainian suffix rule, other Cyrillic by the Russian stemmer.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

WORD = re.compile(r"[0-9a-zа-яёіїєґ']+", re.IGNORECASE)
UKRAINIAN_LETTERS = set("іїєґ")
_RU = Stemmer.Stemmer("russian")
_EN = Stemmer.Stemmer("english")
# Common Ukrainian inflection endings, longest first.
_UK_SUFFIXES = sorted(
    """ами ями ові еві ого ому ому ими іми ях ах ів їв ий ій ої ою ею ем ом ам ям
    ть ти ла ло ли ні ня ню ого а я у ю і ї е о и""".split(),
    key=len, reverse=True,
)


def words(text: str) -> list[str]:
    """Lower-cased words of ``text``; ё is folded into е."""
    return [w.strip("'") for w in WORD.findall(text.lower().replace("ё", "е")) if w.strip("'")]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if not word or word.isdigit():
        return word
    if word.isascii():
        return _EN.stemWord(word)
    if UKRAINIAN_LETTERS & set(word):
        return _stem_uk(word)
    return _RU.stemWord(word)


def _stem_uk(word: str) -> str:
    for suffix in _UK_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def stems(text: str) -> list[str]:
    """The stems of the words of ``text``, in order (with repeats)."""
    return [stem(w) for w in words(text)]
