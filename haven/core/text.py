"""Tokenising and stemming in Russian, Ukrainian and English (knowledge base and case search).

A query's language is often unknown or mixed ("АГС deadline"), so every word is
stemmed by its own language guess: Latin by the Snowball English stemmer;
Cyrillic with і/ї/є/ґ by a light Ukrainian suffix rule, with ы/э/ъ by the
Snowball Russian stemmer. A Cyrillic word with neither («документи»,
«заблокують») takes the language of its text: Ukrainian when the text has
Ukrainian letters or function words («що», «якщо»), or when an article is
Ukrainian; Russian otherwise. Without that, the forms of one Ukrainian word
would be split between two stemmers and never meet.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# A number ("352.1", "2026") or a word. Apostrophes are removed first, so a
# Ukrainian word keeps together ("ім'я" -> "імя") whichever apostrophe was typed.
_TOKEN_RE = re.compile(r"\d+(?:\.\d+)*|[^\W\d_]+")
_APOSTROPHES = ("'", "’", "ʼ", "`")
_UK_ONLY = frozenset("іїєґ")
_RU_ONLY = frozenset("ыэъ")
# Ukrainian function words that are not Russian words: they mark a text as Ukrainian.
_UK_MARKERS = frozenset(
    "що як якщо чи це або щоб він вона вони мені мене треба потрібно який яка які "
    "коли де цей ця ці".split()
)
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
    "там тут здесь когда можно нужно надо очень будет будут "
    "моего моему моим моем моём моей мою моих моими твой твоя твои твоего твоему "
    "его ему него нему ней нее неё нам нас вами ими ним ними них какой какая какое какие "
    "какого какому каком каких такой такая такое такие этого этому этом этой эту этих "
    "того тому том той ту тех могу может можем можете могут мог могла могли "
    "делать сделать делаю хочу хочет хотим "
    # Ukrainian
    "і й та але чи що щоб як де коли це цей ця ці той ті або ні не на до від у в з із зі "
    "за про для по при над під без мені мене ми ви він вона вони воно їх його її ваш "
    "наш мій моя мої свій своя свої себе собі також тому там тут вже ще є був була "
    "були було буде будуть можна треба потрібно якщо хто який яка які "
    "мого моєму моїм моїй мою моїх його йому їй нам нас вам вас яке якого якому яких "
    "можу може можемо можете можуть робити зробити хочу "
    # English
    "a an and are as at be been but by can could do does did for from had has have "
    "he her his how i if in into is it its me my no not of on or our she should so "
    "than that the their them then there these they this those to us was we were "
    "what when where which who whom why will with would you your yours am any i'm "
    "im dont get got".split()
)

# Ukrainian endings, longest first. Deliberately light: it only has to bring the
# common forms of one word to one stem, not to be a full stemmer. Step one strips
# an inflection; step two a verbal-noun or verb suffix left in front of it, so
# «шифрування», «шифруванням» and «шифрується» all become «шифр».
_UK_INFLECTIONS: tuple[str, ...] = tuple(
    sorted(
        {
            "ючись", "учись", "ається", "ються", "ується", "ється", "ться", "тися", "ися",
            "ася", "ими", "іми", "ого", "ому", "ами", "ями", "ові", "еві", "єві", "ати",
            "яти", "ити", "іти", "ути", "ють", "уть", "ать", "ять", "ить", "ила", "или",
            "ило", "ала", "али", "ало", "ах", "ях", "ам", "ям", "ом", "ем", "єм", "ою",
            "ею", "єю", "ів", "їв", "ей", "ий", "ій", "их", "іх", "им", "ім", "ої", "ую",
            "юю", "ують", "юють", "ує", "ює", "ся", "сь", "ав", "ив", "ла", "ли", "ло",
            "а", "я", "о",
            "е", "є", "и", "і", "ї", "у", "ю", "ь", "й",
        },
        key=len,
        reverse=True,
    )
)
_UK_DERIVATIONS: tuple[str, ...] = ("уванн", "юванн", "ованн", "енн", "анн", "ува", "юва",
                                    "ув", "юв")
_UK_MIN_STEM = 3


def normalize(text: str) -> str:
    """Lower-case, compose, drop stress marks and fold ё into е."""
    text = unicodedata.normalize("NFC", text).lower()
    return text.replace(_STRESS_MARK, "").replace("ё", "е")


def words(text: str) -> list[str]:
    """Every word and number in ``text``, normalised, punctuation stripped."""
    text = normalize(text)
    for apostrophe in _APOSTROPHES:  # str.replace is much faster than translate here
        text = text.replace(apostrophe, "")
    return _TOKEN_RE.findall(text)


def guess_cyrillic(text_words: list[str]) -> str:
    """ "uk" if the words show Ukrainian letters or function words, else "ru"."""
    for word in text_words:
        if word in _UK_MARKERS or any(ch in _UK_ONLY for ch in word):
            return "uk"
    return "ru"


def script_of(word: str, cyrillic: str = "ru") -> str | None:
    """The language of one normalised word: "uk", "ru", "en" or None (numbers).

    ``cyrillic`` decides a Cyrillic word whose letters exist in both languages.
    """
    if any("а" <= ch <= "я" or ch in _UK_ONLY for ch in word):
        if any(ch in _UK_ONLY for ch in word):
            return "uk"
        if any(ch in _RU_ONLY for ch in word):
            return "ru"
        return cyrillic
    if any("a" <= ch <= "z" for ch in word):
        return "en"
    return None


def stem_uk(word: str) -> str:
    """Strip a Ukrainian inflection, then a verbal suffix; keep at least three letters."""
    word = _strip_first(word, _UK_INFLECTIONS)
    return _strip_first(word, _UK_DERIVATIONS)


def _strip_first(word: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= _UK_MIN_STEM:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=200_000)
def stem(word: str, cyrillic: str = "ru") -> str:
    """Stem one normalised word with the stemmer for its language guess."""
    lang = script_of(word, cyrillic)
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


def analyze(text: str, lang: str | None = None) -> list[tuple[str, str]]:
    """(word, stem) for every indexable word of ``text``, in order.

    ``lang`` is the text's language when known (an article's); otherwise it is
    guessed from the text itself.
    """
    found = words(text)
    if lang is None:
        cyrillic = guess_cyrillic(found)
    else:
        cyrillic = "uk" if lang == "uk" else "ru"
    return [(word, stem(word, cyrillic)) for word in found if is_indexable(word)]


def terms(text: str, lang: str | None = None) -> list[str]:
    """The stems of every indexable word of ``text``, in order."""
    return [term for _, term in analyze(text, lang)]
