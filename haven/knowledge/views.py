"""Public knowledge-base pages: index by topic, article, search. No login, no JavaScript.

The shipped knowledge base lives under /kb/; an organization's view (its own
articles and overrides) under /kb/o/<organization slug>/. The content language
is ``?lang=`` (ru, uk, en) or else the site language; the page around it stays
in the site language.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from haven.accounts.models import Organization
from haven.core.langs import DEFAULT_LANG, LANGS, LANGUAGE_NAMES

from . import reviews, service
from .content import CONFIRMATION_PHRASES, NOT_ADVICE_PHRASES, render_article
from .labels import TOPIC_LABELS, topic_label
from .loader import ensure_shipped
from .models import Article
from .organizations import notes_for
from .plaintext import markdown_to_text
from .search import QueryError, translation_groups

# Where a reader looks when an article is missing in their language.
FALLBACK = {"ru": ("ru", "en", "uk"), "uk": ("uk", "ru", "en"), "en": ("en", "ru", "uk")}
SNIPPET_CHARS = 220


def index(request: HttpRequest, org_slug: str | None = None) -> HttpResponse:
    org, lang = _organization(org_slug), content_lang(request)
    ensure_shipped()
    chosen = _one_per_group(service.visible_articles(org), lang)
    states = reviews.states_for(org, chosen, public=True)
    topics = [{"slug": slug, "label": label,
               "items": [_item(a, org, states) for a in chosen if a.topic == slug]}
              for slug, label in TOPIC_LABELS.items()]
    return render(request, "knowledge/index.html", {
        **_common(request, org, lang), "topics": [t for t in topics if t["items"]]})


def article(request: HttpRequest, lang: str, slug: str, org_slug: str | None = None) -> HttpResponse:
    org = _organization(org_slug)
    ensure_shipped()
    found = service.find_article(org, lang, slug)
    if found is None:
        raise Http404
    return render(request, "knowledge/article.html", {
        **_common(request, org, lang), "article": found, "topic": topic_label(found.topic),
        "body_html": safe_body(found), "review": reviews.state_for(org, found, public=True),
        "sources": numbered_sources(found),
        "org_notes": notes_for(found.organizations or [], found.body_markdown, found.lang),
        "translations": [{"lang": a.lang, "name": LANGUAGE_NAMES[a.lang],
                          "url": service.article_url(a.lang, a.slug, org)}
                         for a in service.translations(found, org)],
        "not_advice": _sentence(NOT_ADVICE_PHRASES[found.lang]),
        "confirm": _sentence(CONFIRMATION_PHRASES[found.lang]),
    })


@require_http_methods(["GET", "POST"])
def search(request: HttpRequest, org_slug: str | None = None) -> HttpResponse:
    """The question travels in a POST body, never in the address (I-7): out of browser
    history and proxy logs. An old ``?q=`` link shows the form filled in, without searching."""
    org = _organization(org_slug)
    asked = request.method == "POST"
    lang = (service.normalize_lang(request.POST.get("lang")) if asked else None) or content_lang(request)
    context: dict[str, Any] = {**_common(request, org, lang), "asked": asked}
    if not asked:
        context["query"] = request.GET.get("q", "")[:500]
        return render(request, "knowledge/search.html", context)
    query = request.POST.get("q", "")
    try:
        hits = service.search_articles(query, lang=lang, organization=org)
    except QueryError as error:
        shown = "" if error.code in ("binary", "too_long") else query
        context.update(error=service.query_error_message(error), query=shown)
        return _private(render(request, "knowledge/search.html", context, status=400))
    rows = Article.objects.in_bulk([hit.article_id for hit in hits])
    states = reviews.states_for(org, rows.values(), public=True)
    context.update(query=query, results=[
        {**_item(rows[hit.article_id], org, states), "snippet": _snippet(rows[hit.article_id])}
        for hit in hits if hit.article_id in rows])
    return _private(render(request, "knowledge/search.html", context))


def _private(response: HttpResponse) -> HttpResponse:
    """Results name the reader's question: no cache keeps them."""
    add_never_cache_headers(response)
    return response


def safe_body(found: Article) -> SafeString:
    """The article's Markdown as HTML that nh3 sanitised (raw HTML in content is shown as text),
    its citation markers linked to the source list and unconfirmed claims marked."""
    html = render_article(found.body_markdown, len(found.sources), found.lang)
    return mark_safe(html)  # noqa: S308 - sanitised by nh3; only fixed markup added after


def numbered_sources(found: Article) -> list[dict[str, Any]]:
    """The sources as the page lists them: number (the marker's anchor), title, url, consulted."""
    return [{"number": number, "title": source.get("title", ""), "url": source.get("url"),
             "consulted": source.get("consulted", "")}
            for number, source in enumerate(found.sources, start=1)]


def content_lang(request: HttpRequest) -> str:
    """?lang= if it is ru, uk or en; else the site language; else Russian."""
    return (service.normalize_lang(request.GET.get("lang"))
            or service.normalize_lang(get_language()) or DEFAULT_LANG)


def _organization(org_slug: str | None) -> Organization | None:
    if org_slug is None:
        return None
    return get_object_or_404(Organization, slug=org_slug)


def _common(request: HttpRequest, org: Organization | None, lang: str) -> dict[str, Any]:
    if org is None:
        index_url, search_url = reverse("knowledge:index"), reverse("knowledge:search")
    else:
        index_url = reverse("knowledge:org_index", args=[org.slug])
        search_url = reverse("knowledge:org_search", args=[org.slug])
    return {"org": org, "lang": lang, "lang_name": LANGUAGE_NAMES[lang], "index_url": index_url,
            "search_url": search_url,
            "kb_langs": [{"code": code, "name": LANGUAGE_NAMES[code]} for code in LANGS]}


def _one_per_group(articles: list[Article], lang: str) -> list[Article]:
    """Each article once: in ``lang`` if translated, else in the nearest other language."""
    groups = translation_groups(articles)
    best: dict[int, Article] = {}
    order = FALLBACK[lang]
    for item in articles:
        group = groups[(item.lang, item.slug)]
        current = best.get(group)
        if current is None or order.index(item.lang) < order.index(current.lang):
            best[group] = item
    return sorted(best.values(), key=lambda a: a.title.lower())


def _item(found: Article, org: Organization | None,
          states: dict[int, reviews.ReviewState]) -> dict[str, Any]:
    return {"article": found, "url": service.article_url(found.lang, found.slug, org),
            "lang_name": LANGUAGE_NAMES[found.lang], "review": states[found.pk]}


def _snippet(found: Article) -> str:
    text = " ".join(markdown_to_text(found.body_markdown).split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _sentence(phrase: str) -> str:
    return phrase[0].upper() + phrase[1:] + "."
