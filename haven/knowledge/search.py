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
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from math import log
from typing import Protocol, TypeVar

from haven.core import text
from haven.core.langs import LANGS
from haven.knowledge.content import SYNONYMS_FILE, load_synonyms, strip_markers

K = TypeVar("K", bound=Hashable)
MAX_QUERY_CHARS = 500


class QueryError(ValueError):
    """The query cannot be searched; the message says what to change.

    ``code`` names the problem (not_text, too_long, binary, empty, language,
    limit) so that a caller can show the message in the reader's language.
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


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
# By edit distance; 0 is a known word indexed under another stem (its language
# was guessed differently in the article).
TYPO_WEIGHTS = {0: 1.0, 1: 0.8, 2: 0.6}
PREFIX_WEIGHT = 0.6  # an unknown long word standing for words that share its start
OTHER_LANG_FACTOR = 0.8  # a hit outside the preferred language
MIN_RELATIVE_SCORE = 0.2  # drop hits far below the best one
MAX_CANDIDATES = 3  # spelling fixes tried per unknown word


class SearchIndex:
    """Build once from articles, then search many times (thread-safe for reads).

    ``synonyms`` are groups of equivalent terms; by default the shipped
    ``content/knowledge/synonyms.yaml``.
    """

    def __init__(self, synonyms: Iterable[Sequence[str]] | None = None) -> None:
        if synonyms is None:
            synonyms = load_synonyms(SYNONYMS_FILE) if SYNONYMS_FILE.exists() else []
        self._synonym_groups = [_phrases(group) for group in synonyms]
        self._phrase_starts: dict[str, list[tuple[int, _Phrase]]] = defaultdict(list)
        for group_id, group in enumerate(self._synonym_groups):
            for phrase in group:
                self._phrase_starts[phrase.stems[0]].append((group_id, phrase))
        self._docs: list[_Doc] = []
        self._translations: dict[tuple[int, str], _Doc] = {}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._phrase_postings: dict[tuple[str, ...], list[tuple[int, float]]] = {}
        self._known: set[str] = set()
        self._spelling = _Spelling()

    # -- building --------------------------------------------------------------------------

    def build(self, articles: Iterable[ArticleLike]) -> SearchIndex:
        """Index ``articles`` (replacing anything indexed before); returns self."""
        articles = list(articles)
        groups = translation_groups(articles)
        self._docs = [_Doc(a.slug, a.lang, a.title, groups[(a.lang, a.slug)]) for a in articles]
        self._translations = {(doc.group, doc.lang): doc for doc in self._docs}
        vocabulary: set[tuple[str, str]] = set()
        self._postings = _bm25_postings([_field_counts(a, vocabulary) for a in articles])
        self._phrase_postings = self._merge_phrases()
        self._known = set(self._postings)
        self._known.update(s for group in self._synonym_groups for p in group for s in p.stems)
        for group in self._synonym_groups:
            for phrase in group:
                vocabulary.update(zip(phrase.words, phrase.stems, strict=True))
        self._spelling = _Spelling()
        for word, stem in vocabulary:
            self._spelling.add(word, stem)
        self._spelling.finish({t: len(p) for t, p in self._postings.items()})
        return self

    # -- searching -------------------------------------------------------------------------

    def search(self, query: str, lang: str | None = None, limit: int = 3) -> list[Hit]:
        """The best ``limit`` articles for ``query``, one per translation group."""
        check_query(query, lang, limit)
        return self._rank(self._score(self._parse(query)), lang, limit)

    def _parse(self, query: str) -> _Query:
        """Split the query into single terms and synonym concepts."""
        positions = self._positions(query)
        spans = self._synonym_spans(positions)
        covered = {i for start, phrase, _, _ in spans for i in range(start, start + len(phrase))}
        singles: dict[str, float] = {}
        for index, alternatives in enumerate(positions):
            if index not in covered:
                for stem, weight in alternatives:
                    _raise(singles, stem, weight)
        return _Query(singles, self._concepts(spans))

    def _concepts(self, spans: list[tuple[int, tuple[str, ...], int, float]]
                  ) -> list[list[tuple[tuple[str, ...], float]]]:
        """One concept per set of groups matched at one place in the query.

        Groups matched by the same words («mobilization» is both "mobilized" and
        "mobilization" once stemmed) make one concept, and a concept repeated in
        the query counts once, as a repeated word does.
        """
        at: dict[tuple[int, int], set[int]] = defaultdict(set)
        typed: dict[tuple[int, int], dict[tuple[str, ...], float]] = defaultdict(dict)
        for start, phrase, group_id, weight in spans:
            at[(start, len(phrase))].add(group_id)
            _raise(typed[(start, len(phrase))], phrase, weight)
        merged: dict[frozenset[int], dict[tuple[str, ...], float]] = {}
        for place, group_ids in at.items():
            best = max(typed[place].values())
            concept = merged.setdefault(frozenset(group_ids), {})
            for group_id in group_ids:
                for synonym in self._synonym_groups[group_id]:
                    _raise(concept, synonym.stems, best * SYNONYM_WEIGHT)
            for phrase, weight in typed[place].items():
                _raise(concept, phrase, weight)  # what was typed counts in full
        return [list(concept.items()) for concept in merged.values()]

    def _positions(self, query: str) -> list[list[tuple[str, float]]]:
        """Per query word, the stems it may stand for: itself, or its spelling fixes."""
        positions = []
        for word, stem in text.analyze(query):
            if stem in self._known:
                positions.append([(stem, 1.0)])
            else:
                positions.append(self._spelling.correct(word) or [(stem, 1.0)])
        return positions

    def _synonym_spans(self, positions: list[list[tuple[str, float]]]
                       ) -> list[tuple[int, tuple[str, ...], int, float]]:
        """(start, phrase, group, weight) of synonym phrases in the query, longest first.

        A match inside a longer match is dropped: "сдача в плен" is surrender,
        not also captivity.
        """
        found = []
        for start, alternatives in enumerate(positions):
            for stem, _ in alternatives:
                for group_id, phrase in self._phrase_starts.get(stem, ()):
                    weight = _phrase_weight(phrase.stems, positions, start)
                    if weight:
                        found.append((start, phrase.stems, group_id, weight))
        found.sort(key=lambda match: -len(match[1]))
        kept: list[tuple[int, tuple[str, ...], int, float]] = []
        for match in found:
            start, end = match[0], match[0] + len(match[1])
            if not any(len(k[1]) > len(match[1]) and start < k[0] + len(k[1]) and k[0] < end
                       for k in kept):
                kept.append(match)
        return kept

    def _score(self, query: _Query) -> dict[int, float]:
        scores: defaultdict[int, float] = defaultdict(float)
        for stem, weight in query.singles.items():
            for doc, contribution in self._postings.get(stem, ()):
                scores[doc] += weight * contribution
        for concept in query.concepts:
            for doc, value in self._concept_scores(concept).items():
                scores[doc] += value
        return scores

    def _concept_scores(self, concept: list[tuple[tuple[str, ...], float]]) -> dict[int, float]:
        """Per document, its best phrase of the concept: weight x mean stem score.

        Synonyms are alternatives, not extra evidence: an article that says both
        «АГС» and «альтернативная гражданская служба» is not twice as relevant.
        """
        best: dict[int, float] = {}
        get = best.get
        for stems, weight in concept:
            for doc, mean in self._phrase_postings.get(stems, ()):
                value = weight * mean
                if value > get(doc, 0.0):
                    best[doc] = value
        return best

    def _merge_phrases(self) -> dict[tuple[str, ...], list[tuple[int, float]]]:
        """Per synonym phrase, each document's mean score over the phrase's stems."""
        merged: dict[tuple[str, ...], list[tuple[int, float]]] = {}
        for group in self._synonym_groups:
            for phrase in group:
                if phrase.stems in merged:
                    continue
                sums: defaultdict[int, float] = defaultdict(float)
                for stem in phrase.stems:
                    for doc, contribution in self._postings.get(stem, ()):
                        sums[doc] += contribution
                size = len(phrase.stems)
                merged[phrase.stems] = [(doc, total / size) for doc, total in sums.items()]
        return merged

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


def check_query(query: object, lang: str | None = None, limit: int = 1) -> None:
    """Raise ``QueryError`` if ``query`` cannot be searched (cheap: no index needed)."""
    if not isinstance(query, str):
        raise QueryError("The query must be text.", "not_text")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is too long ({len(query)} characters); "
                         f"shorten it to at most {MAX_QUERY_CHARS}.", "too_long")
    # U+FFFD is what undecodable bytes become on the way in: binary, not text.
    if "\ufffd" in query or any(
            unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in query):
        raise QueryError("The query contains control characters or binary data; "
                         "type it as plain text.", "binary")
    if not query.strip():
        raise QueryError("The query is empty; type a few words to search for.", "empty")
    if lang is not None and lang not in LANGS:
        raise QueryError(f"Unknown language {lang!r}; use one of {', '.join(LANGS)}.", "language")
    if limit < 1:
        raise QueryError("Ask for at least one result.", "limit")



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


@dataclass(frozen=True, slots=True)
class _Query:
    singles: dict[str, float]
    concepts: list[list[tuple[tuple[str, ...], float]]]


def _phrase_weight(phrase: tuple[str, ...], positions: list[list[tuple[str, float]]],
                   start: int) -> float:
    """The weight of ``phrase`` matched at ``start``: its weakest word; 0.0 if no match."""
    if start + len(phrase) > len(positions):
        return 0.0
    weakest = 1.0
    for offset, stem in enumerate(phrase):
        weights = [w for s, w in positions[start + offset] if s == stem]
        if not weights:
            return 0.0
        weakest = min(weakest, max(weights))
    return weakest


def _raise(weights: dict[K, float], key: K, weight: float) -> None:
    if weight > weights.get(key, 0.0):
        weights[key] = weight


def _field_counts(article: ArticleLike, vocabulary: set[tuple[str, str]]) -> dict[str, float]:
    """Field-weighted term counts of one article; its (word, stem) pairs go to vocabulary."""
    counts: defaultdict[str, float] = defaultdict(float)
    fields = ((article.title, FIELD_WEIGHTS["title"]),
              (" ".join(article.tags), FIELD_WEIGHTS["tags"]),
              (strip_markers(article.body_markdown), FIELD_WEIGHTS["body"]))
    for value, weight in fields:
        pairs = text.analyze(value, article.lang)
        vocabulary.update(pairs)
        for _, term in pairs:
            counts[term] += weight
    return counts


def translation_groups(articles: Sequence[ArticleLike]) -> dict[tuple[str, str], int]:
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


def _bm25_postings(docs: list[dict[str, float]]) -> dict[str, list[tuple[int, float]]]:
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
    """Vocabulary words that an unknown query word probably stands for.

    First by edit distance, one edit for words of 4-7 letters, two from 8, found
    by symmetric deletion: every vocabulary word is stored under the strings made
    by deleting up to two of its letters; a query word is looked up the same way
    and candidates are confirmed with a real edit distance. Failing that, a long
    word stands for vocabulary words sharing its first letters, which catches
    inflections a stemmer does not know (a Ukrainian form the Russian rules
    mangle).
    """

    def __init__(self) -> None:
        self._stems_of: dict[str, set[str]] = defaultdict(set)
        self._deletes: dict[str, set[str]] = defaultdict(set)
        self._sorted: list[str] = []
        self._popularity: dict[str, int] = {}

    def add(self, word: str, stem: str) -> None:
        if len(word) >= 3 and not word.isdigit():
            self._stems_of[word].add(stem)

    def finish(self, popularity: dict[str, int]) -> None:
        self._popularity = popularity
        self._sorted = sorted(self._stems_of)
        for word in self._sorted:
            for variant in _deletions(word, 2 if len(word) >= 6 else 1):
                self._deletes[variant].add(word)

    def correct(self, word: str) -> list[tuple[str, float]]:
        """Up to a few (stem, weight) for ``word``, nearest and commonest first."""
        return self._near(word) or self._prefixed(word)

    def _near(self, word: str) -> list[tuple[str, float]]:
        if word in self._stems_of:
            return [(stem, TYPO_WEIGHTS[0]) for stem in self._commonest([word])]
        limit = 0 if len(word) < 4 else 1 if len(word) < 8 else 2
        if limit == 0:
            return []
        found: dict[str, int] = {}
        for variant in _deletions(word, limit):
            for candidate in self._deletes.get(variant, ()):
                if candidate not in found:
                    found[candidate] = _distance(word, candidate, limit)
        near = [(d, w) for w, d in found.items() if d <= limit]
        if not near:
            return []
        nearest = min(d for d, _ in near)
        words = [w for d, w in near if d == nearest]
        return [(stem, TYPO_WEIGHTS[nearest]) for stem in self._commonest(words)]

    def _prefixed(self, word: str) -> list[tuple[str, float]]:
        if len(word) < 8:
            return []
        prefix = word[: max(6, len(word) - 3)]
        words: list[str] = []
        for candidate in self._sorted[bisect_left(self._sorted, prefix):]:
            if not candidate.startswith(prefix) or len(words) >= 50:
                break
            words.append(candidate)
        return [(stem, PREFIX_WEIGHT) for stem in self._commonest(words)]

    def _commonest(self, words: list[str]) -> list[str]:
        """The distinct stems of ``words``, most widely used first, at most a few."""
        stems = sorted({stem for w in words for stem in self._stems_of[w]},
                       key=lambda s: (-self._popularity.get(s, 0), s))
        return stems[:MAX_CANDIDATES]


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
