"""The sweep: every page family in chromium, on a phone and a desktop, in ru, uk and en.

One test per family (requester, desk, funds, knowledge, settings) on the demo
organization. Each page fails the sweep on a console error, on a horizontal
scroll outside a table marked as scrollable (``.table-wrap``), and, on the
audit page, on an event code left untranslated. All problems of a family are
reported together, page by page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from haven.accounts.models import Organization
from haven.cases.models import Case
from haven.demo import seed as demo
from haven.funds.models import Transaction
from haven.knowledge.demo import load_shipped
from haven.knowledge.models import Article

from .conftest import DESKTOP, LANGS, NewContext, console_errors, speak

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("ledger_rows_removed")]

RAW_CODE = re.compile(r"\b[a-z]+\.[a-z_]+(\.[a-z_]+)*\b")
# Elements that scroll sideways although they are not a marked table (or inside one).
STRAY_SCROLL = """() => [...document.querySelectorAll('body *')].filter(el => {
  const x = getComputedStyle(el).overflowX;
  return (x === 'auto' || x === 'scroll') && el.scrollWidth > el.clientWidth + 1
    && !el.closest('.table-wrap');
}).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))"""
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# At 1280 px the header is one row: the language switcher sits beside the navigation.
HEADER_ROWS = """() => {
  const nav = document.querySelector('header.top nav').getBoundingClientRect();
  const lang = document.querySelector('header.top form.lang').getBoundingClientRect();
  return lang.top < nav.bottom && nav.top < lang.bottom && nav.height < 40;
}"""

Pages = Callable[[], list[str]]


@pytest.fixture
def seeded(transactional_db: None) -> Iterator[Organization]:
    demo.seed()
    load_shipped()
    yield Organization.objects.get(slug=demo.DEMO_ORG)


def _log_in(page: Page, username: str = "alice") -> None:
    login = next(p for p in demo.DEMO_PEOPLE if p.username == username)
    page.goto("/login/")
    page.locator("#id_username").fill(login.username)
    page.locator("#id_password").fill(login.password)
    page.locator("input[name=code]").fill(demo.current_code(login.username))
    page.locator("main form button[type=submit]").click()
    expect(page.locator("header.top form.inline button")).to_be_visible()
    TOTPDevice.objects.filter(user__username=username).update(last_t=-1)


class Sweep:
    """Visits pages and writes down every problem instead of stopping at the first."""

    def __init__(self, context: BrowserContext, page: Page, label: str) -> None:
        self.errors = console_errors(context)
        self.page, self.label = page, label
        self.problems: list[str] = []
        self.seen = 0

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        status = response.status if response else 0
        self.check(url, status)

    def check(self, url: str, status: int = 200) -> None:
        where = f"{self.label} {url}"
        if status >= 400:
            self.problems.append(f"{where}: HTTP {status}")
        for error in self.errors[self.seen:]:
            self.problems.append(f"{where}: console: {error}")
        self.seen = len(self.errors)
        if (overflow := self.page.evaluate(PAGE_OVERFLOW)) > 0:
            self.problems.append(f"{where}: the page scrolls sideways by {overflow} px")
        for element in self.page.evaluate(STRAY_SCROLL):
            self.problems.append(f"{where}: {element} scrolls sideways outside a marked table")
        switchers = self.page.locator("form[action$='/i18n/setlang/']").count()
        if url.startswith("/o/"):  # the web form's pages: no second switcher of their own
            switchers += self.page.locator("main a[hreflang]").count() > 0
        if switchers != 1:
            self.problems.append(f"{where}: {switchers} language switchers, not one")
        if "/audit/" in url:
            text = self.page.locator("main").inner_text()
            for match in RAW_CODE.finditer(text):
                self.problems.append(f"{where}: untranslated code {match.group(0)!r}")


def _sweep(new_context: NewContext, live_server: LiveServer, pages: Pages, *,
           member: str | None = "alice", extra: Callable[[Sweep], None] | None = None) -> None:
    problems: list[str] = []
    for phone in (True, False):
        context = new_context(phone=phone)
        page = context.new_page()
        if not phone:
            page.set_viewport_size(DESKTOP)
        if member:
            _log_in(page, member)
        for lang in LANGS:
            speak(context, live_server.url, lang)
            sweep = Sweep(context, page, f"[{'390' if phone else '1280'} {lang}]")
            for url in pages():
                sweep.visit(url)
                if not phone and member and not page.evaluate(HEADER_ROWS):
                    sweep.problems.append(f"{sweep.label} {url}: the header takes two rows")
            if extra:
                extra(sweep)
            problems += sweep.problems
        context.close()
    assert problems == [], "\n" + "\n".join(problems)


def _agree_and_answer(sweep: Sweep) -> None:
    """Start a request: the consent page, then the first two questions."""
    page = sweep.page
    page.goto("/o/demo/consent/?topic=summons")
    page.locator("button[name=agree]").click()
    sweep.check(page.url)
    page.locator("input[name=value]").first.check()
    page.locator("button[name=action][value=next]").click()
    sweep.check(page.url)
    page.locator("button[name=action][value=back]").click()
    page.locator("button[name=action][value=back]").click()


def test_sweep_requester_pages(seeded: Organization, new_context: NewContext,
                               live_server: LiveServer) -> None:
    def pages() -> list[str]:
        return ["/o/demo/", "/o/demo/consent/?topic=summons", "/o/demo/follow-up/", "/kb/o/demo/"]

    _sweep(new_context, live_server, pages, member=None, extra=_agree_and_answer)


def test_sweep_desk_pages(seeded: Organization, new_context: NewContext,
                          live_server: LiveServer) -> None:
    case = Case.objects.filter(organization=seeded).order_by("number").first()
    assert case is not None

    def pages() -> list[str]:
        base = f"/desk/cases/{case.number}"
        return ["/desk/", "/desk/search/?q=summons", "/desk/charts/", f"{base}/", f"{base}/audit/",
                f"{base}/export/",
                "/desk/cases/new/"]

    _sweep(new_context, live_server, pages)


def test_sweep_funds_pages(seeded: Organization, new_context: NewContext,
                           live_server: LiveServer) -> None:
    booking = Transaction.objects.filter(organization=seeded).order_by("pk").first()
    assert booking is not None

    def pages() -> list[str]:
        return ["/funds/", "/funds/donations/", "/funds/payouts/", "/funds/statement/",
                "/funds/donations/new/", "/funds/payouts/new/", "/funds/exchange/", "/funds/transfer/",
                "/funds/export/", "/funds/import/", f"/funds/transactions/{booking.pk}/",
                "/funds/public/demo/"]

    _sweep(new_context, live_server, pages)


def test_sweep_knowledge_pages(seeded: Organization, new_context: NewContext,
                               live_server: LiveServer) -> None:
    article = Article.objects.filter(organization__isnull=True, lang="ru").order_by("slug").first()
    assert article is not None

    def pages() -> list[str]:
        return ["/kb/", "/kb/search/?q=АГС", f"/kb/ru/{article.slug}/", "/kb/manage/",
                "/kb/manage/posts/", "/kb/manage/new/"]

    _sweep(new_context, live_server, pages)


def test_sweep_settings_pages(seeded: Organization, new_context: NewContext,
                              live_server: LiveServer) -> None:
    def pages() -> list[str]:
        return ["/org/", "/account/", "/desk/settings/", "/desk/audit/", "/desk/replies/",
                "/telegram/settings/", "/intake/settings/", "/funds/settings/"]

    _sweep(new_context, live_server, pages)
