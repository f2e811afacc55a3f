"""A closed case: the server no longer links a Telegram chat to it."""

from __future__ import annotations

from django.utils import translation

from haven.cases import actions
from haven.cases.models import Case, Status
from haven.telegram import chats, texts
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, CaseChat
from tests.conftest import Persona

from .conftest import Phone, telegram_case


def _linked(alice: Persona, bot: Bot, phone: Phone) -> Case:
    phone.send("/start")
    case = telegram_case(alice, bot, phone.chat_id)
    handle = chats.open_chat(bot, phone.chat_id)
    handle.state.case = case.pk
    chats.save(handle)
    return case


def _bodies(alice: Persona, case: Case) -> list[str]:
    return [r["body"] for r in actions.read_case(alice.member, alice.vault(), case)]


def test_closing_a_case_unlinks_its_chat_and_reopening_links_it_again(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 8101)
    case = _linked(alice, bot, phone)
    actions.set_status(alice.member, case, Status.CLOSED, case.version)
    assert CaseChat.objects.get(case=case).server_chat is None  # at once, not at the next sweep
    state = chats.open_chat(bot, 8101).state
    assert state.case is None and state.closed
    phone.send("Ещё вопрос")
    with translation.override("ru"):
        assert texts.case_closed() in phone.last()
    assert "Ещё вопрос" not in _bodies(alice, case)
    case.refresh_from_db()
    actions.set_status(alice.member, case, Status.TRIAGE, case.version, alice.vault())
    assert chats.open_chat(bot, 8101).state.case == case.pk
    phone.send("Снова пишу")
    assert "Снова пишу" in _bodies(alice, case)


def test_burning_a_case_unlinks_its_chat(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    case = _linked(alice, bot, Phone(fake, 8102))
    actions.burn(alice.member, case)
    assert chats.open_chat(bot, 8102).state.case is None
    assert not CaseChat.objects.filter(case=case).exists()


def test_the_worker_unlinks_chats_of_cases_closed_behind_its_back(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    closed = _linked(alice, bot, Phone(fake, 8103))
    still_open = _linked(alice, bot, Phone(fake, 8104))
    gone = chats.open_chat(bot, 8105)
    gone.state.case = 987654  # purged since
    chats.save(gone)
    Case.objects.filter(pk=closed.pk).update(status=Status.CLOSED)  # no signal
    assert chats.unlink_closed() == 2
    assert chats.open_chat(bot, 8103).state.case is None
    assert chats.open_chat(bot, 8105).state.case is None
    assert chats.open_chat(bot, 8104).state.case == still_open.pk
    assert chats.unlink_closed() == 0
