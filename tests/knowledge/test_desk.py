"""The knowledge base on the desk: the case page's panel and the ready reply text."""

from __future__ import annotations

import pytest
from django.test import Client

from haven.knowledge.desk import reply_text_for, suggestions_for_case
from tests.conftest import Persona, make_case

from .conftest import own_article

pytestmark = pytest.mark.usefixtures("shipped")


def _panel(html: str) -> str:
    return html.split('class="kb-panel"', 1)[1].split("</section>", 1)[0]


def test_the_case_page_suggests_articles_for_the_category(alice: Persona, bob_client: Client) -> None:
    case = make_case(alice, category="acs")
    response = bob_client.get(f"/desk/cases/{case.number}/")
    assert response.status_code == 200
    panel = _panel(response.content.decode())
    assert 'href="/kb/o/first/en/acs-' in panel
    assert f"/desk/cases/{case.number}/?use_article=en%2Facs-" in panel


def test_the_case_page_searches_the_question_typed(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    response = alice_client.get(f"/desk/cases/{case.number}/", {"kb": "не опоздал ли я с заявлением на АГС?",
                                                                 "kb_lang": "ru"})
    panel = _panel(response.content.decode())
    assert 'href="/kb/o/first/ru/acs-late-filing/"' in panel
    assert "use_article=ru%2Facs-late-filing" in panel and "kb_lang=ru" in panel


def test_a_bad_question_on_the_case_page_gets_a_message(alice: Persona, alice_client: Client) -> None:
    case = make_case(alice)
    response = alice_client.get(f"/desk/cases/{case.number}/", {"kb": "x" * 2000})
    assert response.status_code == 200
    assert "too long" in _panel(response.content.decode())


def test_suggestions_use_the_organizations_own_articles(alice: Persona, charlie: Persona) -> None:
    own_article(alice.org, title="Zanzibar ferry timetable")
    assert suggestions_for_case(alice.member, "zanzibar ferry", "en")[0].slug == "our-office"
    assert all(h.slug != "our-office" for h in suggestions_for_case(charlie.member, "zanzibar ferry", "en"))


def test_the_reply_text_of_an_article(alice: Persona, charlie: Persona) -> None:
    text = reply_text_for(alice.member, "ru/acs-deadlines")
    assert text.startswith("Сроки подачи заявления на АГС\n\n")
    assert "Это общая информация, а не юридическая консультация." in text
    assert text.rstrip().endswith("/kb/o/first/ru/acs-deadlines/")
    own_article(alice.org, slug="our-office")
    assert reply_text_for(alice.member, "en/our-office").startswith("Our office hours")
    assert reply_text_for(charlie.member, "en/our-office") == ""
    for bad in ("", "ru", "de/acs-deadlines", "ru/../x", "ru/no-such"):
        assert reply_text_for(alice.member, bad) == ""


def test_an_empty_question_on_the_case_page_falls_back_to_the_category(alice: Persona,
                                                                       alice_client: Client) -> None:
    case = make_case(alice, category="acs")
    panel = _panel(alice_client.get(f"/desk/cases/{case.number}/", {"kb": "  "}).content.decode())
    assert 'href="/kb/o/first/en/acs-' in panel and "error" not in panel


def test_use_as_reply_puts_the_article_in_the_reply_box(alice: Persona, bob_client: Client) -> None:
    case = make_case(alice)
    response = bob_client.get(f"/desk/cases/{case.number}/", {"use_article": "ru/acs-deadlines"})
    box = response.content.decode().split('id="reply-text"', 1)[1].split("</textarea>", 1)[0]
    assert "Сроки подачи заявления на АГС" in box
    assert "Это общая информация, а не юридическая консультация." in box
    assert "/kb/o/first/ru/acs-deadlines/" in box
    other = bob_client.get(f"/desk/cases/{case.number}/", {"use_article": "ru/../../etc"})
    assert other.status_code == 200
