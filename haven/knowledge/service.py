"""The one knowledge-base search, used by the web pages, the bot, the desk and the CLI.

``search_articles(query, lang, organization)`` answers from an in-memory
``SearchIndex`` kept per organization (the shipped articles with the
organization's own ones, its overrides applied; organizations without own
articles share the shipped index). Building takes about 2 s per 1,000
articles, so it never happens per request: each call compares a fingerprint of
the articles (row count, newest ``updated``, highest id: one aggregate query)
with the one the index was built from, and rebuilds only when they differ. Every
write to an article goes through ``actions`` or ``loader``, which set
``updated``, so each process sees a change on its next search.

Bad queries raise ``QueryError``; ``query_error_message`` gives the reader's
message for it.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from haven.accounts.models import Organization
from haven.core.langs import LANGS

from . import loader
from .content import SYNONYMS_FILE, load_synonyms
from .models import Article
from .plaintext import absolute, telegram_text
from .reviews import state_for
from .search import MAX_QUERY_CHARS, QueryError, SearchIndex, check_query

__all__ = ["ArticleHit", "QueryError", "article_text_for_telegram", "article_url", "find_article",
           "normalize_lang", "query_error_message", "search_articles", "visible_articles"]


@dataclass(frozen=True, slots=True)
class ArticleHit:
    """One search result: what the bot, the desk and the pages need to show a link."""

    slug: str
    lang: str
    title: str
    score: float
    url: str  # path of the article's page, for this organization's view
    article_id: int

    def as_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "lang": self.lang, "title": self.title, "score": self.score}


@dataclass(frozen=True, slots=True)
class _Built:
    fingerprint: tuple[Any, ...]
    index: SearchIndex
    ids: dict[tuple[str, str], int]


_INDEXES: dict[int | None, _Built] = {}
_BY_DIGEST: dict[str, SearchIndex] = {}  # built indexes by content, oldest first
_KEEP_BUILT = 16
_BUILD_LOCK = threading.Lock()


def search_articles(query: str, lang: str | None = None, organization: Organization | None = None,
                    limit: int = 3) -> list[ArticleHit]:
    """The best ``limit`` articles for ``query`` as ``organization`` shows them.

    ``lang`` is the preferred language (others still answer when it has nothing
    better). Raises ``QueryError`` for an empty, huge or binary query.
    """
    check_query(query, lang, limit)
    built = _index_for(organization)
    return [ArticleHit(hit.slug, hit.lang, hit.title, hit.score,
                       article_url(hit.lang, hit.slug, organization),
                       built.ids[(hit.lang, hit.slug)])
            for hit in built.index.search(query, lang=lang, limit=limit)]


def article_text_for_telegram(hit: ArticleHit, organization: Organization | None = None) -> str:
    """The hit's article for Telegram's HTML parse mode: title, the organization's review
    state, text (shortened to fit 4,096 characters), the not-legal-advice note and a link."""
    article = Article.objects.filter(pk=hit.article_id).first()
    if article is None:  # deleted since the search: the title and the link still help
        return f"<b>{html.escape(hit.title, quote=False)}</b>\n\n{html.escape(absolute(hit.url))}"
    return telegram_text(article, hit.url, review=state_for(organization, article, public=True))


def query_error_message(error: QueryError) -> str:
    """The reader's message for a refused query, in the active language."""
    messages = {
        "too_long": _("The question is too long. Shorten it to at most %(max)d characters.")
        % {"max": MAX_QUERY_CHARS},
        "binary": _("The question contains control characters or binary data. "
                    "Type it as plain text."),
        "empty": _("The question is empty. Type a few words to search for."),
        "language": _("Unknown language. Choose Russian, Ukrainian or English."),
    }
    return messages.get(error.code, _("This question cannot be searched. Type it as plain text."))


def normalize_lang(value: str | None) -> str | None:
    """"ru", "ru-RU", "RU" -> "ru"; anything not ru/uk/en -> None."""
    code = (value or "").strip().lower()[:2]
    return code if code in LANGS else None


def article_url(lang: str, slug: str, organization: Organization | None = None) -> str:
    if organization is None:
        return reverse("knowledge:article", args=[lang, slug])
    return reverse("knowledge:org_article", args=[organization.slug, lang, slug])


