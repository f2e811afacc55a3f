"""Layout a person notices: checkboxes beside their labels, tables that say they scroll."""

from __future__ import annotations

import pytest
from pytest_django.live_server_helper import LiveServer

from haven.funds import demo as funds_demo
from tests.conftest import make_org

from .conftest import NewContext, speak
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("ledger_rows_removed")]

# Per table frame: does it scroll sideways, and is its hint shown?
FRAMES = """() => [...document.querySelectorAll('.table-wrap')].map(w => ({
  scrolls: w.scrollWidth > w.clientWidth + 1,
  hint: !!w.querySelector('.scroll-hint') && getComputedStyle(w.querySelector('.scroll-hint')).display !== 'none',
}))"""


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_checkbox_sits_on_the_line_of_its_label(
    new_context: NewContext, live_server: LiveServer, phone: bool
) -> None:
    alice, _made = make_org("first", "alice")
    context = new_context(phone=phone)
    page = context.new_page()
    _log_in(page, alice)
    speak(context, live_server.url, "ru")
    page.goto("/funds/settings/")
    for name in ("allow_negative", "public_report"):
        box = page.locator(f"input[name={name}]").bounding_box()
        text = page.locator(f"label[for=id_{name}] span").bounding_box()
        assert box is not None and text is not None
        assert text["x"] - (box["x"] + box["width"]) < 16  # right beside it
        assert abs(text["y"] - box["y"]) < 12  # on its first line


def test_a_wide_table_on_a_phone_says_that_it_scrolls(
    new_context: NewContext, live_server: LiveServer
) -> None:
    alice, _made = make_org("first", "alice")
    funds_demo.seed(alice.member, alice.vault())
    context = new_context(phone=True)
    page = context.new_page()
    _log_in(page, alice)
    speak(context, live_server.url, "ru")
    frames = []
    for url in ("/funds/", "/funds/donations/", "/funds/payouts/", "/desk/audit/"):
        page.goto(url)
        frames += [dict(f, url=url) for f in page.evaluate(FRAMES)]
    # The funds lists turn into labelled cards on a phone; the audit table stays wide.
    assert not any(f["scrolls"] for f in frames if f["url"] in ("/funds/donations/", "/funds/payouts/"))
    assert any(f["scrolls"] for f in frames if f["url"] == "/desk/audit/"), frames
    assert all(f["hint"] == f["scrolls"] for f in frames), frames
    page.goto("/desk/audit/")
    hint = page.locator(".table-wrap .scroll-hint").first
    assert hint.inner_text() == "↔ Таблица шире экрана: прокрутите её вбок."
    box = hint.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
