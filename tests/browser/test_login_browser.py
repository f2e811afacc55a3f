"""Logging in, inviting a colleague and switching language, as a person sees it in chromium."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, Request, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from haven.accounts import services
from tests.conftest import PASSWORD, Persona, make_org

from .conftest import NewContext

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRONG_LOGIN = "Wrong username, password or code."
JS_OFF = pytest.mark.parametrize("context", [False], indirect=True, ids=["js-off"])


def _fill_login(page: Page, username: str, password: str, code: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Log in").click()


def _log_in(page: Page, persona: Persona) -> None:
    _fill_login(page, persona.member.username, persona.password, persona.code())
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    # The code was spent; let the test log in again within the same 30 seconds.
    TOTPDevice.objects.filter(user=persona.member).update(last_t=-1)


def _open_organization(page: Page, live_server: LiveServer) -> None:
    page.get_by_role("banner").get_by_role("link", name="Organization").click()
    expect(page).to_have_url(live_server + "/org/")


def _member_row(page: Page, username: str) -> Locator:
    return page.get_by_role("table").get_by_role("row").filter(
        has=page.get_by_role("cell", name=username, exact=True)
    )


@JS_OFF
def test_it_logs_an_admin_in_without_javascript(page: Page, live_server: LiveServer) -> None:
    alice, _made = make_org("first", "alice")
    _log_in(page, alice)
    _open_organization(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("First")
    expect(page.get_by_text("You are logged in as Administrator")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Username", "Name", "Role", "State", "Actions"]
    )
    row = _member_row(page, "alice")
    expect(row).to_contain_text("Administrator")
    expect(row).to_contain_text("active")


@JS_OFF
def test_it_refuses_a_wrong_password_and_stays_on_the_login_page(
    page: Page, live_server: LiveServer
) -> None:
    alice, _made = make_org("first", "alice")
    _fill_login(page, "alice", alice.password + "x", alice.code())
    expect(page.get_by_role("alert")).to_have_text(WRONG_LOGIN)
    expect(page).to_have_url(live_server + "/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_label("Username")).to_have_value("alice")
    expect(page.get_by_label("Password")).to_have_value("")


def test_it_invites_a_colleague_who_then_logs_in(
    page: Page, new_context: NewContext, live_server: LiveServer, settings: Settings
) -> None:
    settings.SITE_URL = live_server.url  # the one-time link must point at this server
    alice, _made = make_org("first", "alice")
    _log_in(page, alice)
    _open_organization(page, live_server)

    expect(page.get_by_role("heading", name="Invite a colleague")).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Make an invitation link"))
    form.get_by_label("Username for the new member").fill("dora")
    form.get_by_label("Name shown to colleagues").fill("Dora Caseworker")
    form.get_by_label("Role").select_option(label="Caseworker")
    form.get_by_role("button", name="Make an invitation link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("One-time link")
    link = page.locator("code.link-box").inner_text().strip()
    assert link.startswith(live_server + "/invite/?t=")

    dora = new_context().new_page()
    dora.goto(link)
    expect(dora.get_by_role("heading", level=1)).to_have_text("Join First")
    expect(dora.get_by_role("main")).to_contain_text("Your username is dora")
    dora.get_by_label("New password", exact=True).fill(PASSWORD)
    dora.get_by_label("New password again").fill(PASSWORD)
    dora.get_by_role("button", name="Next").click()
    expect(dora.get_by_role("heading", level=2)).to_have_text("Step 2 of 2: add the second factor")
    key = dora.locator("code.key").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    dora.get_by_label("The 6-digit code your app shows now").fill(f"{totp(secret):06d}")
    dora.get_by_role("button", name="Finish").click()
    expect(dora.get_by_role("heading", level=1)).to_have_text("You are set up")
    codes = dora.get_by_role("main").get_by_role("listitem")
    expect(codes).to_have_count(services.BACKUP_CODES)
    for code in codes.all_inner_texts():
        assert re.fullmatch(r"\d{5}-\d{5}", code.strip()), code

    # The enrolment spent the current code; a real person would wait for the next one.
    TOTPDevice.objects.filter(user__username="dora").update(last_t=-1)
    dora.get_by_role("link", name="Log in now").click()
    _fill_login(dora, "dora", PASSWORD, f"{totp(secret):06d}")
    expect(dora.get_by_role("button", name="Log out")).to_be_visible()
    _open_organization(dora, live_server)
    expect(dora.get_by_text("You are logged in as Caseworker")).to_be_visible()
    expect(dora.get_by_role("heading", name="Invite a colleague")).to_have_count(0)

    page.goto("/org/")
    expect(_member_row(page, "dora")).to_contain_text("Dora Caseworker")
    expect(_member_row(page, "dora")).to_contain_text("active")


@pytest.mark.parametrize("context", [True, False], indirect=True, ids=["js-on", "js-off"])
def test_it_switches_the_language_of_the_page(page: Page, live_server: LiveServer) -> None:
    page.goto("/login/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    header = page.get_by_role("banner")
    for lang in ("uk", "en"):
        header.get_by_role("combobox").select_option(lang)
        header.get_by_role("button").click()
        expect(html).to_have_attribute("lang", lang)
        expect(page).to_have_url(live_server + "/login/")
        expect(header.get_by_role("combobox")).to_have_value(lang)


def _overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when it fits)."""
    return int(page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    ))


def test_it_fits_a_phone_screen_without_sideways_scrolling(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    page = new_context(phone=True).new_page()
    page.goto("/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.evaluate("() => document.documentElement.clientWidth") == 390
    assert _overflow(page) <= 0
    page.screenshot(path=tmp_path / "login-phone.png", full_page=True)

    alice, _made = make_org("first", "alice")
    _log_in(page, alice)  # lands on the page members start from
    assert _overflow(page) <= 0, page.url
    page.screenshot(path=tmp_path / "start-phone.png", full_page=True)
    _open_organization(page, live_server)
    expect(page.get_by_role("table")).to_be_visible()
    assert _overflow(page) <= 0
    page.screenshot(path=tmp_path / "organization-phone.png", full_page=True)


def test_pages_load_nothing_from_another_origin(
    context: BrowserContext, live_server: LiveServer
) -> None:
    requested: list[str] = []
    problems: list[str] = []

    def on_request(request: Request) -> None:
        requested.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":  # blocked resources and CSP violations show up here
            problems.append(message.text)

    context.on("request", on_request)
    context.on("console", on_console)
    page = context.new_page()
    alice, _made = make_org("first", "alice")

    page.goto("/")
    page.get_by_role("link", name="Log in as a member of an organization").click()
    _log_in(page, alice)
    _open_organization(page, live_server)
    page.get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    assert live_server + "/static/haven/haven.css" in requested  # the recording works
    foreign = [url for url in requested if not url.startswith(live_server + "/")]
    assert foreign == []
    assert problems == []

