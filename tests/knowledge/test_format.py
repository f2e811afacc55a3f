"""The article format on every surface: citations, sources, the organizations box, short texts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from haven.knowledge.models import Article, ChannelPost
from haven.knowledge.plaintext import markdown_to_text, reply_text, telegram_text
from haven.knowledge.posts import render_post
from haven.knowledge.service import article_text_for_telegram, search_articles
from tests.conftest import Persona, make_case

from .conftest import own_article

NOT_ADVICE = {
    "ru": "*Это общая информация, а не юридическая консультация.*",
    "uk": "*Це загальна інформація, а не юридична консультація.*",
    "en": "*This is general information, not legal advice.*",
}
BODIES = {
    "ru": "Выезд запрещён со дня размещения повестки в реестре [1][2].\n\n"
          "Фонд «Свободная Бурятия» помогает военным [2]. Возраст 65 лет "
          "(требует подтверждения юристом).\n\n",
    "uk": "Виїзд заборонено з дня розміщення повістки в реєстрі [1][2].\n\n"
          "Фонд «Вільна Бурятія» допомагає військовим [2]. Вік 65 років "
          "(потребує підтвердження юристом).\n\n",
    "en": "Leaving is banned from the day the summons is placed in the register [1][2].\n\n"
          "The Free Buryatia Foundation helps soldiers [2]. The age limit is 65 "
          "(to be confirmed with a lawyer).\n\n",
}
SOURCES = [
    {"title": "53-FZ Art. 7.1", "consulted": "2026-03",
     "url": "https://www.consultant.ru/document/cons_doc_LAW_18260/"
            "dc940acbd42ce7edc1bdb8be8fcb13e3bd02820d/"},
    {"title": "Meduza, 26 July 2023", "consulted": "2026-12-04",
     "url": "https://meduza.io/news/2023/07/26/example-page"},
]
# What the page says around the article, in the reader's (site) language.
PAGE_WORDS = {
    "ru": ("Источники", "проверено 2026-03", "Организации в этой статье",
           "«нежелательная» в России"),
    "uk": ("Джерела", "перевірено 2026-03", "Організації в цій статті", "«небажана» в Росії"),
    "en": ("Sources", "consulted 2026-03", "Organizations named here", "undesirable in Russia"),
}
# What the box says about the organization, in the article's language.
STATUS_WORDS = {
    "ru": ("Фонд «Свободная Бурятия»", "«Нежелательная» организация в России с 01.09.2023",
           "ст. 284.1 УК"),
    "uk": ("Фонд «Вільна Бурятія»", "«Небажана» організація в Росії з 01.09.2023",
           "ст. 284.1 КК РФ"),
    "en": ("Free Buryatia Foundation", "“Undesirable” organization in Russia since 1 September 2023",
           "Article 284.1 of the Criminal Code"),
}


def _shipped(lang: str, slug: str = "exit-ban", **kw: Any) -> Article:
    """A shipped row (so the knowledge folder is not loaded) in the new format."""
    values: dict[str, Any] = {
        "title": {"ru": "Запрет на выезд", "uk": "Заборона виїзду", "en": "Exit ban"}[lang],
        "topic": "summons", "tags": ["summons"], "sources": SOURCES,
        "organizations": ["free-buryatia"], "body_markdown": BODIES[lang] + NOT_ADVICE[lang],
        **kw}
    return Article.objects.create(organization=None, lang=lang, slug=slug, **values)


def _html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_page_links_each_marker_to_a_numbered_source_list(db: None, client: Client,
                                                              lang: str) -> None:
    _shipped(lang)
    client.post("/i18n/setlang/", {"language": lang, "next": "/kb/"})
    html = _html(client, f"/kb/{lang}/exit-ban/")
    body = html.split('class="kb-body"', 1)[1].split("</div>", 1)[0]
    assert ('<sup class="kb-cite"><a href="#source-1">[1]</a></sup>'
            '<sup class="kb-cite"><a href="#source-2">[2]</a></sup>') in body
    assert "[1]</a></sup>" in body and "[1][2]" not in body
    sources = html.split('class="kb-sources"', 1)[1].split("</section>", 1)[0]
    assert '<li id="source-1">' in sources and '<li id="source-2">' in sources
    assert sources.index('id="source-1"') < sources.index('id="source-2"')
    assert (f'<a href="{SOURCES[0]["url"]}" rel="noopener noreferrer nofollow">'
            in sources)
    for word in PAGE_WORDS[lang][:2]:
        assert word in sources
    assert {"ru": "проверено", "uk": "перевірено", "en": "consulted"}[lang] + " 2026-12-04" in sources


@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_page_shows_the_status_of_each_organization_named(db: None, client: Client,
                                                              lang: str) -> None:
    _shipped(lang)
    client.post("/i18n/setlang/", {"language": lang, "next": "/kb/"})
    html = _html(client, f"/kb/{lang}/exit-ban/")
    box = html.split('class="kb-orgs"', 1)[1].split("</section>", 1)[0]
    assert html.index('class="kb-orgs"') < html.index('class="kb-body"')  # before the text
    assert 'class="kb-org kb-org-undesirable" role="note"' in box
    for word in (*PAGE_WORDS[lang][2:], *STATUS_WORDS[lang]):
        assert word in box, word
    assert 'href="https://www.rbc.ru/politics/01/09/2023/64f204f89a79471fae860bde"' in box


def test_the_page_marks_the_claims_still_to_be_confirmed(db: None, client: Client) -> None:
    _shipped("ru")
    html = _html(client, "/kb/ru/exit-ban/")
    assert '<mark class="kb-confirm">требует подтверждения юристом</mark>' in html


def test_an_organizations_own_article_shows_the_status_of_what_it_names(
    db: None, client: Client, alice: Persona
) -> None:
    # Written on the desk, it has no list: the body alone brings the box.
    own_article(alice.org, body_markdown="Feminist Anti-War Resistance publishes reports.\n")
    html = _html(client, "/kb/o/first/en/our-office/")
    box = html.split('class="kb-orgs"', 1)[1].split("</section>", 1)[0]
    assert "Feminist Anti-War Resistance (FAR)" in box
    assert "since 25 April 2024" in box


def test_an_article_naming_no_organization_has_no_box(db: None, client: Client) -> None:
    _shipped("en", organizations=[], body_markdown="Leaving is banned [1][2].\n\n" + NOT_ADVICE["en"])
    assert 'class="kb-orgs"' not in _html(client, "/kb/en/exit-ban/")


def test_search_text_and_snippets_have_no_markers(db: None, client: Client) -> None:
    article = _shipped("en")
    text = markdown_to_text(article.body_markdown)
    assert "[1]" not in text and "[2]" not in text
    assert text.startswith("Leaving is banned from the day the summons is placed in the register.")
    found = client.post("/kb/search/", {"q": "summons register", "lang": "en"})
    assert found.status_code == 200
    html = found.content.decode()
    assert "/kb/en/exit-ban/" in html and "[1]" not in html
    assert search_articles("register", lang="en")[0].slug == "exit-ban"


@pytest.mark.parametrize(("lang", "warning"), [
    ("ru", "⚠ Фонд «Свободная Бурятия»: «Нежелательная» организация в России с 01.09.2023."),
    ("uk", "⚠ Фонд «Вільна Бурятія»: «Небажана» організація в Росії з 01.09.2023."),
    ("en", "⚠ Free Buryatia Foundation: “Undesirable” organization in Russia since 1 September"),
])
def test_the_telegram_text_warns_and_drops_markers(db: None, lang: str, warning: str) -> None:
    article = _shipped(lang)
    text = telegram_text(article, f"/kb/{lang}/exit-ban/")
    assert warning in text
    assert "284.1" in text
    assert "[1]" not in text and "[2]" not in text


def test_the_warning_survives_when_a_long_article_is_shortened(db: None) -> None:
    long_body = BODIES["en"] + ("More words about the register. " * 400) + NOT_ADVICE["en"]
    article = _shipped("en", body_markdown=long_body)
    text = telegram_text(article, "/kb/en/exit-ban/")
    assert len(text) <= 4096
    assert "⚠ Free Buryatia Foundation" in text and "…" in text


def test_only_designated_organizations_get_a_telegram_warning(db: None) -> None:
    body = ("Connection e.V. advises on asylum [1]. OVD-Info reported it [2].\n\n"
            + NOT_ADVICE["en"])
    article = _shipped("en", organizations=["connection", "ovd-info"], body_markdown=body)
    text = telegram_text(article, "/kb/en/exit-ban/")
    assert "⚠ OVD-Info: “Foreign agent” in Russia since 29 September 2021." in text
    assert "⚠ Connection" not in text


def test_the_bot_answer_and_the_desk_reply_carry_the_warning(db: None) -> None:
    _shipped("en")
    hit = search_articles("register summons", lang="en")[0]
    assert "⚠ Free Buryatia Foundation" in article_text_for_telegram(hit)
    reply = reply_text(Article.objects.get(slug="exit-ban"), "/kb/en/exit-ban/")
    assert "⚠ Free Buryatia Foundation" in reply and "[1]" not in reply


def test_the_desk_panel_shows_the_organizations_box(alice: Persona, alice_client: Client) -> None:
    _shipped("en")
    case = make_case(alice)
    response = alice_client.get(f"/desk/cases/{case.number}/",
                                {"kb": "summons register", "kb_lang": "en"})
    panel = response.content.decode().split('class="kb-panel"', 1)[1]
    assert 'href="/kb/o/first/en/exit-ban/"' in panel
    box = panel.split('class="kb-orgs"', 1)[1].split("</section>", 1)[0]
    assert "Free Buryatia Foundation" in box and "284.1" in box
    assert 'class="kb-org kb-org-undesirable"' in box


def test_a_channel_post_of_the_article_carries_the_warning(alice: Persona) -> None:
    article = _shipped("ru")
    post = ChannelPost.objects.create(organization=alice.org, article=article, lang="ru",
                                      scheduled_for=timezone.now())
    text = render_post(post)
    assert "⚠ Фонд «Свободная Бурятия»: «Нежелательная» организация в России с 01.09.2023." in text
    assert "[1]" not in text and "/kb/o/first/ru/exit-ban/" in text
