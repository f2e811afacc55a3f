"""A coordinator on a phone, JavaScript off: preview a broadcast, send it, watch it go out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from haven import outbox
from haven.broadcast import actions as broadcasts
from haven.cases.models import CaseRecord, RecordKind
from tests.conftest import RecordingHandler, make_case, make_org

from .conftest import NewContext
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def web_channel(monkeypatch: pytest.MonkeyPatch) -> RecordingHandler:
    handler = RecordingHandler()
    monkeypatch.setitem(outbox.HANDLERS, "web", handler)
    return handler


def test_a_coordinator_previews_sends_and_follows_a_broadcast_without_javascript(
        new_context: NewContext, web_channel: RecordingHandler, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broadcasts, "BATCH", 2)  # five cases: three requests prepare them
    alice, _made = make_org("first", "alice")
    for lang in ("ru", "ru", "uk", "uk", "en"):
        make_case(alice, "Повестка", lang=lang)
    page = new_context(javascript=False, phone=True).new_page()
    page.goto("/login/")
    _log_in(page, alice)
    page.get_by_role("link", name="Broadcasts").click()
    page.get_by_role("link", name="New broadcast").click()
    page.get_by_label("Message in Русский").fill("Закон изменился. Дело №{case}.")
    page.get_by_label("Message in Українська").fill("Закон змінився. Справа №{case}.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "1 case is in English and the message has no English version.")
    expect(page.get_by_role("button", name="Send to 5 cases")).to_have_count(0)
    page.get_by_label("For requesters whose language has no version, send").select_option("ru")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview")).to_contain_text(
        "This will reach 5 cases: 5 on the web follow-up page; 2 ru, 2 uk, 1 en.")
    page.screenshot(path=tmp_path / "broadcast-preview.png", full_page=True)
    page.get_by_role("button", name="Send to 5 cases").click()
    # The page refreshes itself (meta refresh) batch by batch until all are prepared.
    expect(page.get_by_text("5 of 5 prepared")).to_be_visible()
    expect(page.get_by_text("0 of 5 delivered")).to_be_visible()
    assert CaseRecord.objects.filter(kind=RecordKind.OUTBOUND).count() == 5
    assert outbox.run_once().sent == 5
    expect(page.get_by_text("5 of 5 delivered")).to_be_visible(timeout=15_000)  # 5 s refresh
    page.screenshot(path=tmp_path / "broadcast-progress.png", full_page=True)
    texts: list[Any] = sorted(p["text"].split(".")[0] for p in web_channel.sent)
    assert texts == ["Закон змінився", "Закон змінився", "Закон изменился", "Закон изменился",
                     "Закон изменился"]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
