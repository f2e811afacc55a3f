"""A ready reply used in the requester's language; the funds tables as cards on a phone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from haven.accounts.models import Role
from haven.cases import actions, rules
from haven.cases.models import CaseRecord, RecordKind
from tests.conftest import add_member, make_case, make_org
from tests.funds.conftest import donate, pay

from .conftest import NewContext
from .test_login_browser import _log_in, _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_caseworker_answers_a_ukrainian_requester_with_a_filled_ready_reply(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    bob = add_member(alice, "bob", Role.CASEWORKER)
    actions.save_reply(alice.member, alice.vault(), "ACS: next steps", {
        "ru": "Дело №{case}: подайте заявление до {deadline}. {organization}",
        "uk": "Справа №{case}: подайте заяву до {deadline}. {organization}",
        "en": "Case #{case}: apply by {deadline}. {organization}",
    }, "summons")
    actions.save_reply(alice.member, alice.vault(), "Bus tickets", {"ru": "Про билеты"}, "money")
    case = make_case(alice, "Прийшла повістка до ТЦК", lang="uk")
    actions.add_deadline(alice.member, alice.vault(), case, rules.due_at(date(2027, 4, 1)),
                         "ACS application")
    page = new_context().new_page()
    page.goto("/login/")
    _log_in(page, bob)
    page.goto(f"/desk/cases/{case.number}/")
    picker = page.get_by_label("Start from a ready reply")
    suggested = picker.locator("optgroup").first
    expect(suggested).to_have_attribute("label", "Suggested for Summons and mobilization")
    expect(suggested.locator("option")).to_have_text(["ACS: next steps (ru, uk, en)"])
    picker.select_option(label="ACS: next steps (ru, uk, en)")
    page.get_by_role("button", name="Use", exact=True).click()
    box = page.get_by_label("Reply", exact=True)
    expect(box).to_have_value(f"Справа №{case.number}: подайте заяву до 1 квітня 2027. "
                              f"{alice.org.name}")
    expect(page.get_by_role("status").filter(has_text="Ready reply")).to_contain_text(
        "Ready reply “ACS: next steps” in Українська.")
    page.screenshot(path=tmp_path / "ready-reply.png", full_page=True)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("article.record.outbound")).to_contain_text("подайте заяву до 1 квітня 2027")
    sent = CaseRecord.objects.get(case=case, kind=RecordKind.OUTBOUND)
    assert alice.case_vault(case).decrypt_text(bytes(sent.body)).startswith(f"Справа №{case.number}:")


@pytest.mark.usefixtures("ledger_rows_removed")
def test_the_funds_tables_are_cards_on_a_phone(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    alice, _made = make_org("first", "alice")
    for amount in (12_500, 990_000):
        donate(alice, amount, reference="Card donation with a long reference")
    pay(alice, 45_000, case=make_case(alice), payee="Intercity bus company of the region")
    page = new_context(phone=True).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    for url, label in (("/funds/donations/", "Channel"), ("/funds/payouts/", "Purpose")):
        page.goto(url)
        table = page.locator("table.cards").first
        card = table.locator("tbody tr").first
        assert card.evaluate("tr => getComputedStyle(tr).display") == "block"  # a card, not a row
        cell = card.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}: "'
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        # Nothing scrolls sideways: neither the page nor the table's frame.
        assert table.evaluate("t => t.parentElement.scrollWidth - t.parentElement.clientWidth") <= 0
        assert _overflow(page) <= 0
        page.screenshot(path=tmp_path / f"funds-{label}.png", full_page=True)
