"""Several real ``haven worker`` processes against a slow Bot API: nothing sent twice, nothing lost."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from haven.telegram import bots
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from haven.telegram.outgoing import Out
from tests.conftest import Persona

from .conftest import TOKEN
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
