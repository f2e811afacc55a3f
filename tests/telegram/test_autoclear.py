"""A chat that clears itself: the requester picks a period, the worker deletes the messages.

Time is faked by making the chat's messages older, in the fake Telegram (whose
48-hour rule reads their dates) and in the bot's list of message ids.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db.models import F

from haven.telegram import autoclear, tasks
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import AutoClear, Bot, TrackedMessage
from tests.conftest import Persona

from .conftest import TOKEN, Phone, pump
from .test_worker_kill import ROOT, _database_url

HOUR = 3600


def _elapse(fake: FakeTelegram, chat_id: int, seconds: int) -> None:
    """Fake time: everything in the chat was sent ``seconds`` earlier."""
    fake.age(TOKEN, chat_id, seconds)
    TrackedMessage.objects.update(created=F("created") - timedelta(seconds=seconds))


def _phone_clearing_after(fake: FakeTelegram, chat_id: int, label: str, lang: str = "en") -> Phone:
    phone = Phone(fake, chat_id, lang)
    phone.send("/start")
    phone.press(f"l:{lang}")
    phone.send("/autoclear")
    phone.press(label=label)
    return phone


def test_the_chat_clears_itself_after_the_period_the_requester_chose(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = _phone_clearing_after(fake, 8301, "12 hours")
    assert "deleted 12 hours after it was sent" in phone.last()
    phone.send("is anyone there?")
    shown = len(phone.screen())
    assert shown >= 7
    deletes = fake.calls["deleteMessages"]

    _elapse(fake, 8301, 11 * HOUR)
    assert tasks.telegram_autoclear() == 0
    pump()
    assert len(phone.screen()) == shown and fake.calls["deleteMessages"] == deletes

    _elapse(fake, 8301, HOUR + 60)
    assert tasks.telegram_autoclear() == shown
    pump()
    assert phone.screen() == []  # the bot's messages and the requester's
    assert fake.calls["deleteMessages"] > deletes
    assert not TrackedMessage.objects.exists()
    # It goes on: a new message is deleted too, once 12 hours old.
    phone.send("one more")
    assert phone.screen()
    _elapse(fake, 8301, 12 * HOUR)
    tasks.telegram_autoclear()
    pump()
    assert phone.screen() == []


def test_the_chat_id_is_kept_only_encrypted_and_off_means_nothing_is_deleted(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    phone = _phone_clearing_after(fake, 8302789, "1 hour")
    row = AutoClear.objects.get()
    assert row.after == HOUR and b"8302789" not in bytes(row.sealed_chat)
    assert "8302789" not in row.chat_key
    phone.send("/autoclear")
    assert "deleted 1 hour after they are sent" in phone.last()
    phone.press(label="Do not delete automatically")
    assert "no longer clears itself" in phone.last()
    assert not AutoClear.objects.exists()
    _elapse(fake, 8302789, 5 * HOUR)
    tasks.telegram_autoclear()
    pump()
    assert len(phone.screen()) >= 5


def test_every_period_offered_is_within_telegrams_48_hours(alice: Persona, bot: Bot,
                                                           fake: FakeTelegram) -> None:
    assert max(autoclear.PERIODS) < 48
    phone = Phone(fake, 8303, "ru")
    phone.send("/start")
    phone.press("l:ru")
    phone.send("/autoclear")
    labels = [label for label, _data in fake.buttons(TOKEN, 8303)]
    assert labels == ["1 час", "12 часов", "24 часа", "47 часов", "Не удалять автоматически"]
    assert "48 часов" in phone.last()
    phone.press(label="24 часа")
    assert "через 24 часа" in phone.last()


def test_a_blocked_bot_forgets_the_chat_it_cleared(alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    _phone_clearing_after(fake, 8304, "47 hours")
    assert AutoClear.objects.count() == 1
    fake.user_blocks(TOKEN, 8304)
    pump()
    assert not AutoClear.objects.exists()


WORKER_ONCE = """
import os, django
django.setup()
from django.conf import settings
settings.HAVEN_TELEGRAM_API_URL = os.environ["FAKE_TELEGRAM"]
from django.core.management import call_command
call_command("worker", "--once")
"""


@pytest.mark.django_db(transaction=True)
def test_a_new_worker_process_clears_what_was_chosen_before_it_started(
        alice: Persona, bot: Bot, fake: FakeTelegram, settings: Any, tmp_path: Path) -> None:
    phone = _phone_clearing_after(fake, 8305, "1 hour")
    phone.send("hello")
    assert len(phone.screen()) >= 7
    _elapse(fake, 8305, HOUR + 60)
    env = {**os.environ, "HAVEN_MODE": "test", "HAVEN_DATA": str(settings.DATA_DIR),
           "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": _database_url(),
           "FAKE_TELEGRAM": fake.url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", WORKER_ONCE], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "telegram_autoclear: " in done.stdout and "telegram_autoclear: 0" not in done.stdout
    assert phone.screen() == []
