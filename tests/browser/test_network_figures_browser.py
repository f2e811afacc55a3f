"""The network figures page as chromium draws it: charts with bars, no sideways page on a
phone, no console errors (invalid SVG numbers, CSP), in every interface language; and
publishing from the form."""

from __future__ import annotations

import pytest
from pytest_django.live_server_helper import LiveServer

from haven.network import figures
from haven.network.models import Publication
from tests.conftest import make_org
from tests.network.test_figures import _collected

from .conftest import DESKTOP, LANGS, NewContext, console_errors, speak
from .test_login_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("ledger_rows_removed")]

BARS = "el => [...el.querySelectorAll('rect')].filter(r => r.height.baseVal.value > 0).length"
PAGE_SCROLLS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_network_page_draws_its_charts(new_context: NewContext, live_server: LiveServer,
                                           lang: str, phone: bool) -> None:
    alice, _made = make_org("first", "alice")
    months = figures.finished_months(alice.org)
    for month in months[:6]:
        _collected(alice.org, f"north{month:%Y%m}", month, {"summons": 17, "family": None},
                   epsilon=1.0)
    context = new_context(phone=phone)
    errors = console_errors(context)
    page = context.new_page()
    if not phone:
        page.set_viewport_size(DESKTOP)
    _log_in(page, alice)
    speak(context, live_server.url, lang)
    page.goto("/network/figures/")
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() == len(figures.TABLES)
    assert charts.nth(0).evaluate(BARS) >= 12  # six months, solid and pale parts
    assert not page.evaluate(PAGE_SCROLLS)  # wide tables and charts scroll in their frames
    page.select_option("select[name=month]", figures.month_key(months[0]))
    page.locator("form.inline-form button").click()
    assert "17–" in page.locator("table").nth(1).inner_text()
    assert errors == []


def test_an_administrator_publishes_from_the_form(new_context: NewContext,
                                                  live_server: LiveServer) -> None:
    alice, _made = make_org("first", "alice")
    context = new_context(phone=True)
    errors = console_errors(context)
    page = context.new_page()
    _log_in(page, alice)
    speak(context, live_server.url, "ru")
    page.goto("/network/figures/publish/")
    page.fill("input[name=epsilon]", "1,5")  # a decimal comma in Russian
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/network/figures/publish/")
    row = Publication.objects.get()
    assert row.epsilon == 1.5 and row.organization == alice.org
    assert not page.evaluate(PAGE_SCROLLS)
    assert errors == []
