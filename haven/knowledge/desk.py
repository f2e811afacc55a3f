"""The knowledge base on the desk's case page: suggestions and ready replies.

The case page includes ``knowledge/case_panel.html``: a small search form
(``?kb=QUESTION`` on the case page's own address) and the best three articles
for the question, or else for the case's category, each with a link to the
article, the organization's review state of it and a "use as reply" link
(``?use_article=<lang>/<slug>``) that the desk's ``_prefill`` turns into the
reply box's text with ``reply_text_for``.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.http import urlencode
from django.utils.translation import get_language

from haven.accounts.models import Member
from haven.cases import categories
from haven.cases.access import WORK, can
from haven.cases.models import Case
from haven.core.langs import DEFAULT_LANG, LANGUAGE_NAMES

from .models import Article
from .organizations import OrgNote, notes_for
from .plaintext import reply_text
from .reviews import ReviewState, states_for
from .search import QueryError
from .service import (
    ArticleHit,
    article_url,
    find_article,
    normalize_lang,
    query_error_message,
    search_articles,
)

_KEY_RE = re.compile(r"^(ru|uk|en)/([a-z0-9]+(?:-[a-z0-9]+)*)$")
SUGGESTIONS = 3


def suggestions_for_case(member: Member, text: str, lang: str | None) -> list[ArticleHit]:
    """The best articles for ``text`` in the member's organization's view (QueryError if bad)."""
    return search_articles(text, lang=normalize_lang(lang), organization=member.organization,
                           limit=SUGGESTIONS)


def reply_text_for(member: Member, key: str) -> str:
    """Plain text of the article ``lang/slug`` for the reply box; "" if there is none."""
    match = _KEY_RE.match(key.strip())
    if match is None:
        return ""
    lang, slug = match.groups()
    article = find_article(member.organization, lang, slug)
    if article is None:
        return ""
    return reply_text(article, article_url(lang, slug, member.organization))


def case_panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    """What ``knowledge/case_panel.html`` shows for this request and case."""
    me: Member = request.user  # type: ignore[assignment]
    lang = normalize_lang(request.GET.get("kb_lang")) or normalize_lang(get_language()) or DEFAULT_LANG
    typed = request.GET.get("kb", "")
    query = typed if typed.strip() else _category_words(case, lang)
    panel: dict[str, Any] = {"query": typed.strip(), "lang": lang, "hits": [], "error": "",
                             "can_reply": can(me, WORK), "langs": LANGUAGE_NAMES.items()}
    if not query:
        return panel
    try:
        hits = suggestions_for_case(me, query, lang)
    except QueryError as error:
        panel["error"] = query_error_message(error)
        panel["query"] = "" if error.code in ("binary", "too_long") else panel["query"]
        return panel
    keep = {"kb": typed, "kb_lang": lang} if typed.strip() else {}
    states = _review_states(me, hits)
    notes = _notes(hits)
    panel["hits"] = [{"hit": hit, "review": states.get(hit.article_id),
                      "notes": notes.get(hit.article_id, []),
                      "use_url": request.path + "?" + urlencode(
                          {**keep, "use_article": f"{hit.lang}/{hit.slug}"}) + "#reply-h"}
                     for hit in hits]
    return panel


def _review_states(me: Member, hits: list[ArticleHit]) -> dict[int, ReviewState]:
    rows = Article.objects.in_bulk([hit.article_id for hit in hits]).values()
    return states_for(me.organization, rows)


def _notes(hits: list[ArticleHit]) -> dict[int, list[OrgNote]]:
    """The organizations box of each hit's article, as its page shows it."""
    rows = Article.objects.in_bulk([hit.article_id for hit in hits])
    return {pk: notes_for(row.organizations or [], row.body_markdown, row.lang)
            for pk, row in rows.items()}


def _category_words(case: Case, lang: str) -> str:
    if case.category == "other":
        return ""
    category = categories.get(case.category)
    return category.names.get(lang) or category.names.get("en", "")
