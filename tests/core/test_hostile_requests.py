"""Requests built to break the server (penetration test F7, F10): a page in words, a clean log.

The log is read from Haven's own configured handler (the one `haven serve` writes
to), so what is asserted is what an operator, or whoever takes the server, reads.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from haven.cases.models import Case
from haven.core import worker
from haven.core.logfilters import WithoutInput
from tests.conftest import Persona
from tests.intake.conftest import SUMMONS_ANSWERS, Visitor

PLANTED = "Ivanov-Saratov-+79161234567"
FORM = "application/x-www-form-urlencoded"  # as a browser sends a form without files


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What Haven's configured console handler writes, for the length of one test."""
    handlers = [h for h in logging.getLogger().handlers
                if any(isinstance(f, WithoutInput) for f in h.filters)]
    assert handlers, "settings.LOGGING has no handler with the WithoutInput filter"
    seen = io.StringIO()
    old = [h.setStream(seen) for h in handlers]  # type: ignore[attr-defined]
    yield seen
    for handler, stream in zip(handlers, old, strict=True):
        handler.setStream(stream)  # type: ignore[attr-defined]


def _many_fields(visitor: Visitor) -> dict[str, str]:
    fields = {f"f{i}": "1" for i in range(10_000)}  # about 80 KB, under the body limit
    return {**fields, "step": "kind", "value": PLANTED, "action": "next",
            "csrfmiddlewaretoken": visitor.token()}


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "words"), [
    ("ru", "Форма не прочитана"), ("uk", "Форму не прочитано"), ("en", "The form could not be read")])
def test_ten_thousand_fields_get_a_page_in_the_requesters_language(
    alice: Persona, server_log: io.StringIO, lang: str, words: str
) -> None:
    visitor = Visitor(alice.org.slug)
    visitor.start("summons", lang)
    response = visitor.client.post(visitor.url("step/"), urlencode(_many_fields(visitor)),
                                   content_type=FORM)
    page = response.content.decode()
    assert response.status_code == 400 and words in page and "Bad Request" not in page
    assert f'<html lang="{lang}"' in page and 'href="/"' in page  # a way back
    log = server_log.getvalue()
    assert "TooManyFieldsSent" in log  # the operator still learns what happened
    assert "Traceback" not in log and PLANTED not in log


@pytest.mark.django_db
def test_a_hundred_and_one_files_get_the_page_and_nothing_is_stored(
    alice: Persona, server_log: io.StringIO
) -> None:
    visitor = Visitor(alice.org.slug)
    visitor.start("summons", "ru")
    for step, value in SUMMONS_ANSWERS:
        visitor.answer(step, value)
    files = [SimpleUploadedFile(f"{PLANTED}-{i}.pdf", b"%PDF-1.4", "application/pdf")
             for i in range(101)]
    response = visitor.post_files(visitor.url("confirm/"), {"send": "1", "files": files})
    assert response.status_code == 400 and "Форма не прочитана" in response.content.decode()
    assert not Case.objects.exists()
    log = server_log.getvalue()
    assert "TooManyFilesSent" in log and "Traceback" not in log and PLANTED not in log


@pytest.mark.django_db
def test_a_follow_up_with_ten_thousand_fields_gets_the_page(
    alice: Persona, server_log: io.StringIO
) -> None:
    visitor = Visitor(alice.org.slug)
    visitor.get(visitor.url("?lang=en"))
    fields = {f"f{i}": "1" for i in range(10_000)}
    response = visitor.client.post(visitor.url("follow-up/"), urlencode({
        **fields, "codename": PLANTED, "csrfmiddlewaretoken": visitor.token()}), content_type=FORM)
    assert response.status_code == 400
    assert "The form could not be read" in response.content.decode()
    assert PLANTED not in server_log.getvalue()


@override_settings(ROOT_URLCONF="tests.core.urls_boom")
def test_a_server_error_logs_where_it_failed_but_not_what_was_typed(
    server_log: io.StringIO
) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(f"/boom/?q={PLANTED}&next=/x", {"name": PLANTED, "csrf": PLANTED})
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    log = server_log.getvalue()
    assert "Internal Server Error: /boom/" in log
    assert "LookupError" in log and "ValueError" in log and "urls_boom.py" in log  # where, not what
    assert PLANTED not in log and "Ivanov" not in log and "message withheld" in log


def test_the_filter_leaves_other_loggers_alone() -> None:
    record = logging.LogRecord("haven.worker", logging.INFO, __file__, 1, "sent %s", ("3",), None)
    assert WithoutInput().filter(record) and record.getMessage() == "sent 3"


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["a" * 10_000, "ali\0ce"])
def test_a_login_form_refused_by_its_checks_answers_400_and_logs_no_one_in(
    alice: Persona, username: str
) -> None:
    """Penetration test F12: a refused login form answered 200."""
    client = Client()
    response = client.post("/login/?lang=en", {
        "username": username, "password": alice.password, "code": alice.code()})
    assert response.status_code == 400
    assert '<p class="error" role="alert">' in response.content.decode()  # the field says why
    assert client.get("/desk/").status_code == 302  # still to the login page


@pytest.mark.django_db  # run_due closes old connections first
def test_a_failed_worker_task_logs_its_frames_but_not_its_message(
    server_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def leaky() -> int:
        raise KeyError(f"chat text: {PLANTED}")

    monkeypatch.setattr(worker, "TASKS", {"leaky": worker.Task("leaky", 60, leaky)})
    assert worker.run_due(force=True) == {"leaky": -1}
    log = server_log.getvalue()
    assert "task leaky failed" in log and "KeyError" in log and "test_hostile_requests.py" in log
    assert PLANTED not in log
