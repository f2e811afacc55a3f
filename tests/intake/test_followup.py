"""Coming back with the codename: replies from the desk, answers, erasing, throttling."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import override_settings

from haven import outbox
from haven.cases import actions
from haven.cases.models import Case, CaseRecord, RecordKind, Status
from haven.intake import followup
from haven.intake.models import CaseFingerprint, Requester, RequesterMessage
from haven.intake.tasks import forget_requesters_of_burned_cases
from haven.outbox.models import Outbox
from tests.conftest import Persona

from .conftest import Visitor, codename_in, complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(alice: Persona, visitor: Visitor) -> tuple[Case, str]:
    code = codename_in(complete(visitor))
    return Case.objects.get(organization=alice.org), code


def _open(visitor: Visitor, code: str, **data: str) -> str:
    response = visitor.post(visitor.url("follow-up/"), {"codename": code, **data})
    assert response.status_code == 200, response.content.decode()[:1000]
    assert response.headers["Cache-Control"].startswith("no-store")
    return response.content.decode()


def test_a_reply_from_the_desk_reaches_the_requester(
    alice: Persona, visitor: Visitor, sent: tuple[Case, str]
) -> None:
    case, code = sent
    assert "Ответа пока нет." in _open(visitor, code)
    actions.reply(alice.member, alice.vault(), case, "Здравствуйте! Не ходите в военкомат до консультации.")
    assert outbox.run_once().sent == 1
    assert not Outbox.objects.exists()
    page = _open(visitor, code.upper().replace(" ", "  "))  # typed differently, same codename
    assert "Здравствуйте! Не ходите в военкомат до консультации." in page
    stored = RequesterMessage.objects.get(case=case)
    assert b"\xd0\x97\xd0\xb4" not in bytes(stored.body)  # sealed, not readable in the database


def test_the_requester_answers_once_even_if_the_form_is_sent_twice(
    alice: Persona, visitor: Visitor, sent: tuple[Case, str]
) -> None:
    case, code = sent
    page = _open(visitor, code)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"action": "send", "token": token, "message": "Спасибо, <b>жду</b> ответа"}
    assert "Ваше сообщение отправлено." in _open(visitor, code, **form)
    assert "Это сообщение уже было отправлено." in _open(visitor, code, **form)
    inbound = CaseRecord.objects.filter(case=case, kind=RecordKind.INBOUND)
    assert [alice.case_vault(r.case).decrypt_text(bytes(r.body)) for r in inbound] == ["Спасибо, <b>жду</b> ответа"]
    page = _open(visitor, code)
    assert "Спасибо, &lt;b&gt;жду&lt;/b&gt; ответа" in page


def test_an_empty_message_is_refused_with_a_reason(visitor: Visitor, sent: tuple[Case, str]) -> None:
    _case, code = sent
    response = visitor.post(visitor.url("follow-up/"),
                            {"codename": code, "action": "send", "token": "t", "message": "  "})
    assert response.status_code == 400
    assert "Сообщение пустое" in response.content.decode()


def test_erasing_burns_the_case_after_a_confirmation(
    alice: Persona, visitor: Visitor, sent: tuple[Case, str]
) -> None:
    case, code = sent
    ask = _open(visitor, code, action="erase")
    assert "Стереть обращение?" in ask
    assert Case.objects.get(pk=case.pk).erased is False
    assert "Обращение стёрто" in _open(visitor, code, action="erase_confirmed")
    case.refresh_from_db()
    assert (case.erased, case.status, bytes(case.summary)) == (True, Status.CLOSED, b"")
    assert not CaseRecord.objects.filter(case=case).exists()
    assert not Requester.objects.exists() and not RequesterMessage.objects.exists()
    assert not CaseFingerprint.objects.exists()
    again = visitor.post(visitor.url("follow-up/"), {"codename": code})
    assert again.status_code == 400
    assert "Нет обращения с таким кодовым именем." in again.content.decode()


def test_a_closed_case_can_be_read_but_not_answered(
    alice: Persona, visitor: Visitor, sent: tuple[Case, str]
) -> None:
    case, code = sent
    actions.set_status(alice.member, case, Status.CLOSED, case.version)
    page = _open(visitor, code)
    assert "Это обращение закрыто." in page
    assert 'name="message"' not in page
    # A message typed before the case was closed is not sent, and not lost either.
    inbound = CaseRecord.objects.filter(case=case, kind=RecordKind.INBOUND).count()
    response = visitor.post(visitor.url("follow-up/"), {
        "codename": code, "action": "send", "message": "А если повестку принесут на работу?",
        "token": "t1"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "не отправлено: обращение за это время закрыли" in page
    assert ">А если повестку принесут на работу?</textarea>" in page
    assert CaseRecord.objects.filter(case=case, kind=RecordKind.INBOUND).count() == inbound


def test_a_codename_only_opens_its_own_organizations_case(
    charlie: Persona, sent: tuple[Case, str]
) -> None:
    _case, code = sent
    elsewhere = Visitor(charlie.org.slug)
    response = elsewhere.post(elsewhere.url("follow-up/"), {"codename": code})
    assert response.status_code == 400


def test_a_case_burned_on_the_desk_forgets_its_requester(
    alice: Persona, visitor: Visitor, sent: tuple[Case, str]
) -> None:
    case, code = sent
    actions.burn(alice.member, case)
    assert visitor.post(visitor.url("follow-up/"), {"codename": code}).status_code == 400
    assert not Requester.objects.exists() and not CaseFingerprint.objects.exists()
    assert forget_requesters_of_burned_cases() == 0  # the signal already did it


@override_settings(HAVEN_CODENAME_ATTEMPTS=3)
def test_wrong_codenames_are_throttled_per_connection(
    visitor: Visitor, sent: tuple[Case, str]
) -> None:
    _case, code = sent
    for _ in range(3):
        wrong = visitor.post(visitor.url("follow-up/"), {"codename": "один два три"})
        assert wrong.status_code == 400
    blocked = visitor.post(visitor.url("follow-up/"), {"codename": code})
    assert blocked.status_code == 429
    assert "Подождите 15 минут" in blocked.content.decode()
    assert all("127.0.0.1" not in str(key) for key in cache._cache)  # type: ignore[attr-defined]
    cache.clear()
    assert visitor.post(visitor.url("follow-up/"), {"codename": code}).status_code == 200


def test_codenames_never_travel_in_addresses(visitor: Visitor, sent: tuple[Case, str]) -> None:
    _case, code = sent
    assert visitor.get(visitor.url("follow-up/") + "?codename=" + code.replace(" ", "+")).status_code == 200
    form = visitor.get(visitor.url("follow-up/")).content.decode()
    assert 'method="post"' in form and code not in form


def test_opening_checks_the_organization_and_the_key(alice: Persona, sent: tuple[Case, str]) -> None:
    case, code = sent
    opened = followup.open_case(alice.org, code)
    assert opened.case == case
    with pytest.raises(followup.NotFound):
        followup.open_case(alice.org, "")


@override_settings(HAVEN_ONION=True, HAVEN_CODENAME_ATTEMPTS=3)
def test_on_an_onion_service_bad_guesses_slow_that_codename_only(
    visitor: Visitor, sent: tuple[Case, str]
) -> None:
    _case, code = sent
    for _ in range(4):  # three free tries, then the fourth starts a wait
        assert visitor.post(visitor.url("follow-up/"), {"codename": "один два три"}).status_code == 400
    slowed = visitor.post(visitor.url("follow-up/"), {"codename": "Один, два, три"})
    assert slowed.status_code == 429
    assert "слишком часто" in slowed.content.decode()
    # Everyone arrives as 127.0.0.1, yet the real requester is not locked out.
    other = Visitor(visitor.slug)
    assert other.post(other.url("follow-up/"), {"codename": code}).status_code == 200


@override_settings(HAVEN_TRUSTED_PROXY=["127.0.0.1"], HAVEN_CODENAME_ATTEMPTS=3)
def test_behind_the_proxy_one_connections_wrong_codenames_do_not_block_another(
    visitor: Visitor, sent: tuple[Case, str]
) -> None:
    _case, code = sent
    for word in ("один", "два", "три"):
        assert visitor.post(visitor.url("follow-up/"), {"codename": word},
                            HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 400
    assert visitor.post(visitor.url("follow-up/"), {"codename": code},
                        HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert visitor.post(visitor.url("follow-up/"), {"codename": code},
                        HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 200
