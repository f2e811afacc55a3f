"""Tokenising and stemming for knowledge-base search (Russian, Ukrainian, English).

A query's language is often unknown or mixed ("АГС deadline"), so every word is
stemmed by its own script: Cyrillic with і/ї/є/ґ by a light Ukrainian suffix
rule, other Cyrillic by the Snowball Russian stemmer, Latin by the Snowball
English stemmer. Articles are analysed the same way, so a word form always
meets the same stem whichever side it is on.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# A number ("352.1", "2026") or a word; an apostrophe inside a Ukrainian word
# ("ім'я", "зв’язок") belongs to the word.
_TOKEN_RE = re.compile(r"\d+(?:\.\d+)*|[^\W\d_]+(?:['’ʼ`][^\W\d_]+)*")
_APOSTROPHES = str.maketrans("", "", "'’ʼ`")
_UK_ONLY = frozenset("іїєґ")
_STRESS_MARK = "\u0301"

_RU = Stemmer.Stemmer("russian")
_EN = Stemmer.Stemmer("english")

STOPWORDS: frozenset[str] = frozenset(
    # Russian
    "а без бы был была были было быть в вам вас во вот все всё вы где да даже для до "
    "его ее её если есть еще ещё ж же за и из или им их к как ли либо мне меня мной "
    "мы на над не нет ни но ну о об он она они оно от по под при про с со так также "
    "то тоже только у уж уже что чтобы чем это этот эта эти я ко кто какой какая какие "
    "мой моя мои мое моё наш наша наши ваш ваша ваши свой своя свои себя себе тот та те "
    "там тут здесь когда можно нужно надо очень будет будут есть был "
    # Ukrainian
    "і й та але чи що щоб як де коли це цей ця ці той ті або ні не на до від у в з із зі "
    "за про для по при над під без мені мене ми ви він вона вони воно їх його її ваш "
    "наш мій моя мої свій своя свої себе собі також тому там тут вже ще є був була "
    "були було буде будуть можна треба потрібно якщо хто який яка які "
    # English
    "a an and are as at be been but by can could do does did for from had has have "
    "he her his how i if in into is it its me my no not of on or our she should so "
    "than that the their them then there these they this those to us was we were "
    "what when where which who whom why will with would you your yours am any i'm "
    "im dont get got".split()
)

# Ukrainian inflection endings, longest first. Deliberately light: it only has
# to bring the common forms of one word to one stem, not to be a full stemmer.
_UK_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "ючись", "учись", "ається", "ються", "ується", "увати", "ювати", "ування",
            "ення", "ання", "ться", "тися", "ими", "іми", "ого", "ому", "ами", "ями",
            "ові", "еві", "єві", "ати", "яти", "ити", "іти", "ути", "ють", "уть", "ать",
            "ять", "ить", "ила", "или", "ило", "ала", "али", "ало", "ася", "ися", "ися",
            "ах", "ях", "ам", "ям", "ом", "ем", "єм", "ою", "ею", "єю", "ів", "їв", "ей",
            "ий", "ій", "их", "іх", "им", "ім", "ої", "ую", "юю", "ти", "ть", "ся", "сь",
            "ав", "ив", "ла", "ли", "ло", "а", "я", "о", "е", "є", "и", "і", "ї", "у",
            "ю", "ь", "й",
        },
        key=len,
        reverse=True,
    )
)
_UK_MIN_STEM = 3


def normalize(text: str) -> str:
    """Lower-case, compose, drop stress marks and fold ё into е."""
    text = unicodedata.normalize("NFC", text).lower()
    return text.replace(_STRESS_MARK, "").replace("ё", "е")


def words(text: str) -> list[str]:
    """Every word and number in ``text``, normalised, punctuation stripped."""
    return [token.translate(_APOSTROPHES) for token in _TOKEN_RE.findall(normalize(text))]


def script_of(word: str) -> str | None:
    """Guess the language of one normalised word: "uk", "ru", "en" or None."""
    if any("а" <= ch <= "я" or ch in _UK_ONLY for ch in word):
        return "uk" if any(ch in _UK_ONLY for ch in word) else "ru"
    if any("a" <= ch <= "z" for ch in word):
        return "en"
    return None


def stem_uk(word: str) -> str:
    """Strip one Ukrainian inflection ending, keeping at least three letters."""
    for suffix in _UK_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _UK_MIN_STEM:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem one normalised word with the stemmer for its script."""
    lang = script_of(word)
    if lang == "ru":
        return str(_RU.stemWord(word))
    if lang == "en":
        return str(_EN.stemWord(word))
    if lang == "uk":
        return stem_uk(word)
    return word


def is_indexable(word: str) -> bool:
    """A word worth indexing: not a stopword, and numbers or at least two letters."""
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def analyze(text: str) -> list[tuple[str, str]]:
    """(word, stem) for every indexable word of ``text``, in order."""
    return [(word, stem(word)) for word in words(text) if is_indexable(word)]


def terms(text: str) -> list[str]:
    """The stems of every indexable word of ``text``, in order."""
    return [term for _, term in analyze(text)]
