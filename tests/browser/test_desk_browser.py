"""The desk's queue on a phone: one card per case, nothing cut off, nothing to scroll sideways."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import make_case, make_org

from .conftest import NewContext
from .test_login_browser import _log_in, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_queue_shows_each_case_as_a_card_on_a_phone(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    for text in ("A summons came to my registered address", "My son was wounded and is in hospital"):
        make_case(alice, text)
    page = new_context(phone=True).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto("/desk/")
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(2)
    page.screenshot(path=tmp_path / "queue-phone.png", full_page=True)
    assert _overflow(page) <= 0
    table = page.locator("table.cases")
    # The table itself fits: nothing hides behind a sideways scroll inside its frame.
    assert table.evaluate("t => t.parentElement.scrollWidth - t.parentElement.clientWidth") <= 0
    card = rows.filter(has_text="wounded")
    expect(card.get_by_role("link", name="My son was wounded and is in hospital")).to_be_visible()
    for label in ("Category", "Status", "Assigned to", "Next deadline", "Arrived"):
        cell = card.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}: "'
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_the_case_form_saves_with_one_button_on_a_phone(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    case = make_case(alice, "Прийшла повістка до ТЦК", lang="uk")
    page = new_context(phone=True).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.goto("/desk/")
    expect(page.locator('td.summary .badge.lang[lang="uk"]')).to_have_text("UK")
    assert _overflow(page) <= 0
    page.goto(f"/desk/cases/{case.number}/")
    form = page.locator("form.case-form")
    expect(form.get_by_role("button")).to_have_count(1)
    expect(form.get_by_label("Status")).to_have_value("new")  # the current one, not the first
    form.get_by_label("Priority").select_option(label="Urgent")
    form.get_by_label("Tags, separated by commas").fill("family")
    form.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: priority, tags.")
    expect(page.locator(".facts")).to_contain_text("Urgent")
    expect(page.locator(".facts")).to_contain_text("UTC")  # times say their zone
    page.screenshot(path=tmp_path / "case-phone.png", full_page=True)
    assert _overflow(page) <= 0
