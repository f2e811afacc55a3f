"""The one search function: organizations, overrides, index rebuilds, errors, Telegram text."""

from __future__ import annotations

import html
import re

import pytest
from django.conf import settings
from django.utils import timezone

from haven.knowledge import service
from haven.knowledge.content import NOT_ADVICE_PHRASES
from haven.knowledge.models import Article
from haven.knowledge.plaintext import TELEGRAM_LIMIT, markdown_to_text, reply_text, telegram_text
from haven.knowledge.service import QueryError, search_articles
from tests.conftest import Persona

from .conftest import own_article

pytestmark = pytest.mark.usefixtures("shipped")


def _keys(hits: list[service.ArticleHit]) -> list[str]:
    return [f"{h.lang}/{h.slug}" for h in hits]


@pytest.mark.parametrize("query", [
    "повестка", "повестку", "повесткой", "повестки пришли",
    "электронную повестку получил", "электронной повесткой",
])
def test_it_matches_russian_word_forms(query: str) -> None:
    assert "ru/electronic-summons" in _keys(search_articles(query, "ru"))


def test_it_returns_hits_with_a_url_and_score() -> None:
    hit = search_articles("не опоздал ли я с заявлением на АГС?", "ru")[0]
    assert (hit.lang, hit.slug) == ("ru", "acs-late-filing")
    assert hit.url == "/kb/ru/acs-late-filing/"
    assert hit.score > 0
    assert hit.as_json() == {"slug": hit.slug, "lang": "ru", "title": hit.title, "score": hit.score}


def test_a_russian_question_from_an_english_reader_lands_on_the_english_page() -> None:
    assert _keys(search_articles("отсрочка АГС сроки", "en"))[0].startswith("en/acs-")


def test_it_answers_in_another_language_when_there_is_no_translation() -> None:
    hits = search_articles("самоволка при мобилизации", "uk")
    assert hits
    if Article.objects.filter(organization__isnull=True, lang="uk", slug=hits[0].slug).exists():
        pytest.skip(f"{hits[0].slug} now has a Ukrainian version")
    assert hits[0].lang == "ru"


def test_a_ukrainian_question_about_acs_lands_on_the_ukrainian_page() -> None:
    hits = search_articles("як подати заяву на АГС, що написати", "uk")
    assert hits and (hits[0].lang, hits[0].slug) == ("uk", "acs-application")


def test_hits_of_an_organization_point_to_its_pages(alice: Persona) -> None:
    own_article(alice.org)
    hit = search_articles("повестка", "ru", alice.org)[0]
    assert hit.url.startswith("/kb/o/first/ru/")


def test_an_organizations_override_replaces_the_shipped_article_for_it_only(
        alice: Persona, charlie: Persona) -> None:
    own_article(alice.org, lang="en", slug="acs-deadlines", title="ACS dates of the first network",
                topic="acs", tags=["ACS", "deadline"], body_markdown="File by 1 April or 1 October.\n")
    ours = next(h for h in search_articles("ACS deadlines", "en", alice.org)
                if h.slug == "acs-deadlines")
    theirs = next(h for h in search_articles("ACS deadlines", "en", charlie.org)
                  if h.slug == "acs-deadlines")
    shipped = Article.objects.get(organization__isnull=True, lang="en", slug="acs-deadlines")
    assert ours.title == "ACS dates of the first network"
    assert ours.article_id != shipped.pk
    assert theirs.title == shipped.title and theirs.article_id == shipped.pk


def test_the_index_follows_edits_without_a_restart(alice: Persona) -> None:
    assert search_articles("zanzibar ferry", "en", alice.org) == []
    article = own_article(alice.org, title="The Zanzibar ferry")
    assert search_articles("zanzibar ferry", "en", alice.org)[0].slug == "our-office"
    article.title, article.updated = "Office hours", timezone.now()
    article.save()
    assert search_articles("zanzibar ferry", "en", alice.org) == []
    assert search_articles("office hours", "en", alice.org)[0].slug == "our-office"
    article.delete()
    assert "our-office" not in [h.slug for h in search_articles("office hours", "en", alice.org)]


