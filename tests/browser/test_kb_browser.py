"""An article on a phone without JavaScript: citations, the source list and the organizations box fit."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from haven.knowledge.models import Article

from .conftest import NewContext
from .test_login_browser import _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_URL = ("https://meduza.io/amp/news/2023/09/01/genprokuratura-ob-yavila-nezhelatelnym-fond-"
            "svobodnaya-buryatiya-kotoryy-vystupaet-protiv-voyny-v-ukraine")


def test_an_article_with_sources_and_an_undesirable_organization_fits_a_phone(
    new_context: NewContext, live_server: LiveServer
) -> None:
    Article.objects.create(
        organization=None, lang="en", slug="free-buryatia-help", title="Help from Buryatia",
        topic="military-service", tags=["help"], organizations=["free-buryatia"],
        sources=[{"title": "Meduza, 1 September 2023", "url": LONG_URL, "consulted": "2026-12-04"}],
        body_markdown="The Free Buryatia Foundation helped soldiers end contracts [1]. The age "
                      "limit is 65 (to be confirmed with a lawyer).\n\n"
                      "*This is general information, not legal advice.*\n")
    page = new_context(phone=True, javascript=False).new_page()
    page.goto("/kb/en/free-buryatia-help/")
    box = page.locator("section.kb-orgs")
    expect(box).to_contain_text("“Undesirable” organization in Russia since 1 September 2023")
    expect(box.locator(".kb-danger")).to_be_visible()
    expect(page.locator("mark.kb-confirm")).to_have_text("to be confirmed with a lawyer")
    page.locator("sup.kb-cite a").first.click()
    assert page.url.endswith("#source-1")
    expect(page.locator("#source-1")).to_contain_text("consulted 2026-12-04")
    assert _overflow(page) <= 0
    bounds = box.bounding_box()
    assert bounds is not None and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 390


def test_a_search_from_the_form_keeps_the_question_out_of_the_address(
    new_context: NewContext, live_server: LiveServer
) -> None:
    Article.objects.create(
        organization=None, lang="en", slug="summons-register", title="The summons register",
        topic="military-service", tags=["summons"], sources=[],
        body_markdown="A summons counts as delivered once it is in the register.\n\n"
                      "*This is general information, not legal advice.*\n")
    page = new_context(phone=True, javascript=False).new_page()
    page.goto("/kb/?lang=en")
    page.fill("#kb-q", "summons register")
    page.select_option("#kb-lang", "en")
    page.locator("form.kb-search button[type=submit]").click()
    expect(page.locator("ol.kb-results")).to_contain_text("The summons register")
    assert "summons" not in page.url and "?" not in page.url
    page.goto("/kb/search/?q=summons+register&lang=en")  # an old link: the form, filled in
    expect(page.locator("#kb-q")).to_have_value("summons register")
    expect(page.locator("ol.kb-results")).to_have_count(0)
