from __future__ import annotations

import time

import pytest

from haven import outbox
from haven.cases import actions
from haven.cases.models import Delivery, Reminder, Status
from haven.outbox.models import Outbox
from haven.telegram import links, pacing, render, tasks
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, CaseChat
from tests.conftest import Persona, log_in

from .conftest import TOKEN, Phone, pump, telegram_case


def test_a_reply_from_the_desk_arrives_in_the_chat_and_its_row_is_deleted(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(TOKEN, 8001)
    case = telegram_case(alice, bot, 8001)
    record = actions.reply(alice.member, alice.vault(), case, "Приходите <завтра> & возьмите паспорт")
    pump()
    [sent] = fake.sent_to(TOKEN, 8001)
    assert "Приходите &lt;завтра&gt; &amp; возьмите паспорт" in sent["text"]
    assert sent["parse_mode"] == "HTML" and "First" in sent["text"]  # the organization's name
    record.refresh_from_db()
    assert record.delivery == Delivery.SENT and not Outbox.objects.exists()


def test_the_requester_answers_a_reply_in_the_same_chat(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 8002)
    phone.send("/start")
    case = telegram_case(alice, bot, 8002)
    from haven.telegram import chats

    handle = chats.open_chat(bot, 8002)
    handle.state.case = case.pk
    chats.save(handle)
    actions.reply(alice.member, alice.vault(), case, "Что написано в повестке?")
    pump()
    phone.send("Явиться 12 числа")
    bodies = [r["body"] for r in actions.read_case(alice.member, alice.vault(), case)]
    assert "Явиться 12 числа" in bodies


def test_a_long_reply_is_split_under_telegrams_limit(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(TOKEN, 8003)
    case = telegram_case(alice, bot, 8003)
    text = ("Абзац про сроки подачи заявления. " * 60 + "\n\n") * 6
    actions.reply(alice.member, alice.vault(), case, text.strip())
    pump()
    parts = fake.sent_to(TOKEN, 8003)
    assert len(parts) == 6  # one paragraph a message: none fits twice under 4,096
    assert all(render.units(p["text"]) <= 4096 for p in parts)
    assert sum(p["text"].count("Абзац") for p in parts) == 360


def test_a_429_storm_is_waited_out_and_nothing_is_lost(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(TOKEN, 8004)
    case = telegram_case(alice, bot, 8004)
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", times=2, retry_after=1)
    actions.reply(alice.member, alice.vault(), case, "ответ-после-429")
    started = time.monotonic()
    pump()
    assert time.monotonic() - started >= 1.9  # two waits of retry_after, at least
    assert [m["text"].count("ответ-после-429") for m in fake.sent_to(TOKEN, 8004)] == [1]


def test_it_stays_under_the_bots_rate_limit(alice: Persona, bot: Bot, fake: FakeTelegram,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    vault = alice.vault()
    for chat in range(9000, 9040):
        fake.open_chat(TOKEN, chat)
        actions.reply(alice.member, vault, telegram_case(alice, bot, chat), f"reply {chat}")
    started = time.monotonic()
    pump()
    assert len(fake.sent) == 40 and fake.refused_429 == 0
    assert time.monotonic() - started >= (40 - 25) / 30 - 0.1  # paced, after the saved-up burst


def test_a_chat_gets_about_one_message_a_second(alice: Persona, bot: Bot, fake: FakeTelegram,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "CHAT_RATE", 1.0)
    monkeypatch.setattr(pacing, "CHAT_BURST", 1.0)
    fake.limits = FakeTelegram.DEFAULT_LIMITS = (30.0, 30.0, 1.0, 3.0)
    fake.open_chat(TOKEN, 8005)
    case = telegram_case(alice, bot, 8005)
    vault = alice.vault()
    for n in range(5):
        actions.reply(alice.member, vault, case, f"part {n}")
    pump()
    sent = fake.sent_to(TOKEN, 8005)
    assert [m["text"].split("\n\n")[1] for m in sent] == [f"part {n}" for n in range(5)]
    assert sent[-1]["at"] - sent[0]["at"] >= 2.8 and fake.refused_429 == 0


def test_server_errors_are_retried_with_backoff(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(TOKEN, 8006)
    case = telegram_case(alice, bot, 8006)
    fake.fail("sendMessage", 502)
    actions.reply(alice.member, alice.vault(), case, "Ответ")
    tasks.send_round()
    row = Outbox.objects.get()
    assert row.attempts == 1 and "502" in row.last_error
    Outbox.objects.update(next_attempt=row.created)
    tasks.send_round()
    assert len(fake.sent_to(TOKEN, 8006)) == 1 and not Outbox.objects.exists()


def test_a_blocked_bot_is_shown_on_the_case(alice: Persona, bot: Bot, fake: FakeTelegram,
                                            client) -> None:  # type: ignore[no-untyped-def]
    fake.open_chat(TOKEN, 8007)
    case = telegram_case(alice, bot, 8007)
    fake.bots[TOKEN].chats[8007].blocked = True
    record = actions.reply(alice.member, alice.vault(), case, "Ответ")
    pump()
    record.refresh_from_db()
    assert record.delivery == Delivery.FAILED and "blocked" in record.delivery_error
    assert Reminder.objects.filter(case=case, kind="telegram_blocked").exists()
    with pytest.raises(actions.ActionError):
        actions.reply(alice.member, alice.vault(), case, "Ещё ответ")
    page = log_in(client, alice).get(f"/desk/cases/{case.number}/")
    assert "blocked the bot" in page.content.decode()


def test_blocking_the_bot_is_noticed_from_the_member_update(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    Phone(fake, 8008).send("/start")
    case = telegram_case(alice, bot, 8008)
    from haven.telegram import chats

    handle = chats.open_chat(bot, 8008)
    handle.state.case = case.pk
    chats.save(handle)
    fake.user_blocks(TOKEN, 8008)
    pump()
    assert CaseChat.objects.get(case=case).blocked_at is not None
    fake.user_blocks(TOKEN, 8008, blocked=False)
    pump()
    assert CaseChat.objects.get(case=case).blocked_at is None


def test_a_closed_case_forgets_where_to_send(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    case = telegram_case(alice, bot, 8009)
    actions.set_status(alice.member, case, Status.CLOSED, case.version)
    links.disconnect_closed()
    assert CaseChat.objects.get(case=case).server_chat is None
    with pytest.raises(actions.ActionError):
        outbox.HANDLERS["telegram"].address(case)
    actions.set_status(alice.member, case, Status.TRIAGE, None)
    assert links.rearm(case, alice.vault())
    assert outbox.HANDLERS["telegram"].address(case)["chat"] == 8009
    actions.burn(alice.member, case)
    links.disconnect_closed()
    assert not CaseChat.objects.filter(case=case).exists()
