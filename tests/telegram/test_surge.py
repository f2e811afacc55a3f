"""Several real ``haven worker`` processes against a slow Bot API: nothing sent twice, nothing lost."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from haven.cases import actions
from haven.cases.models import Delivery, RecordKind
from haven.telegram import bots, chats
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from haven.telegram.outgoing import Out
from tests.conftest import Persona

from .conftest import TOKEN, Phone, pump, telegram_case
from .test_worker_kill import _outbox_empty, _start, _wait


@pytest.mark.django_db(transaction=True)
def test_three_workers_and_slow_sends_send_each_reply_once(
        alice: Persona, fake: FakeTelegram, settings: Any, tmp_path: Path) -> None:
    # The worker script shortens the lease to 2 s; sends of 0.2 s make the general
    # round's batch of 50 outlast it, as 2 s sends outlast the 60 s lease.
    bots.set_token(alice.member, TOKEN)
    bot = Bot.objects.get()
    count = 45
    for n in range(count):
        fake.open_chat(TOKEN, 9700 + n)
        out = Out(bot, 9700 + n)
        out.say(f"answer {n}")
        out.queue()
    fake.delay = 0.2
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        workers = [_start(settings, fake, log) for _ in range(3)]
        _wait(_outbox_empty, 150, log, fake)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(20)
    sent = Counter(m["text"] for m in fake.sent)
    assert set(sent) == {f"answer {n}" for n in range(count)}
    assert max(sent.values()) == 1, log.read_text()[-2000:]


def test_a_photo_that_cannot_be_fetched_keeps_its_caption(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = Phone(fake, 9801)
    phone.send("/start")
    phone.press("l:ru")
    case = telegram_case(alice, bot, 9801)
    handle = chats.open_chat(bot, 9801)
    handle.state.case = case.pk
    chats.save(handle)
    fake.fail("getFile", 500)
    fake.user_file(TOKEN, 9801, b"\xff\xd8 not fetched", kind="photo", caption="Повестка на 12 число")
    pump()
    bodies = [r["body"] for r in actions.read_case(alice.member, alice.vault(), case)]
    assert "Повестка на 12 число" in bodies
    assert not case.records.filter(kind=RecordKind.ATTACHMENT).exists()
    assert "Не удалось получить файл" in phone.last() and "добавлен к вашему обращению" in phone.last()


@pytest.mark.django_db(transaction=True)
def test_with_several_workers_a_blocked_chat_fails_once_and_the_others_arrive_once(
        alice: Persona, fake: FakeTelegram, settings: Any, tmp_path: Path) -> None:
    bots.set_token(alice.member, TOKEN)
    bot = Bot.objects.get()
    vault = alice.vault()
    records = {}
    for n in range(20):
        fake.open_chat(TOKEN, 9900 + n)
        if n % 4 == 0:
            fake.user_blocks(TOKEN, 9900 + n)
        case = telegram_case(alice, bot, 9900 + n)
        records[n] = actions.reply(alice.member, vault, case, f"reply {n}")
    fake.delay = 0.1
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        workers = [_start(settings, fake, log) for _ in range(3)]
        _wait(_outbox_empty, 120, log, fake)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(20)
    sent = Counter(m["text"].split("\n\n")[1] for m in fake.sent)
    assert sent == Counter({f"reply {n}": 1 for n in range(20) if n % 4})
    for n, record in records.items():
        record.refresh_from_db()
        assert record.delivery == (Delivery.FAILED if n % 4 == 0 else Delivery.SENT)
