"""The coordinator's pages: who may edit, own articles, overrides, reviews, audit."""

from __future__ import annotations

import pytest
from django.test import Client

from haven.audit import chain
from haven.audit.models import AuditEntry
from haven.knowledge.models import Article
from tests.conftest import Persona, log_in

from .conftest import own_article

pytestmark = pytest.mark.usefixtures("shipped")

NEW = {"lang": "en", "slug": "our-office", "title": "Our office", "topic": "money",
       "body_markdown": "Open on weekdays.\n\n*This is general information, not legal advice.*",
       "tags": "office, hours", "sources": "Our rules | https://example.org/rules\nA leaflet",
       "related": ""}


def _actions(persona: Persona) -> list[tuple[str, dict[str, object]]]:
    return [(e.action, e.detail) for e in
            AuditEntry.objects.filter(organization=persona.org).order_by("seq")
            if e.action.startswith("kb.")]


def test_a_coordinator_sees_shipped_and_own_articles(dana: Persona, client: Client) -> None:
    own_article(dana.org)
    response = log_in(client, dana).get("/kb/manage/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Our office hours" in html and "ACS deadlines" in html
    assert "/kb/manage/en/acs-deadlines/override/" in html


@pytest.mark.parametrize("url", ["/kb/manage/", "/kb/manage/new/", "/kb/manage/posts/",
                                 "/kb/manage/en/our-office/edit/"])
def test_a_caseworker_gets_404(alice: Persona, bob_client: Client, url: str) -> None:
    own_article(alice.org)
    assert bob_client.get(url).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/kb/manage/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_organizations_article_is_404(alice: Persona, charlie_client: Client) -> None:
    own_article(alice.org)
    assert charlie_client.get("/kb/manage/en/our-office/edit/").status_code == 404
    assert charlie_client.post("/kb/manage/en/our-office/delete/").status_code == 404
    assert charlie_client.post("/kb/manage/en/our-office/edit/", {**NEW, "title": "X"}).status_code == 404
    assert Article.objects.get(organization=alice.org).title == "Our office hours"
    assert "Our office hours" not in charlie_client.get("/kb/manage/").content.decode()


def test_a_coordinator_creates_and_edits_an_own_article(dana: Persona, client: Client) -> None:
    log_in(client, dana)
    response = client.post("/kb/manage/new/", NEW)
    assert response.status_code == 302
    article = Article.objects.get(organization=dana.org, slug="our-office")
    assert article.tags == ["office", "hours"]
    assert article.sources == [{"title": "Our rules", "url": "https://example.org/rules"},
                               {"title": "A leaflet", "url": None}]
    response = client.post("/kb/manage/en/our-office/edit/", {**NEW, "title": "Office, updated"})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Office, updated"
    assert _actions(dana) == [("kb.article.created", {"lang": "en", "slug": "our-office"}),
                              ("kb.article.edited", {"lang": "en", "slug": "our-office"})]
    assert chain.verify(dana.org.pk) is None


@pytest.mark.parametrize(("change", "field"), [
    ({"slug": "Not A Slug"}, "slug"),
    ({"sources": "A title | javascript:alert(1)"}, "sources"),
    ({"sources": ""}, "sources"),
    ({"related": "en/other"}, "related"),
    ({"related": "nonsense"}, "related"),
    ({"topic": "weather"}, "topic"),
])
def test_a_bad_article_form_says_what_to_fix(alice_client: Client, change: dict[str, str],
                                              field: str) -> None:
    response = alice_client.post("/kb/manage/new/", {**NEW, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Article.objects.filter(organization__isnull=False).exists()


def test_a_second_article_with_the_same_name_is_refused(alice: Persona, alice_client: Client) -> None:
    own_article(alice.org)
    response = alice_client.post("/kb/manage/new/", NEW)
    assert response.status_code == 400
    assert "already has an article" in response.content.decode()


def test_overriding_copies_the_shipped_article_into_the_organization(
        alice: Persona, alice_client: Client, client: Client) -> None:
    response = alice_client.post("/kb/manage/ru/acs-deadlines/override/")
    assert response["Location"] == "/kb/manage/ru/acs-deadlines/edit/"
    shipped = Article.objects.get(organization__isnull=True, lang="ru", slug="acs-deadlines")
    copy = Article.objects.get(organization=alice.org, lang="ru", slug="acs-deadlines")
    assert (copy.title, copy.body_markdown, copy.sources) == (shipped.title, shipped.body_markdown,
                                                              shipped.sources)
    edit = alice_client.get("/kb/manage/ru/acs-deadlines/edit/")
    form = edit.context["form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(title="Наша версия сроков", unverified="")
    assert alice_client.post("/kb/manage/ru/acs-deadlines/edit/", data).status_code == 302
    assert "Наша версия сроков" in client.get("/kb/o/first/ru/acs-deadlines/").content.decode()
    assert "Наша версия сроков" not in client.get("/kb/ru/acs-deadlines/").content.decode()
    assert _actions(alice)[0] == ("kb.article.overridden", {"lang": "ru", "slug": "acs-deadlines"})


def test_overriding_an_unknown_article_is_404_and_needs_post(alice_client: Client) -> None:
    assert alice_client.post("/kb/manage/ru/no-such/override/").status_code == 404
    assert alice_client.get("/kb/manage/ru/acs-deadlines/override/").status_code == 405


def test_deleting_an_override_shows_the_shipped_article_again(
        alice: Persona, alice_client: Client, client: Client) -> None:
    own_article(alice.org, lang="ru", slug="acs-deadlines", title="Наши сроки", topic="acs")
    assert alice_client.post("/kb/manage/ru/acs-deadlines/delete/").status_code == 302
    assert not Article.objects.filter(organization=alice.org).exists()
    html = client.get("/kb/o/first/ru/acs-deadlines/").content.decode()
    assert "Сроки подачи заявления на АГС" in html
    assert _actions(alice) == [("kb.article.deleted", {"lang": "ru", "slug": "acs-deadlines"})]
