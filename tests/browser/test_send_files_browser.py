"""A caseworker sends a template to a Telegram and a web requester; the web requester
downloads it with the codename and sends a file back, which the caseworker sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from haven import outbox
from haven.cases.models import Case, Channel
from haven.outbox.models import Outbox
from haven.telegram import bots
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Mode
from tests.conftest import Persona, make_org
from tests.intake.test_pdf_scripts import PLAIN
from tests.telegram.conftest import TOKEN, telegram_case

from .conftest import NewContext
from .test_intake_browser import EN, _intake
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEMPLATE = PLAIN.replace(b"%%EOF", b"% application template\n%%EOF")


def _send_template(page: Page, case: Case) -> None:
    page.goto(f"/desk/cases/{case.number}/")
    page.get_by_label("Reply", exact=True).fill("Fill in this application, please.")
    page.get_by_label("Attach a file (optional)").set_input_files(
        files=[{"name": "application.pdf", "mimeType": "application/pdf", "buffer": TEMPLATE}])
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".thread")).to_contain_text("application.pdf")
    expect(page.locator(".thread")).to_contain_text("sent to the requester")


def _deliver() -> None:
    for _round in range(20):
        outbox.run_once()
        if not Outbox.objects.exists():
            return
    raise AssertionError("the outbox never emptied")


def test_a_template_reaches_telegram_and_the_web_and_a_file_comes_back(
        new_context: NewContext, live_server: LiveServer, settings: Any, tmp_path: Path) -> None:
    alice: Persona
    alice, _made = make_org("first", "alice")
    with FakeTelegram() as fake:
        settings.HAVEN_TELEGRAM_API_URL = fake.url
        bots.set_token(alice.member, TOKEN)
        bot = bots.set_mode(alice.member, Mode.POLLING)
        fake.open_chat(TOKEN, 8401)
        telegram = telegram_case(alice, bot, 8401)

        requester = new_context(phone=True).new_page()
        requester.goto("/o/first/")
        codename = _intake(requester, EN, "They want papers for the commission.")
        web = Case.objects.get(organization=alice.org, channel=Channel.WEB)

        desk = new_context().new_page()
        desk.goto("/login/")
        _log_in(desk, alice)
        _send_template(desk, telegram)
        _send_template(desk, web)
        _deliver()

        [document] = [m for m in fake.sent_to(TOKEN, 8401) if m.get("document")]
        assert document["document"]["file_name"] == "application.pdf"
        assert fake.files[document["document"]["file_id"]] == TEMPLATE

    requester.goto("/o/first/follow-up/")
    requester.get_by_label(EN["codename"]).fill(codename)
    requester.get_by_role("button", name=EN["open"]).click()
    expect(requester.get_by_role("main")).to_contain_text("Fill in this application, please.")
    with requester.expect_download() as download:
        requester.get_by_role("button", name="Download application.pdf").click()
    assert Path(download.value.path()).read_bytes() == TEMPLATE

    requester.get_by_label(EN["write"]).fill("Here it is, filled in.")
    requester.get_by_label("Files (at most 3").set_input_files(
        files=[{"name": "filled.pdf", "mimeType": "application/pdf", "buffer": TEMPLATE}])
    requester.get_by_role("button", name=EN["reply"], exact=True).click()
    expect(requester.get_by_role("status")).to_have_text(EN["sent"])
    expect(requester.get_by_role("main")).to_contain_text("File: filled.pdf")
    requester.screenshot(path=tmp_path / "follow-up-phone.png", full_page=True)

    desk.goto(f"/desk/cases/{web.number}/")
    expect(desk.locator(".thread")).to_contain_text("Here it is, filled in.")
    with desk.expect_download() as back:
        desk.get_by_role("link", name="Download filled.pdf").click()
    assert Path(back.value.path()).read_bytes() == TEMPLATE
