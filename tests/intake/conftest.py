"""A requester's browser, as the Django test client with CSRF checks on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.test.client import MULTIPART_CONTENT

from tests.conftest import Persona

Response = Any  # the test client's response (HttpResponse with test attributes)

CODENAME_RE = re.compile(r'<p class="codename" id="codename"><code>([^<]+)</code></p>')


@dataclass
class Visitor:
    """Someone filling in the public intake, with cookies but no account."""

    slug: str
    client: Client = field(default_factory=lambda: Client(enforce_csrf_checks=True))

    def url(self, page: str = "") -> str:
        return f"/o/{self.slug}/{page}"

    def get(self, path: str, **extra: Any) -> Response:
        return self.client.get(path, **extra)

    def token(self) -> str:
        cookie = self.client.cookies.get("csrftoken")
        if cookie is None:
            self.client.get(self.url())
            cookie = self.client.cookies["csrftoken"]
        return cookie.value

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **extra: Any) -> Response:
        data = dict(data or {})
        if csrf:
            data["csrfmiddlewaretoken"] = self.token()
        return self.client.post(path, data, **extra)

    def post_files(self, path: str, data: dict[str, Any]) -> Response:
        data = {**data, "csrfmiddlewaretoken": self.token()}
        return self.client.post(path, data, content_type=MULTIPART_CONTENT, follow=True)

    def start(self, category: str, lang: str = "ru") -> Response:
        self.get(self.url(f"?lang={lang}"))
        assert self.get(self.url(f"consent/?topic={category}")).status_code == 200
        response = self.post(self.url("consent/"), {"topic": category, "agree": "1"})
        assert response.status_code == 302, response.content.decode()[:500]
        return response

    def answer(self, step: str, value: Any, action: str = "next") -> Response:
        return self.post(self.url("step/"), {"step": step, "value": value, "action": action})

    def current_step(self) -> str:
        response = self.get(self.url("step/"), follow=False)
        location = response.headers.get("Location", "")
        return location.split("?s=", 1)[1] if "?s=" in location else location

    def finish(self, **data: Any) -> Response:
        """Send the request; a success lands (through a redirect) on the codename page."""
        return self.post(self.url("confirm/"), {"send": "1", **data}, follow=True)

    def written_down(self) -> Response:
        return self.post(self.url("sent/"), {"written": "1"})


def codename_in(response: Response) -> str:
    match = CODENAME_RE.search(response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


SUMMONS_ANSWERS = [
    ("kind", "electronic"), ("posted_on", "2026-11-02"), ("report_date", ""),
    ("purpose", "medical"), ("abroad", "no"), ("situation", "Пришла повестка, что делать?"),
]


def complete(visitor: Visitor, answers: list[tuple[str, Any]] = SUMMONS_ANSWERS,
             category: str = "summons", lang: str = "ru") -> Response:
    visitor.start(category, lang)
    for step, value in answers:
        response = visitor.answer(step, value)
        assert response.status_code == 302, (step, response.content.decode()[:1500])
    return visitor.finish()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


@pytest.fixture
def visitor(alice: Persona) -> Visitor:
    return Visitor(alice.org.slug)
