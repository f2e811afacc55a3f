"""Public knowledge-base pages: index, article, search, languages, sanitising, organizations."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from haven.knowledge.models import Article
from tests.conftest import Persona

from .conftest import own_article

pytestmark = pytest.mark.usefixtures("shipped")


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_it_lists_articles_by_topic_without_logging_in(client: Client) -> None:
    response = client.get("/kb/?lang=ru")
    assert response.status_code == 200
    html = _html(response)
    assert "Альтернативная гражданская служба" in html or "Alternative civilian service" in html
    assert 'href="/kb/ru/acs-deadlines/"' in html
    assert "Сроки подачи заявления на АГС" in html
    assert '<a href="?lang=uk" lang="uk" hreflang="uk">Українська</a>' in html


def test_the_index_falls_back_to_another_language_when_untranslated(client: Client) -> None:
    html = _html(client.get("/kb/?lang=uk"))
    assert 'href="/kb/uk/acs-deadlines/"' in html  # translated
    slugs = {lang: set(Article.objects.filter(organization__isnull=True, lang=lang)
                       .values_list("slug", flat=True)) for lang in ("ru", "uk")}
    untranslated = sorted(slugs["ru"] - slugs["uk"])
    if not untranslated:
        pytest.skip("every shipped article has a Ukrainian version")
    slug = untranslated[0]  # only in Russian and English: Russian first
    assert f'href="/kb/ru/{slug}/"' in html
    assert f'href="/kb/en/{slug}/"' not in html


def test_the_article_page_shows_review_sources_and_the_not_advice_note(client: Client) -> None:
    response = client.get("/kb/en/acs-deadlines/")
    assert response.status_code == 200
    html = _html(response)
    assert "ACS deadlines" in html
    assert "Not reviewed by an organization." in html
    assert "This is general information, not legal advice." in html
    assert '<a href="https://news.mail.ru/politics/69963301/" rel="noopener noreferrer nofollow">' in html
    assert '<article class="kb-article" lang="en">' in html


def test_it_links_to_the_same_article_in_other_languages(client: Client) -> None:
    html = _html(client.get("/kb/ru/asylum-germany/"))
    assert 'href="/kb/uk/asylum-germany/"' in html
    assert 'href="/kb/en/asylum-germany/"' in html
    assert 'href="/kb/ru/asylum-germany/"' not in html.split('class="kb-translations"')[1]


def test_it_shows_the_lawyer_banner_on_an_unverified_article(client: Client) -> None:
    unverified = Article.objects.filter(organization__isnull=True, unverified=True, lang="ru").first()
    assert unverified is not None
    html = _html(client.get(f"/kb/ru/{unverified.slug}/"))
    assert 'class="kb-banner"' in html
    assert "Требует подтверждения юристом" in html
    verified = Article.objects.filter(organization__isnull=True, unverified=False, lang="ru").first()
    assert verified is not None
    assert 'class="kb-banner"' not in _html(client.get(f"/kb/ru/{verified.slug}/"))


def test_an_unknown_article_or_language_is_404(client: Client) -> None:
    assert client.get("/kb/ru/no-such-article/").status_code == 404
    assert client.get("/kb/de/acs-deadlines/").status_code == 404
    assert client.get("/kb/o/no-such-org/").status_code == 404


def test_search_finds_russian_word_forms(client: Client) -> None:
    response = client.post("/kb/search/", {"q": "не опоздал ли я с заявлением на АГС?", "lang": "ru"})
    assert response.status_code == 200
    html = _html(response)
    results = html.split('class="kb-results"')[1]
    links = re.findall(r'href="(/kb/[^"]+)"', results)
    assert "/kb/ru/acs-late-filing/" in links[:3]
    assert len(links) <= 3


def test_search_answers_the_english_border_question(client: Client) -> None:
    response = client.post("/kb/search/", {"q": "can I cross into the EU with only a birth certificate?",
                                          "lang": "en"})
    links = re.findall(r'href="(/kb/[^"]+)"', _html(response).split('class="kb-results"')[1])
    assert links[0] == "/kb/en/ukrainian-documents/"


def test_the_question_travels_in_a_post_body_never_in_the_address(client: Client) -> None:
    form = _html(client.get("/kb/"))
    assert re.search(r'<form method="post" action="/kb/search/" class="kb-search"', form)
    assert 'name="csrfmiddlewaretoken"' in form
    found = client.post("/kb/search/", {"q": "повестка", "lang": "ru"})
    assert 'class="kb-results"' in _html(found)
    assert "no-store" in found.headers["Cache-Control"]


def test_an_old_search_link_shows_the_filled_in_form_without_searching(client: Client) -> None:
    response = client.get("/kb/search/", {"q": "повестка", "lang": "ru"})
    html = _html(response)
    assert response.status_code == 200
    assert 'class="kb-results"' not in html and "No article matches" not in html
    assert 'name="q" value="повестка"' in html and 'method="post"' in html


def test_a_search_through_a_real_form_needs_its_csrf_token(db: None) -> None:
    strict = Client(enforce_csrf_checks=True)
    html = _html(strict.get("/kb/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token
    found = strict.post("/kb/search/", {"q": "повестка", "csrfmiddlewaretoken": token.group(1)})
    assert found.status_code == 200 and 'class="kb-results"' in _html(found)
    assert strict.post("/kb/search/", {"q": "повестка"}).status_code == 403


def test_search_without_a_question_shows_the_form(client: Client) -> None:
    response = client.get("/kb/search/")
    assert response.status_code == 200
    assert 'name="q"' in _html(response)


@pytest.mark.parametrize(("query", "message"), [
    ("", "The question is empty"),
    ("   ", "The question is empty"),
    ("повестка " * 200, "too long"),
    ("abc\x00\x01def", "binary data"),
])
def test_a_bad_query_gets_a_clear_message_not_an_error(client: Client, query: str, message: str) -> None:
    response = client.post("/kb/search/", {"q": query})
    assert response.status_code == 400
    assert message in _html(response)


def test_undecodable_bytes_in_a_query_are_refused_as_binary(client: Client) -> None:
    response = client.post("/kb/search/", "q=%FF%FE%00abc",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "binary data" in _html(response)


def test_a_query_with_no_match_says_so(client: Client) -> None:
    response = client.post("/kb/search/", {"q": "xyzzyqwv", "lang": "en"})
    assert response.status_code == 200
    assert "No article matches" in _html(response)


def test_pages_have_no_inline_script_or_style(client: Client) -> None:
    for response in (client.get("/kb/"), client.get("/kb/ru/acs-deadlines/"),
                     client.post("/kb/search/", {"q": "повестка"})):
        html = _html(response)
        assert "<script" not in html
        assert "style=" not in html and "<style" not in html
        assert "/static/haven/knowledge.css" in html


def test_an_organizations_own_article_is_sanitised(client: Client, alice: Persona) -> None:
    own_article(alice.org, body_markdown=(
        "Hello <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
        "[click](javascript:alert(3)) and [ok](https://example.org)\n"),
        sources=[{"title": "<b>bold</b>", "url": "https://example.org/"}])
    html = _html(client.get("/kb/o/first/en/our-office/"))
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_an_override_shows_for_its_organization_only(client: Client, alice: Persona,
                                                     charlie: Persona) -> None:
    own_article(alice.org, lang="ru", slug="acs-deadlines", title="Наши сроки АГС", topic="acs")
    assert "Наши сроки АГС" in _html(client.get("/kb/o/first/ru/acs-deadlines/"))
    assert "Наши сроки АГС" in _html(client.get("/kb/o/first/?lang=ru"))
    for url in ("/kb/o/second/ru/acs-deadlines/", "/kb/ru/acs-deadlines/", "/kb/o/second/?lang=ru"):
        html = _html(client.get(url))
        assert "Наши сроки АГС" not in html
        assert "Сроки подачи заявления на АГС" in html


def test_an_organizations_own_article_is_found_by_its_search_only(client: Client, alice: Persona,
                                                                  charlie: Persona) -> None:
    own_article(alice.org, title="Office hours of the first network", tags=["office", "hours"])
    found = _html(client.post("/kb/o/first/search/", {"q": "office hours", "lang": "en"}))
    assert "/kb/o/first/en/our-office/" in found
    assert "our-office" not in _html(client.post("/kb/o/second/search/", {"q": "office hours"}))
    assert "our-office" not in _html(client.post("/kb/search/", {"q": "office hours"}))
    assert client.get("/kb/o/second/en/our-office/").status_code == 404


@pytest.mark.parametrize(("lang", "words"), [
    ("ru", ("Справочник", "Не проверено организацией", "Источники", "Это общая информация")),
    ("uk", ("Довідник", "Не перевірено організацією", "Джерела", "Це загальна інформація")),
])
def test_the_pages_speak_the_readers_language(client: Client, lang: str, words: tuple[str, ...]) -> None:
    client.post("/i18n/setlang/", {"language": lang, "next": "/kb/"})
    html = _html(client.get(f"/kb/{lang}/asylum-germany/"))
    for word in words:
        assert word in html


def _brand(html: str) -> str:
    found = re.search(r'<(a|span) class="brand"( href="([^"]*)")?>Haven<', html)
    assert found, html[:2000]
    return found.group(3) or ""


@pytest.mark.parametrize("path", ["/kb/?lang=en", "/kb/en/acs-deadlines/", "/kb/search/?q=border&lang=en",
                                  "/kb/o/first/?lang=en", "/kb/o/first/en/acs-deadlines/"])
def test_every_public_page_has_the_quick_exit_as_a_plain_link(client: Client, alice: Persona,
                                                                path: str) -> None:
    html = _html(client.get(path))
    # A link, no script: it works with JavaScript off, as on the requester's pages.
    assert re.search(r'<a class="leave" href="https://www\.bbc\.com/weather" rel="noreferrer noopener">'
                     r"Leave quickly</a>", html), html[:2000]
    assert _brand(html) not in {"/", "/login/"}


def test_an_organizations_knowledge_base_and_its_requester_page_link_to_each_other(
    client: Client, alice: Persona,
) -> None:
    kb = _html(client.get("/kb/o/first/?lang=en"))
    assert 'href="/o/first/"' in kb and _brand(kb) == "/o/first/"
    start = _html(client.get("/o/first/?lang=en"))
    assert 'href="/kb/o/first/?lang=en"' in start


def test_the_logo_on_requester_pages_never_leads_to_the_staff_login(client: Client, alice: Persona) -> None:
    for path in ("/o/first/", "/o/first/follow-up/", "/o/first/consent/?topic=summons"):
        html = _html(client.get(path))
        assert _brand(html) == "/o/first/", path
        assert 'href="/login/"' not in html and 'href="/"' not in html, path
