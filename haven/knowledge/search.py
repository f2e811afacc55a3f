"""In-memory BM25 search over knowledge-base articles.

Fields are weighted (title over tags over body, BM25F-style), words are stemmed
by their own script (see ``text.py``), queries are expanded with synonym groups
(multi-word phrases too) and, when a word is not in the vocabulary, with the
vocabulary words one or two edits away. Translations of one article form a
group: a search returns each group once, in the preferred language when it
exists, so a Russian query asked from an English interface still lands on the
English page, and a question with no good answer in the preferred language
can still be answered from another.

Per-term scores are precomputed at build time, so a search is a handful of
dictionary lookups and additions: well under a millisecond for the shipped
articles, a few milliseconds for a thousand.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import log
from typing import Protocol

from haven.knowledge import text

MAX_QUERY_CHARS = 500
LANGS = ("ru", "uk", "en")


class QueryError(ValueError):
    """The query cannot be searched; the message says what to change."""


class ArticleLike(Protocol):
    @property
    def slug(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def body_markdown(self) -> str: ...
    @property
    def topic(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Hit:
    slug: str
    lang: str
    title: str
    score: float


@dataclass(frozen=True, slots=True)
class _Doc:
    slug: str
    lang: str
    title: str
    group: int


# Ranking constants: chosen for the whole collection, not for single questions.
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.0, "body": 1.0}
K1 = 1.2
B = 0.75
SYNONYM_WEIGHT = 0.7  # an expansion counts a little less than the word typed
TYPO_WEIGHTS = {1: 0.8, 2: 0.6}  # by edit distance
OTHER_LANG_FACTOR = 0.8  # a hit outside the preferred language
MIN_RELATIVE_SCORE = 0.2  # drop hits far below the best one
MAX_TYPO_CANDIDATES = 3


class SearchIndex:
    """Build once from articles, then search many times (thread-safe for reads)."""

    def __init__(self, synonyms: Iterable[Sequence[str]] | None = None) -> None:
        if synonyms is None:
            from haven.knowledge.content import SYNONYMS_FILE, load_synonyms

            synonyms = load_synonyms(SYNONYMS_FILE) if SYNONYMS_FILE.exists() else []
        self._synonym_groups = [_phrases(group) for group in synonyms]
        self._phrase_starts: dict[str, list[tuple[int, _Phrase]]] = defaultdict(list)
        for group_id, group in enumerate(self._synonym_groups):
            for phrase in group:
                self._phrase_starts[phrase.stems[0]].append((group_id, phrase))
        self._docs: list[_Doc] = []
        self._translations: dict[tuple[int, str], _Doc] = {}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._known: set[str] = set()
        self._spelling = _Spelling()

    # -- building --------------------------------------------------------------------------

    def build(self, articles: Iterable[ArticleLike]) -> SearchIndex:
        """Index ``articles`` (replacing anything indexed before); returns self."""
        articles = list(articles)
        groups = _translation_groups(articles)
        self._docs = [_Doc(a.slug, a.lang, a.title, groups[(a.lang, a.slug)]) for a in articles]
        self._translations = {(doc.group, doc.lang): doc for doc in self._docs}
        self._postings = _bm25_postings([self._field_counts(a) for a in articles])
        self._known = set(self._postings) | set(self._phrase_starts)
        self._known.update(s for group in self._synonym_groups for p in group for s in p.stems)
        self._spelling = _Spelling()
        for article in articles:
            for word, stem in text.analyze(f"{article.title} {' '.join(article.tags)} "
                                           f"{article.body_markdown}"):
                self._spelling.add(word, stem)
        for group in self._synonym_groups:
            for phrase in group:
                for word, stem in zip(phrase.words, phrase.stems, strict=True):
                    self._spelling.add(word, stem)
        self._spelling.finish({t: len(p) for t, p in self._postings.items()})
        return self

    def _field_counts(self, article: ArticleLike) -> Counter[str]:
        counts: Counter[str] = Counter()
        fields = {"title": article.title, "tags": " ".join(article.tags),
                  "body": article.body_markdown}
        for name, value in fields.items():
            for term in text.terms(value):
                counts[term] += FIELD_WEIGHTS[name]
        return counts

    # -- searching -------------------------------------------------------------------------

    def search(self, query: str, lang: str | None = None, limit: int = 3) -> list[Hit]:
        """The best ``limit`` articles for ``query``, one per translation group."""
        _check_query(query, lang, limit)
        weights = self._query_terms(query)
        scores: defaultdict[int, float] = defaultdict(float)
        for term, weight in weights.items():
            for doc, contribution in self._postings.get(term, ()):
                scores[doc] += weight * contribution
        return self._rank(scores, lang, limit)

    def _query_terms(self, query: str) -> dict[str, float]:
        """Stems to look up, with weights: typed words, typo fixes, synonyms."""
        weights: dict[str, float] = {}
        sequence: list[tuple[str, float]] = []
        for word, stem in text.analyze(query):
            if stem in self._known:
                sequence.append((stem, 1.0))
                continue
            fixes = self._spelling.correct(word)
            if not fixes:
                sequence.append((stem, 1.0))
            for fixed, distance in fixes:
                sequence.append((fixed, TYPO_WEIGHTS[distance]))
        for stem, weight in sequence:
            _raise(weights, stem, weight)
        for stem, weight in self._expansions(sequence):
            _raise(weights, stem, weight)
        return weights

    def _expansions(self, sequence: list[tuple[str, float]]) -> Iterable[tuple[str, float]]:
        """Every stem of every synonym group one of whose phrases occurs in the query."""
        stems = [stem for stem, _ in sequence]
        matched: dict[int, float] = {}
        for start, stem in enumerate(stems):
            for group_id, phrase in self._phrase_starts.get(stem, ()):
                end = start + len(phrase.stems)
                if tuple(stems[start:end]) == phrase.stems:
                    weight = min(w for _, w in sequence[start:end])
                    matched[group_id] = max(matched.get(group_id, 0.0), weight)
        for group_id, weight in matched.items():
            for phrase in self._synonym_groups[group_id]:
                for stem in phrase.stems:
                    yield stem, weight * SYNONYM_WEIGHT

    def _rank(self, scores: dict[int, float], lang: str | None, limit: int) -> list[Hit]:
        best: dict[int, tuple[float, int]] = {}
        for doc_id, score in scores.items():
            doc = self._docs[doc_id]
            if lang is not None and doc.lang != lang:
                score *= OTHER_LANG_FACTOR
            if score > best.get(doc.group, (0.0, -1))[0]:
                best[doc.group] = (score, doc_id)
        ordered = sorted(best.values(), key=lambda item: (-item[0], self._docs[item[1]].slug))
        if not ordered:
            return []
        floor = ordered[0][0] * MIN_RELATIVE_SCORE
        hits = []
        for score, doc_id in ordered[:limit]:
            if score < floor:
                break
            doc = self._preferred(self._docs[doc_id], lang)
            hits.append(Hit(doc.slug, doc.lang, doc.title, round(score, 3)))
        return hits

    def _preferred(self, doc: _Doc, lang: str | None) -> _Doc:
        """The translation of ``doc`` in ``lang``, if there is one."""
        if lang is None or doc.lang == lang:
            return doc
        return self._translations.get((doc.group, lang), doc)


# -- query checks --------------------------------------------------------------------------


def _check_query(query: object, lang: str | None, limit: int) -> None:
    if not isinstance(query, str):
        raise QueryError("The query must be text.")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is too long ({len(query)} characters); "
                         f"shorten it to at most {MAX_QUERY_CHARS}.")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in query):
        raise QueryError("The query contains control characters or binary data; "
                         "type it as plain text.")
    if not query.strip():
        raise QueryError("The query is empty; type a few words to search for.")
    if lang is not None and lang not in LANGS:
        raise QueryError(f"Unknown language {lang!r}; use one of {', '.join(LANGS)}.")
    if limit < 1:
        raise QueryError("Ask for at least one result.")


# -- building blocks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]
    stems: tuple[str, ...]


def _phrases(group: Sequence[str]) -> list[_Phrase]:
    phrases = []
    for term in group:
        pairs = text.analyze(term)
        if pairs:
            phrases.append(_Phrase(tuple(w for w, _ in pairs), tuple(s for _, s in pairs)))
    return phrases


def _raise(weights: dict[str, float], stem: str, weight: float) -> None:
    if weight > weights.get(stem, 0.0):
        weights[stem] = weight


def _translation_groups(articles: list[ArticleLike]) -> dict[tuple[str, str], int]:
    """Group id per (lang, slug): same slug, or linked by ``related``, is one group."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for article in articles:
        key = f"{article.lang}/{article.slug}"
        parent[find(key)] = find(f"slug:{article.slug}")
        for other in getattr(article, "related", ()) or ():
            parent[find(key)] = find(other)
    roots: dict[str, int] = {}
    return {(a.lang, a.slug): roots.setdefault(find(f"{a.lang}/{a.slug}"), len(roots))
            for a in articles}


