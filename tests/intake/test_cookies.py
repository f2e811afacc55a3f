"""A requester's browser keeps no lasting cookie of the help desk (review L-3)."""

from __future__ import annotations

from http.cookies import Morsel

from tests.intake.conftest import Visitor


def _cookie(response: object, name: str) -> Morsel[str]:
    cookies = response.cookies  # type: ignore[attr-defined]
    assert name in cookies, f"{name} not set"
    return cookies[name]


def _session_only(morsel: Morsel[str]) -> bool:
    return not morsel["expires"] and not morsel["max-age"]


def test_the_public_intake_page_sets_only_browser_session_cookies(visitor: Visitor) -> None:
    response = visitor.get(visitor.url())
    assert response.status_code == 200
    csrf = _cookie(response, "csrftoken")
    assert _session_only(csrf), csrf.OutputString()
    header = csrf.OutputString().lower()
    assert "expires" not in header and "max-age" not in header


def test_the_intake_and_knowledge_pages_set_no_lasting_cookie(visitor: Visitor) -> None:
    visitor.start("summons")
    response = visitor.get("/kb/")
    lasting = [m.OutputString() for m in visitor.client.cookies.values()
               if m.value and not _session_only(m)]
    assert response.status_code in (200, 302) and lasting == []
