"""How a chat is found again: a slow keyed hash, and old fast-keyed rows re-keyed once."""

from __future__ import annotations

from datetime import timedelta

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

from .conftest import Phone, telegram_case


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
