"""The fake Bot API as a fixture (real HTTP on 127.0.0.1), a bot pointed at it, and a phone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.models import Min
from django.utils import timezone

from haven.cases import actions
from haven.cases.models import Case, Channel
from haven.outbox.models import Outbox
from haven.telegram import bots, links, pacing, processing, tasks
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, Mode
from tests.conftest import Persona

TOKEN = "123456789:AAEhBP0av28pmVbzT6dvoXgE9rAzeqkV-jY"


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        settings.HAVEN_TELEGRAM_API_URL = server.url
        yield server


@pytest.fixture
def bot(alice: Persona, fake: FakeTelegram) -> Bot:
    bots.set_token(alice.member, TOKEN)
    return bots.set_mode(alice.member, Mode.POLLING)


@pytest.fixture(autouse=True)
def quick_chats(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most tests type faster than one message a second; the pacing tests put the limits back."""
    monkeypatch.setattr(pacing, "CHAT_RATE", 1000.0)
    monkeypatch.setattr(pacing, "CHAT_BURST", 1.0)
    monkeypatch.setattr(FakeTelegram, "DEFAULT_LIMITS", (30.0, 30.0, 1000.0, 1000.0))


def pump(limit: float = 20.0) -> int:
    """Poll, process and send until nothing is left (what the worker does), waiting for paced rows."""
    total, deadline = 0, time.monotonic() + limit
    while time.monotonic() < deadline:
        work = tasks.poll_round() + processing.run_pending_once() + tasks.send_round()
        total += work
        if work:
            continue
        waiting = Outbox.objects.filter(channel__in=tasks.CHANNELS).aggregate(m=Min("next_attempt"))["m"]
        if waiting is None:
            return total
        time.sleep(min(1.0, max(0.02, (waiting - timezone.now()).total_seconds())))
    raise AssertionError("the bot never went idle")


class Phone:
    """A requester's Telegram: types, presses buttons, reads the screen."""

    def __init__(self, fake: FakeTelegram, chat_id: int, lang: str = "ru") -> None:
        self.fake, self.chat_id, self.lang = fake, chat_id, lang

    def send(self, text: str) -> None:
        self.fake.user_message(TOKEN, self.chat_id, text, lang=self.lang)
        pump()

    def press(self, prefix: str = "", label: str = "") -> None:
        """Press the newest button whose data starts with ``prefix`` or whose label contains ``label``."""
        for text, data in self.fake.buttons(TOKEN, self.chat_id):
            if (prefix and data.startswith(prefix)) or (label and label in text):
                self.fake.user_press(TOKEN, self.chat_id, data, lang=self.lang)
                pump()
                return
        raise AssertionError(f"no button {prefix or label!r} in {self.fake.buttons(TOKEN, self.chat_id)}")

    def screen(self) -> list[str]:
        return [m.get("text") or "" for m in self.fake.visible(TOKEN, self.chat_id)]

    def bot_texts(self) -> list[str]:
        return [m["text"] for m in self.fake.sent_to(TOKEN, self.chat_id)]

    def last(self) -> str:
        return self.bot_texts()[-1]


def telegram_case(persona: Persona, bot: Bot, chat_id: int, lang: str = "ru") -> Case:
    """A case as the bot makes it, bound to ``chat_id``."""
    case = actions.create_case(persona.org, category="summons", channel=Channel.TELEGRAM,
                               summary="Повестка", first_message="Пришла повестка")
    links.bind(case, bot, chat_id, lang)
    return case
