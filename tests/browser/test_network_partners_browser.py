"""Two administrators on phones, JavaScript off: one asks, the other accepts; a partner on
another server is added from its card after comparing the fingerprint; the partnership ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

from haven.network import keys
from haven.network.models import Partner
from haven.network.partners import our_card
from tests.conftest import make_org

from .conftest import NewContext, speak
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_two_administrators_become_partners_and_one_ends_it_on_phones_without_javascript(
        new_context: NewContext, tmp_path: Path) -> None:
    alice, _made = make_org("first", "alice")
    charlie, _made = make_org("second", "charlie")
    dora, _made = make_org("third", "dora")
    first = new_context(javascript=False, phone=True).new_page()
    first.goto("/login/")
    _log_in(first, alice)
    first.goto("/desk/settings/")
    first.get_by_role("link", name="Partners: other organizations").click()
    expect(first.get_by_role("heading", name="Partner organizations")).to_be_visible()
    expect(first.get_by_text("No partners yet.")).to_be_visible()
    first.get_by_label("Organization").select_option(label="Second")
    first.get_by_role("button", name="Ask to become partners").click()
    expect(first.get_by_text("“Second” was asked to become your partner.")).to_be_visible()
    expect(first.get_by_text("Waiting for them to accept")).to_be_visible()
    _fits(first)

    second = new_context(javascript=False, phone=True).new_page()
    second.goto("/login/")
    _log_in(second, charlie)
    second.goto("/network/partners/")
    expect(second.get_by_text("“First” asks to become your partner.")).to_be_visible()
    second.screenshot(path=tmp_path / "partners-invited.png", full_page=True)
    second.get_by_role("button", name="Accept").click()
    expect(second.get_by_text("“First” is now your partner.")).to_be_visible()
    _fits(second)

    # A partner on "another server": its card names another address.
    with override_settings(SITE_URL="https://third.example"):
        card = our_card(dora.org).text()
    first.get_by_label("The partner's card").fill(card)
    first.get_by_role("button", name="Check the card").click()
    expect(first.get_by_role("heading", name="Compare the fingerprint")).to_be_visible()
    expect(first.locator("#their-fingerprint")).to_have_text(keys.org_fingerprint(dora.org))
    first.screenshot(path=tmp_path / "partners-compare.png", full_page=True)
    _fits(first)
    first.get_by_role("button", name="Add the partner").click()
    expect(first.get_by_role("alert")).to_contain_text("then tick the box")
    first.get_by_label("I compared this fingerprint").check()
    first.get_by_role("button", name="Add the partner").click()
    expect(first.get_by_text("“Third” is now your partner.")).to_be_visible()
    expect(first.get_by_text("https://third.example")).to_be_visible()
    first.screenshot(path=tmp_path / "partners-list.png", full_page=True)
    _fits(first)

    # Alice ends the partnership with Second, after a confirmation page.
    second_row = Partner.objects.get(organization=alice.org, local=charlie.org)
    first.goto(f"/network/partners/{second_row.pk}/end/")
    expect(first.get_by_text("its partnership with you ends at the same moment")).to_be_visible()
    first.get_by_role("button", name="End the partnership").click()
    expect(first.get_by_text("The partnership with “Second” has ended.")).to_be_visible()
    second.reload()
    expect(second.get_by_text("by the partner")).to_be_visible()
    assert Partner.objects.get(organization=charlie.org).state == Partner.State.ENDED
    for lang in ("ru", "uk"):
        speak(first.context, first.url, lang)
        first.goto("/network/partners/")
        expect(first.get_by_role("heading", level=1)).to_have_text(
            {"ru": "Организации-партнёры", "uk": "Організації-партнери"}[lang])
        _fits(first)
        first.screenshot(path=tmp_path / f"partners-{lang}.png", full_page=True)
