from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from haven.telegram import bots, processing, sealing
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot, Mode, Update, UpdateState
from tests.conftest import Persona

from .conftest import TOKEN, pump

SECRET = "s3cret-for-tests"


@pytest.fixture
def hooked(bot: Bot) -> Bot:
    Bot.objects.filter(pk=bot.pk).update(mode=Mode.WEBHOOK, webhook_secret_hash=sealing.secret_hash(SECRET))
    bot.refresh_from_db()
    return bot


def _post(bot: Bot, body: bytes | str, secret: str | None = SECRET, **extra: str):  # type: ignore[no-untyped-def]
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    data = body.encode() if isinstance(body, str) else body
    return Client().post(f"/telegram/webhook/{bot.public_id}/", data=data,
                         content_type="application/json", **headers, **extra)


def _update(update_id: int = 1, text: str = "/start") -> str:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "text": text, "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "T"}}})


def test_it_records_an_update_once_however_often_it_comes(hooked: Bot) -> None:
    assert _post(hooked, _update(10)).status_code == 200
    assert _post(hooked, _update(10)).status_code == 200
    [row] = Update.objects.all()
    assert row.update_id == 10 and row.state == UpdateState.RECEIVED
    assert b"/start" not in bytes(row.body)  # encrypted


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_a_call_without_the_right_secret_is_refused_and_nothing_recorded(hooked: Bot, secret: str | None) -> None:
    assert _post(hooked, _update(), secret=secret).status_code == 401
    assert not Update.objects.exists()


def test_an_unknown_bot_id_is_refused_like_a_wrong_secret(hooked: Bot) -> None:
    response = Client().post("/telegram/webhook/nope/", data=_update(), content_type="application/json",
                             HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)
    assert response.status_code == 401


@pytest.mark.parametrize("body", ["not json", "[]", '{"message": {}}', '{"update_id": "7"}',
                                  '{"update_id": -1}', '{"update_id": true}', "\xff\xfe"])
def test_a_body_that_is_not_an_update_is_refused_without_a_5xx(hooked: Bot, body: str) -> None:
    assert _post(hooked, body).status_code == 400
    assert not Update.objects.exists()


@pytest.mark.parametrize("depth", [100_000, 900, processing.MAX_DEPTH + 1])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_with_400_not_a_500(hooked: Bot, depth: int, opener: str) -> None:
    """Penetration test: nested JSON made json.loads raise RecursionError (a 500)."""
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "1" + closer * depth
    body = '{"update_id": 5, "message": ' + nested + "}" if depth < 1000 else nested
    response = Client(raise_request_exception=False).post(
        f"/telegram/webhook/{hooked.public_id}/", data=body.encode(), content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)
    assert response.status_code == 400
    assert not Update.objects.exists()


def test_an_update_as_deep_as_a_real_one_is_recorded(hooked: Bot) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Да", "callback_data": "a:1"}]]}
    reply = {"message_id": 2, "date": 0, "chat": {"id": 5, "type": "private"}, "reply_markup": keyboard}
    update = json.loads(_update(13))
    update["message"]["reply_to_message"] = {**reply, "reply_to_message": dict(reply)}
    assert _post(hooked, json.dumps(update)).status_code == 200
    assert Update.objects.filter(update_id=13).exists()


def test_a_body_over_the_limit_is_refused_before_it_is_read(hooked: Bot) -> None:
    big = _update(11, "x" * (processing.MAX_BODY + 10))
    assert _post(hooked, big).status_code == 413
    response = _post(hooked, _update(12), CONTENT_LENGTH=str(processing.MAX_BODY + 1))
    assert response.status_code == 413
    assert not Update.objects.exists()


def test_only_post_is_accepted(hooked: Bot) -> None:
    assert Client().get(f"/telegram/webhook/{hooked.public_id}/").status_code == 405


