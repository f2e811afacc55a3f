"""Referrals in as chromium draws them: on a phone, without JavaScript, in every interface
language, a coordinator finds the waiting referral from the desk, reads it and accepts it;
no page scrolls sideways and the console stays clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from haven.accounts.models import Organization
from haven.network import envelope as env
from haven.network import inbox
from haven.network.models import IncomingReferral, Partner
from haven.vault import generate_keypair
from tests.conftest import make_org
from tests.network.test_referral_in import STORY, _package, _partners, _referral

from .conftest import LANGS, NewContext, console_errors, speak
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("ledger_rows_removed")]

PAGE_SCROLLS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"


@pytest.mark.parametrize("lang", LANGS)
def test_a_coordinator_accepts_a_referral_on_a_phone_without_javascript(
        new_context: NewContext, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch,
        lang: str) -> None:
    monkeypatch.setitem(inbox.HANDLERS, env.Kind.RECEIPT, lambda *args: "noted")
    alice, _made = make_org("first", "alice")
    charlie, _other = make_org("second", "charlie")
    receiver = Organization.objects.get(pk=alice.org.pk)
    _partners(charlie.org, receiver)
    inbox.receive(_referral(charlie, receiver, _package(generate_keypair().public)), via="test")
    context = new_context(javascript=False, phone=True)
    errors = console_errors(context)
    page = context.new_page()
    _log_in(page, alice)
    speak(context, live_server.url, lang)
    page.goto("/desk/")
    page.locator("a[href='/network/incoming/']").first.click()
    assert not page.evaluate(PAGE_SCROLLS)
    page.get_by_role("link", name="Second").click()
    expect(page.locator("main")).to_contain_text(STORY)
    assert not page.evaluate(PAGE_SCROLLS)
    page.locator("form[action$='/accept/'] button[type=submit]").click()
    row = IncomingReferral.objects.get()
    assert row.state == "accepted" and row.case is not None
    expect(page.locator(f"main a[href='/desk/cases/{row.case.number}/']")).to_be_visible()
    assert not page.evaluate(PAGE_SCROLLS)
    assert Partner.objects.filter(organization=receiver).count() == 1
    assert errors == []