def test_organizations_without_own_articles_share_the_shipped_index(alice: Persona,
                                                                    charlie: Persona) -> None:
    search_articles("повестка", "ru", alice.org)
    search_articles("повестка", "ru", charlie.org)
    search_articles("повестка", "ru")
    assert list(service._INDEXES) == [None]


def test_it_loads_the_shipped_articles_into_an_empty_database() -> None:
    Article.objects.all().delete()
    assert search_articles("повестка", "ru")
    assert Article.objects.filter(organization__isnull=True).count() > 50


@pytest.mark.parametrize(("query", "code"), [
    ("", "empty"), ("  \n ", "empty"), ("x" * 501, "too_long"), ("a\x00b", "binary"),
    ("\ufffd\ufffd", "binary"), (b"bytes", "not_text"),
])
def test_it_refuses_bad_queries_with_a_typed_error(query: object, code: str) -> None:
    with pytest.raises(QueryError) as caught:
        search_articles(query)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert service.query_error_message(caught.value)


def test_it_refuses_an_unknown_language() -> None:
    with pytest.raises(QueryError):
        search_articles("повестка", "de")
    assert service.normalize_lang("ru-RU") == "ru"
    assert service.normalize_lang("de") is None
    assert service.normalize_lang(None) is None


def test_cross_language_links_find_each_translation(alice: Persona) -> None:
    article = service.find_article(None, "ru", "asylum-germany")
    assert article is not None
    assert [a.lang for a in service.translations(article, None)] == ["uk", "en"]
    # An organization's article linked by "related" under another slug.
    ours = own_article(alice.org, lang="uk", slug="nashi-hodyny", related=["en/our-office"])
    own_article(alice.org, lang="en", slug="our-office", related=["uk/nashi-hodyny"])
    assert [a.key for a in service.translations(ours, alice.org)] == ["en/our-office"]


def test_article_text_for_telegram_is_escaped_and_links_to_the_article() -> None:
    hit = search_articles("electronic summons", "en")[0]
    text = service.article_text_for_telegram(hit)
    assert len(text) <= TELEGRAM_LIMIT
    assert text.startswith(f"<b>{html.escape(hit.title, quote=False)}</b>")
    assert text.endswith(f'<a href="{settings.SITE_URL}{hit.url}">Read the full article</a>')
    assert "This is general information, not legal advice." in text
    assert set(re.findall(r"</?(\w+)", text)) <= {"b", "a"}


def test_telegram_text_of_a_long_hostile_article_fits_and_stays_escaped(alice: Persona) -> None:
    body = ("<script>x</script> & <b>tag</b> " * 30 + "\n\n") * 40
    article = own_article(alice.org, body_markdown=body, title="<i>Title</i>")
    text = telegram_text(article, "/kb/o/first/en/our-office/")
    assert len(text) <= TELEGRAM_LIMIT
    assert "<script>" not in text and "<i>" not in text
    assert "&lt;script&gt;" in text and "&lt;i&gt;Title&lt;/i&gt;" in text
    assert "…" in text
    assert text.endswith(f'<a href="{settings.SITE_URL}/kb/o/first/en/our-office/">Read the full article</a>')
    assert not re.search(r"&[#\w]*…", text)


def test_the_reply_text_is_plain_with_sources_and_the_not_advice_line(alice: Persona) -> None:
    article = own_article(alice.org, body_markdown="## Hours\n\n- **Monday**\n- Friday\n")
    text = reply_text(article, "/kb/o/first/en/our-office/")
    assert text.startswith("Our office hours\n\nHours\n\n• Monday\n• Friday")
    assert "Sources:\n• Our rules — https://example.org/rules" in text
    assert text.count(NOT_ADVICE_PHRASES["en"].capitalize()) == 1
    assert "**" not in text and "<" not in text
    assert text.rstrip().endswith("/kb/o/first/en/our-office/")


def test_markdown_to_text_drops_raw_html() -> None:
    assert markdown_to_text("a <b>b</b>\n\n<div>c</div>") == "a <b>b</b>\n\n<div>c</div>"