@pytest.mark.parametrize("update", [
    {"edited_message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "x"}},
    {"channel_post": {"message_id": 1, "date": 0, "chat": {"id": -100, "type": "channel"}, "text": "x"}},
    {"message": {"message_id": 2, "date": 0, "chat": {"id": -5, "type": "group"}, "text": "/start"}},
    {"message": {"message_id": 3, "date": 0, "chat": {"id": 5, "type": "private"}, "sticker": {"file_id": "x"}}},
    {"message": {"message_id": 4, "date": 0, "chat": {"id": 5, "type": "private"},
                 "contact": {"phone_number": "+7900"}}},
    {"message": {"message_id": 5, "date": 0, "chat": {"id": 5, "type": "private"},
                 "location": {"latitude": 1.0, "longitude": 2.0}}},
    {"callback_query": {"id": "q", "data": "m:ask", "message": {"chat": {"id": -5, "type": "group"}}}},
    {"callback_query": {"id": "q", "data": "zz:1:2", "message": {"message_id": 9, "chat": {"id": 5, "type": "private"}}}},
    {"my_chat_member": {"chat": {"id": 5, "type": "private"}, "new_chat_member": {"status": "kicked"}}},
    {"poll": {"id": "1"}}, {"message": "not an object"}, {"message": {"chat": "nope"}}, {},
])
def test_any_kind_of_update_is_handled_or_ignored_without_an_error(
        hooked: Bot, fake: FakeTelegram, update: dict[str, object]) -> None:
    fake.open_chat(TOKEN, 5)
    assert _post(hooked, json.dumps({"update_id": 77, **update})).status_code == 200
    processing.run_pending_once()
    assert Update.objects.get(update_id=77).state == UpdateState.DONE


def test_a_crash_mid_processing_leaves_the_update_to_be_processed_again(
        hooked: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.open_chat(TOKEN, 5)
    _post(hooked, _update(21))
    monkeypatch.setattr("haven.telegram.dialog._welcome", lambda turn: 1 / 0)
    monkeypatch.setattr("haven.telegram.dialog._ask_lang", lambda turn: 1 / 0)
    processing.run_pending_once()
    row = Update.objects.get(update_id=21)
    assert row.state == UpdateState.RECEIVED and row.attempts == 1 and row.body
    monkeypatch.undo()
    Update.objects.update(next_try=row.received)
    processing.run_pending_once()
    pump()
    assert Update.objects.get(update_id=21).state == UpdateState.DONE
    assert len(fake.sent_to(TOKEN, 5)) == 1  # the language question, once


@pytest.mark.django_db(transaction=True)
def test_webhook_mode_registers_a_secret_and_telegram_delivers_over_http(
        alice: Persona, fake: FakeTelegram, live_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    bots.set_token(alice.member, TOKEN)
    bot = bots.set_mode(alice.member, Mode.WEBHOOK)
    hook = fake.bots[TOKEN].webhook
    assert hook and hook["url"].endswith(f"/telegram/webhook/{bot.public_id}/")
    assert sealing.secret_hash(hook["secret"]) == bot.webhook_secret_hash
    fake.user_message(TOKEN, 6001, "/start")
    deadline = time.monotonic() + 30  # generous: CI runs other tests beside this one
    while not fake.webhook_log and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.webhook_log == [200] and Update.objects.count() == 1
    pump()
    assert "Choose your language" in fake.sent_to(TOKEN, 6001)[0]["text"]
    bots.set_mode(alice.member, Mode.POLLING)
    assert fake.bots[TOKEN].webhook is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("update", [
    {"message": {"message_id": 1, "date": 0, "text": "/start", "chat": {"id": 8801, "type": "private"},
                 "from": {"id": 8801, "is_bot": False, "first_name": "T"}}},
    {"callback_query": {"id": "q", "data": "l:ru", "from": {"id": 8801, "is_bot": False},
                        "message": {"message_id": 1, "chat": {"id": 8801, "type": "private"}}}},
    {"my_chat_member": {"chat": {"id": 8801, "type": "private"}, "date": 0,
                        "new_chat_member": {"status": "kicked"}}},
])
def test_a_new_chats_slow_key_is_made_before_the_updates_transaction(
        alice: Persona, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch,
        update: dict[str, object]) -> None:
    """On SQLite a transaction holds the database's one write lock: an Argon2id inside it
    made every intake and desk action wait for each new chat in a surge."""
    from django.db import connection

    bots.set_token(alice.member, TOKEN)
    bot = bots.set_mode(alice.member, Mode.POLLING)
    fake.open_chat(TOKEN, 8801)
    sealing._recent.clear()
    inside: list[bool] = []
    real = sealing.slow_pepper_hash

    def watched(purpose: str, value: str) -> str:
        inside.append(connection.in_atomic_block)
        return real(purpose, value)

    monkeypatch.setattr(sealing, "slow_pepper_hash", watched)
    processing.record(bot.pk, 4242, json.dumps({"update_id": 4242, **update}).encode())
    assert processing.run_pending_once() == 1
    assert Update.objects.get(update_id=4242).state == UpdateState.DONE
    assert inside and not any(inside)  # computed, and never while a transaction was open