def _bm25_postings(docs: list[Counter[str]]) -> dict[str, list[tuple[int, float]]]:
    """term -> [(doc, BM25F contribution)], with field-weighted frequencies."""
    if not docs:
        return {}
    lengths = [sum(counts.values()) for counts in docs]
    average = sum(lengths) / len(docs) or 1.0
    frequency: Counter[str] = Counter()
    for counts in docs:
        frequency.update(counts.keys())
    total = len(docs)
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for doc_id, counts in enumerate(docs):
        norm = K1 * (1 - B + B * lengths[doc_id] / average)
        for term, tf in counts.items():
            idf = log(1 + (total - frequency[term] + 0.5) / (frequency[term] + 0.5))
            postings[term].append((doc_id, idf * tf * (K1 + 1) / (tf + norm)))
    return dict(postings)


class _Spelling:
    """Vocabulary words within one or two edits of a misspelt word.

    Symmetric deletion: every vocabulary word is stored under the strings made by
    deleting up to two of its letters; a query word is looked up the same way, and
    candidates are confirmed with a real edit distance.
    """

    def __init__(self) -> None:
        self._stem_of: dict[str, str] = {}
        self._deletes: dict[str, set[str]] = defaultdict(set)
        self._popularity: dict[str, int] = {}

    def add(self, word: str, stem: str) -> None:
        if len(word) >= 3 and not word.isdigit() and word not in self._stem_of:
            self._stem_of[word] = stem

    def finish(self, popularity: dict[str, int]) -> None:
        self._popularity = popularity
        for word in self._stem_of:
            for variant in _deletions(word, 2 if len(word) >= 6 else 1):
                self._deletes[variant].add(word)

    def correct(self, word: str) -> list[tuple[str, int]]:
        """Up to a few (stem, distance) for ``word``, nearest and commonest first."""
        limit = 0 if len(word) < 4 else 1 if len(word) < 8 else 2
        if limit == 0:
            return []
        found: dict[str, int] = {}
        for variant in _deletions(word, limit):
            for candidate in self._deletes.get(variant, ()):
                if candidate not in found:
                    found[candidate] = _distance(word, candidate, limit)
        ranked = sorted(((d, -self._popularity.get(self._stem_of[w], 0), w)
                         for w, d in found.items() if d <= limit))
        if not ranked:
            return []
        nearest = ranked[0][0]
        stems: dict[str, int] = {}
        for distance, _, candidate in ranked:
            if distance == nearest and len(stems) < MAX_TYPO_CANDIDATES:
                stems.setdefault(self._stem_of[candidate], distance)
        return list(stems.items())


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` and every string made by deleting up to ``depth`` letters from it."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier if len(w) > 1 for i in range(len(w))}
        found |= frontier
    return found


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition counts once), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
