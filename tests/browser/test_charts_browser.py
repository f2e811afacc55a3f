"""Charts as chromium draws them, in every interface language: bars, legend, readable text."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from haven.funds import actions as fund_actions
from haven.funds import demo as funds_demo
from haven.funds import reports
from haven.funds.models import Entry
from tests.conftest import Persona, make_case, make_org

from .conftest import DESKTOP, LANGS, NewContext, console_errors, speak
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("ledger_rows_removed")]

BARS = "el => [...el.querySelectorAll('rect')].filter(r => r.width.baseVal.value > 0 && r.height.baseVal.value > 0).length"
# On-screen size of the chart's text: its font size times the SVG's scale.
TEXT_PX = """svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
}"""
# Text that runs outside the drawing is clipped: every label's box must sit inside the viewBox.
CLIPPED = """svg => {
  const box = svg.viewBox.baseVal;
  return [...svg.querySelectorAll('text')].filter(t => {
    const b = t.getBBox();
    return b.x < 0 || b.y < 0 || b.x + b.width > box.width + 0.5 || b.y + b.height > box.height + 0.5;
  }).map(t => t.textContent);
}"""


def _cases(alice: Persona) -> None:
    for category in ("summons", "summons", "acs", "evacuation"):
        make_case(alice, "A request about " + category, category=category)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_desk_charts_draw_bars_in_every_language(
    new_context: NewContext, live_server: LiveServer, lang: str, phone: bool
) -> None:
    alice, _made = make_org("first", "alice")
    _cases(alice)
    context = new_context(phone=phone)
    errors = console_errors(context)
    page = context.new_page()
    if not phone:
        page.set_viewport_size(DESKTOP)
    _log_in(page, alice)
    speak(context, live_server.url, lang)
    page.goto("/desk/charts/")
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() == 3
    assert charts.nth(0).evaluate(BARS) >= 3  # three categories stacked this week
    assert charts.nth(1).evaluate(BARS) >= 1
    for index in range(3):  # readable on a phone too: the frame scrolls, the text does not shrink
        sizes = charts.nth(index).evaluate(TEXT_PX)
        assert sizes and min(sizes) >= 9.5, sizes
    assert errors == []
    _assert_swatches_are_small(page)


def _assert_swatches_are_small(page: Page) -> None:
    swatches = page.locator(".legend svg")
    assert swatches.count() >= 2
    for index in range(swatches.count()):
        box = swatches.nth(index).bounding_box()
        assert box is not None and box["width"] <= 16 and box["height"] <= 16, box


def _funds(alice: Persona) -> None:
    funds_demo.seed(alice.member, alice.vault())
    fund_actions.update_settings(alice.member, thresholds={}, allow_negative=False,
                                 suppression_minimum=5, public_report=True)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_public_report_chart_is_drawn_readable_and_whole(
    new_context: NewContext, live_server: LiveServer, lang: str, phone: bool
) -> None:
    alice, _made = make_org("first", "alice")
    _funds(alice)
    context = new_context(phone=phone)
    errors = console_errors(context)
    speak(context, live_server.url, lang)
    page = context.new_page()
    if not phone:
        page.set_viewport_size(DESKTOP)
    page.goto("/funds/public/first/")
    chart = page.locator("svg.funds-chart")
    assert chart.evaluate(BARS) >= 2
    sizes = chart.evaluate(TEXT_PX)
    assert sizes and all(11.5 <= size <= 14.5 for size in sizes), sizes
    assert chart.evaluate(CLIPPED) == []
    assert errors == []


def test_the_public_report_links_no_month_before_the_first_booking(
    new_context: NewContext, live_server: LiveServer
) -> None:
    alice, _made = make_org("first", "alice")
    _funds(alice)
    page = new_context().new_page()
    page.goto("/funds/public/first/")
    shown = page.locator("nav.funds-months a, nav.funds-months strong").all_inner_texts()
    booked = Entry.objects.filter(organization=alice.org).order_by("date").first()
    assert booked is not None
    expected = [m.strftime("%Y-%m") for m in reports.complete_months()
                if m >= booked.date.replace(day=1)]
    assert shown == expected and len(shown) == 3
