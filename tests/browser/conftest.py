"""Playwright driving Debian's chromium against pytest-django's live server.

Never run ``playwright install``: it downloads a browser, which fails here and
is not needed; the system chromium is used instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from django.conf import settings
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize, sync_playwright
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API keeps an asyncio loop running in this thread, which
# trips Django's guard against ORM calls from async code. The tests only call
# the ORM between browser steps, never concurrently with the loop's own work.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
LANGS = ("ru", "uk", "en")
TIMEOUT_MS = 10_000



class NewContext(Protocol):
    def __call__(self, *, javascript: bool = True, phone: bool = False) -> BrowserContext: ...


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _fresh_throttle() -> None:
    """Login throttling counts per client address, and every test comes from 127.0.0.1."""
    cache.clear()


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[NewContext]:
    """Open browser contexts (separate cookie jars) on the live server, in English.

    ``phone=True`` gives a 390x844 touch screen that honours the viewport meta tag.
    """
    opened: list[BrowserContext] = []

    def open_context(*, javascript: bool = True, phone: bool = False) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url, java_script_enabled=javascript, locale="en-US",
            viewport=PHONE if phone else None, is_mobile=phone, has_touch=phone,
        )
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def context(request: pytest.FixtureRequest, new_context: NewContext) -> BrowserContext:
    """A context with JavaScript on; ``parametrize("context", [False], indirect=True)`` turns it off."""
    return new_context(javascript=getattr(request, "param", True))


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def speak(context: BrowserContext, url: str, lang: str) -> None:
    """Choose the interface language as the switcher does: with the language cookie."""
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": url}])


def console_errors(context: BrowserContext) -> list[str]:
    """A list that fills with every console error and uncaught exception in the context.

    Invalid SVG attributes, blocked resources and CSP violations all show up here.
    """
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.page.url if message.page else ''}: {message.text}")

    context.on("console", on_console)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    return errors