def visible_articles(organization: Organization | None, lang: str | None = None
                     ) -> list[Article]:
    """The articles ``organization`` shows (shipped ones, its own overriding), by title."""
    rows = _scope(organization)
    if lang is not None:
        rows = rows.filter(lang=lang)
    return sorted(_overridden(rows), key=lambda a: (a.lang, a.title.lower()))


def find_article(organization: Organization | None, lang: str, slug: str) -> Article | None:
    """The organization's version of lang/slug, else the shipped one, else None."""
    rows = _scope(organization).filter(lang=lang, slug=slug)
    found = _overridden(rows)
    return found[0] if found else None


def translations(article: Article, organization: Organization | None) -> list[Article]:
    """The same article in the other languages: same slug, or named in ``related``."""
    keys = {(lang, article.slug) for lang in LANGS}
    keys |= {tuple(k.split("/", 1)) for k in article.related if "/" in k}
    keys.discard((article.lang, article.slug))
    wanted = Q(pk__in=[])
    for lang, slug in keys:
        if lang != article.lang:
            wanted |= Q(lang=lang, slug=slug)
    found = {a.lang: a for a in _overridden(_scope(organization).filter(wanted))
             if a.slug == article.slug or a.key in article.related}
    return [found[lang] for lang in LANGS if lang in found]


def forget_indexes() -> None:
    """Forget which index each organization uses (tests: their rows vanish with them)."""
    with _BUILD_LOCK:
        _INDEXES.clear()


# -- the index cache -------------------------------------------------------------------------


def _scope(organization: Organization | None) -> QuerySet[Article]:
    if organization is None:
        return Article.objects.filter(organization__isnull=True)
    return Article.objects.filter(Q(organization__isnull=True) | Q(organization=organization))


def _overridden(rows: Iterable[Article]) -> list[Article]:
    """One article per (lang, slug): the organization's own beats the shipped one."""
    chosen: dict[tuple[str, str], Article] = {}
    for row in rows:
        current = chosen.get((row.lang, row.slug))
        if current is None or current.is_shipped:
            chosen[(row.lang, row.slug)] = row
    return list(chosen.values())


def _fingerprint(organization: Organization | None) -> tuple[int | None, tuple[Any, ...]]:
    """(index key, fingerprint): an organization with no own articles uses the shipped index."""
    own = Q(organization=organization) if organization is not None else Q(pk__in=[])

    def count() -> dict[str, Any]:
        return _scope(organization).aggregate(
            shipped=Count("pk", filter=Q(organization__isnull=True)), own=Count("pk", filter=own),
            last=Max("updated"), top=Max("pk"))

    numbers = count()
    if numbers["shipped"] == 0 and loader.ensure_shipped():
        numbers = count()
    key = organization.pk if organization is not None and numbers["own"] else None
    return key, (numbers["shipped"], numbers["own"], numbers["last"], numbers["top"])


@functools.cache
def _synonyms() -> list[list[str]]:
    """The synonym groups, read once per process (YAML parsing is a quarter of a build)."""
    return load_synonyms(SYNONYMS_FILE) if SYNONYMS_FILE.exists() else []


def _index_for(organization: Organization | None) -> _Built:
    key, fingerprint = _fingerprint(organization)
    built = _INDEXES.get(key)
    if built is not None and built.fingerprint == fingerprint:
        return built
    with _BUILD_LOCK:
        built = _INDEXES.get(key)
        if built is None or built.fingerprint != fingerprint:
            articles = _overridden(_scope(organization if key is not None else None))
            built = _Built(fingerprint, _build(articles), {(a.lang, a.slug): a.pk for a in articles})
            _INDEXES[key] = built
    return built


def _build(articles: list[Article]) -> SearchIndex:
    """An index of ``articles``; reused when the same text was indexed before.

    A touched row without a change in what is searched (``kb load`` after an
    upgrade that changed other articles, a review date) costs a digest, not a build.
    """
    digest = hashlib.sha256(json.dumps(sorted(
        [a.lang, a.slug, a.title, a.topic, list(a.tags), list(a.related), a.body_markdown]
        for a in articles), ensure_ascii=False).encode("utf-8")).hexdigest()
    index = _BY_DIGEST.pop(digest, None) or SearchIndex(_synonyms()).build(articles)
    _BY_DIGEST[digest] = index  # most recent last
    while len(_BY_DIGEST) > _KEEP_BUILT:
        _BY_DIGEST.pop(next(iter(_BY_DIGEST)))
    return index
