"""Reviewing a knowledge article on a phone: the changes, the buttons, the reader's warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from haven.accounts import services
from haven.knowledge.loader import load_shipped
from tests.conftest import make_org
from tests.knowledge.conftest import own_article

from .conftest import NewContext
from .test_login_browser import _log_in, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_LINE = "A very long line without spaces: " + "https://example.org/" + "x" * 120


def test_a_reviewer_sees_the_changes_and_marks_the_law_changed_on_a_phone(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    load_shipped()
    alice, _made = make_org("first", "alice")
    services.set_knowledge_reviewer(alice.member, alice.member, True)
    article = own_article(alice.org, body_markdown="We answer on weekdays.\n")
    page = new_context(phone=True, javascript=False).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto("/kb/manage/en/our-office/review/")
    page.get_by_role("button", name="Mark reviewed today").click()
    expect(page.locator(".kb-review").first).to_contain_text("Reviewed on")
    article.body_markdown = f"We answer on weekends.\n\n{LONG_LINE}\n"
    article.save()
    page.goto("/kb/manage/en/our-office/review/")
    expect(page.locator(".kb-diff-added").first).to_contain_text("Added:")
    expect(page.locator(".kb-diff-removed")).to_contain_text("We answer on weekdays.")
    page.screenshot(path=tmp_path / "review-phone.png", full_page=True)
    assert _overflow(page) <= 0
    page.get_by_label("Note for readers (optional)").fill("New law from 1 March")
    page.get_by_role("button", name="Law changed — under review").click()
    page.goto("/kb/o/first/en/our-office/")
    expect(page.locator(".kb-law-changed")).to_contain_text("New law from 1 March")
    page.screenshot(path=tmp_path / "article-phone.png", full_page=True)
    assert _overflow(page) <= 0
