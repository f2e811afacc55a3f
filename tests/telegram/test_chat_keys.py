"""How a chat is found again: a slow keyed hash, and old fast-keyed rows re-keyed once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from haven.cases import actions
from haven.core.keys import pepper_hash
from haven.intake import conversations, registry
from haven.telegram import chats, sealing
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import AutoClear, Bot, Chat, TrackedMessage
from haven.vault import KdfParams, slow_keyed_hash
from haven.vault.kdf import SLOW_LOOKUP
from haven.vault.purposes import Lookup
from tests.conftest import Persona

from .conftest import TOKEN, Phone, pump, telegram_case


def test_a_stored_chat_key_takes_the_full_argon2id_to_find_from_a_chat_id(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    Phone(fake, 8201).send("/start")
    [row] = Chat.objects.all()
    value = f"{bot.telegram_id}:8201"
    fast = {pepper_hash(label, value) for label in (Lookup.TG_CHAT, Lookup.TG_CHAT_SLOW)}
    assert row.key not in fast
    assert row.key == slow_keyed_hash(settings.HAVEN_PEPPER, Lookup.TG_CHAT_SLOW, value, SLOW_LOOKUP)
    cheaper = KdfParams(opslimit=1, memlimit=SLOW_LOOKUP.memlimit // 4)
    assert row.key != slow_keyed_hash(settings.HAVEN_PEPPER, Lookup.TG_CHAT_SLOW, value, cheaper)


def test_a_chat_keyed_the_old_way_is_moved_to_the_slow_key_on_its_next_message(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    case = telegram_case(alice, bot, 8202)
    old = sealing.fast_chat_key(bot.telegram_id, 8202)
    state = {"lang": "ru", "mode": "menu", "case": case.pk, "nonce": 3, "picks": []}
    Chat.objects.create(key=old, bot=bot, state=sealing.seal(sealing.STATE, old, state),
                        expires=timezone.now() + timedelta(days=3))
    TrackedMessage.objects.create(chat_key=old, message_id=77)
    AutoClear.objects.create(chat_key=old, bot=bot, after=3600,
                             sealed_chat=sealing.seal(sealing.AUTOCLEAR, old, 8202))
    started = registry.engine("summons").start("ru")
    conversations.create(alice.org, f"telegram:{bot.telegram_id}:8202", started, "telegram")
    Phone(fake, 8202).send("Пришла вторая повестка")
    new = sealing.chat_key(bot.telegram_id, 8202)
    assert not Chat.objects.filter(key=old).exists()
    assert chats.open_chat(bot, 8202).state.case == case.pk  # the link and language came along
    assert TrackedMessage.objects.filter(chat_key=new, message_id=77).exists()
    assert not TrackedMessage.objects.filter(chat_key=old).exists()
    clear = AutoClear.objects.get()
    assert clear.chat_key == new and sealing.unseal(sealing.AUTOCLEAR, new, bytes(clear.sealed_chat)) == 8202
    assert conversations.load(f"telegram:{new}", alice.org)[1].lang == "ru"
    bodies = [r["body"] for r in actions.read_case(alice.member, alice.vault(), case)]
    assert "Пришла вторая повестка" in bodies


def test_a_self_clearing_chat_keyed_the_old_way_is_moved_by_the_worker_and_still_cleared(
        alice: Persona, bot: Bot, fake: FakeTelegram) -> None:
    from haven.telegram import autoclear, tasks

    fake.open_chat(TOKEN, 8203)
    case = telegram_case(alice, bot, 8203)
    old = sealing.fast_chat_key(bot.telegram_id, 8203)
    Chat.objects.create(key=old, bot=bot, expires=timezone.now() + timedelta(days=3),
                        state=sealing.seal(sealing.STATE, old, {"lang": "ru", "case": case.pk}))
    AutoClear.objects.create(chat_key=old, bot=bot, after=3600,
                             sealed_chat=sealing.seal(sealing.AUTOCLEAR, old, 8203))
    actions.reply(alice.member, alice.vault(), case, "Ответ, пока чат молчит")
    pump()  # sent and tracked under the new key, while the chat's rows still have the old one
    tasks.telegram_housekeeping()
    new = sealing.chat_key(bot.telegram_id, 8203)
    assert AutoClear.objects.get().chat_key == new
    assert Chat.objects.get().key == new
    assert chats.rekey_clearing() == 0  # once
    later = timezone.now() + timedelta(hours=2)
    assert autoclear.clear_due(later) == 1
    pump()
    assert fake.visible(TOKEN, 8203) == []


def test_the_sending_loop_does_not_pay_the_slow_hash(
        alice: Persona, bot: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.open_chat(TOKEN, 8204)
    case = telegram_case(alice, bot, 8204)
    actions.reply(alice.member, alice.vault(), case, "Ответ")  # the key is made here, once
    key = sealing.chat_key(bot.telegram_id, 8204)
    sealing._recent.clear()

    def refuse(*args: object) -> str:
        raise AssertionError("the worker computed a slow chat key")

    monkeypatch.setattr(sealing, "slow_pepper_hash", refuse)
    pump()
    assert len(fake.sent_to(TOKEN, 8204)) == 1
    assert TrackedMessage.objects.get().chat_key == key
