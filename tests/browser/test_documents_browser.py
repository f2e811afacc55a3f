"""A caseworker drafts the ACS application from a case's answers, edits it and exports it,
on a phone and with JavaScript off (the page is one plain form)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import make_case, make_org
from tests.documents.pdftext import pdf_text
from tests.documents.test_drafts import PLANNING, intake_record

from .conftest import NewContext
from .test_login_browser import _log_in, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False])
def test_drafting_editing_and_exporting_the_application(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path, javascript: bool
) -> None:
    alice, _made = make_org("first", "alice")
    case = make_case(alice, "АГС", category="acs", lang="ru", answers=intake_record("ru", PLANNING))
    page = new_context(phone=True, javascript=javascript).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto(f"/desk/cases/{case.number}/")
    page.get_by_role("link", name="Application for alternative civilian service").click()
    text = page.get_by_label("Text of the document")
    expect(text).to_be_visible()
    assert "2004 года рождения" in text.input_value()
    expect(page.locator(".document-gaps")).to_contain_text("фамилия, имя, отчество заявителя")
    expect(page.locator(".document-confirm")).to_be_visible()
    expect(page.get_by_role("link", name="Новости Mail.ru", exact=False)).to_have_attribute(
        "href", "https://news.mail.ru/politics/69963301/")
    assert _overflow(page) <= 0
    page.screenshot(path=tmp_path / "document-phone.png", full_page=True)

    text.fill(text.input_value().replace("[заполнить: фамилия, имя, отчество заявителя]",
                                         "Петрова Петра Петровича"))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("The draft was saved.")
    expect(page.locator(".document-gaps")).not_to_contain_text("фамилия, имя, отчество")
    assert "Петрова Петра Петровича" in page.get_by_label("Text of the document").input_value()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Save and export as PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"acs-application-{case.number}.pdf"
    read = " ".join(pdf_text(Path(download.path()).read_bytes()).split())
    assert "Петрова Петра Петровича" in read and "ЗАЯВЛЕНИЕ" in read
