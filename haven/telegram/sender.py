"""The outbox handlers for Telegram: replies from the desk, the bot's answers, channel posts.

``haven.outbox`` claims rows, calls ``send`` and deletes a row once it
returns. Here each send is paced (:mod:`haven.telegram.pacing`), split into
messages of at most 4,096 characters with formatting escaped, and Telegram's
errors become :class:`DeliveryError`:

- 429: the bot's bucket is held for ``retry_after`` and the row waits that long;
- 5xx, timeouts, no connection: retried with the outbox's backoff;
- 403 (the requester blocked the bot): permanent, and shown on the case;
- other 4xx: permanent (the message can never be sent as it is).

Exactly once is impossible with Telegram (no idempotency key): a worker killed
after Telegram accepted a message but before the row is deleted sends it again.
To keep that to the one message in flight, a row of several messages records
its progress after each one, and a process sends one message at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from haven import outbox
from haven.cases.actions import ActionError
from haven.cases.models import Case, Channel
from haven.core.langs import DEFAULT_LANG
from haven.outbox import spool
from haven.outbox.models import Outbox

from . import bots, links, pacing, render, sealing, texts
from .client import ApiError
from .models import Bot, TrackedMessage

log = logging.getLogger("haven.telegram")
MAX_REPLY = 20_000
MAX_PACE_WAIT = 1.5  # longer waits give the row back to the outbox instead of sleeping
IN_FLIGHT = threading.Lock()  # one message on the wire per process


class TelegramHandler:
    name: str = Channel.TELEGRAM

    def check(self, text: str) -> None:
        if len(text) > MAX_REPLY:
            raise ActionError(_("Telegram replies are limited to %(n)d characters; shorten it.")
                              % {"n": MAX_REPLY})

    def address(self, case: Case) -> dict[str, Any]:
        return links.address(case)

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        bot = _bot(payload.get("bot"))
        ops = payload.get("ops") or _reply_ops(bot, payload)
        done = int(payload.get("done") or 0)
        for index in range(done, len(ops)):
            try:
                run(bot, int(payload["chat"]), ops[index], payload.get("key"), row=row)
            except outbox.DeliveryError as exc:
                if exc.permanent and row.case_id and "403" in exc.code:
                    links.set_blocked(row.case_id, True)
                raise
            if index + 1 < len(ops):
                payload["done"] = index + 1
                outbox.save_progress(row, payload)  # ClaimLost: another worker has it now


class ChannelPostHandler:
    """Posts to the organization's public channel (rows made by haven.knowledge.posts)."""

    name: str = "telegram-channel"

    def check(self, text: str) -> None:
        """Posts are checked by the knowledge base when they are scheduled."""

    def address(self, case: Case) -> dict[str, Any]:
        return {}

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        from haven.knowledge.posts import mark_post

        post = int(payload.get("post") or 0)
        bot = Bot.objects.filter(organization_id=row.organization_id).first()
        if bot is None or not bot.token or not bot.channel:
            mark_post(post, ok=False, error="telegram: no bot or channel set")
            raise outbox.DeliveryError("telegram: no bot or channel set", permanent=True)
        op = {"m": "send", "text": str(payload.get("text") or ""), "channel": True}
        try:
            run(bot, bot.channel, op, row=row)
        except outbox.DeliveryError as exc:
            if exc.permanent or (exc.retry_after is None and row.attempts + 1 >= outbox.MAX_ATTEMPTS):
                mark_post(post, ok=False, error=exc.code)
            raise
        mark_post(post, ok=True)


def _bot(bot_id: Any) -> Bot:
    bot = Bot.objects.filter(pk=bot_id).first() if isinstance(bot_id, int) else None
    if bot is None or not bot.token:
        raise outbox.DeliveryError("telegram: the bot is gone or has no token", permanent=True)
    return bot


def _reply_ops(bot: Bot, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """A desk reply as messages, in the requester's language."""
    with translation.override(str(payload.get("lang") or DEFAULT_LANG)):
        header = texts.reply_header(bot.organization.name)
        footer = texts.reply_footer()
    parts = render.reply_parts(header, str(payload.get("text") or ""), footer)
    return [{"m": "send", "text": part} for part in parts] + _document_ops(payload)


def _document_ops(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """A reply's file (haven/outbox/spool.py), sent after its text as a document."""
    file = payload.get("file")
    if not isinstance(file, dict) or not spool.names_in(payload):
        return []
    return [{"m": "document", "spool": file["spool"], "name": str(file.get("name") or "document"),
             "type": str(file.get("type") or "application/octet-stream")}]


def run(bot: Bot, chat: int | str, op: dict[str, Any], key: str | None = None, *,
        row: Outbox | None = None) -> None:
    """Carry out one operation, or raise DeliveryError.

    ``key`` is the chat's key, computed when the row was queued (the slow hash is paid
    there, by the request that knew the chat anyway), so the sending loop does not.
    ``row``: the claimed outbox row; after any pacing wait its claim is checked and
    extended (:func:`haven.outbox.hold`), so nothing goes out on a claim another
    worker has taken meanwhile (ClaimLost), and the send fits in the claim.
    """
    if op.get("m") == "document":
        return _send_document(bot, chat, op, key)
    method, params = _call_of(chat, op)
    if method == "sendMessage" and not op.get("channel"):
        key = key or sealing.chat_key(bot.telegram_id, int(chat))
    if method == "sendMessage":
        _pace(bot, key, op)
    if row is not None:
        outbox.hold(row)
    try:
        with IN_FLIGHT:
            result = bots.api(bot).call(method, params)
    except ApiError as exc:
        _failed(bot, method, exc)
        return
    if method == "sendMessage" and isinstance(result, dict) and not op.get("channel"):
        with transaction.atomic():
            pacing.no_fsync()  # an id lost in a crash only means one message /clear cannot remove
            TrackedMessage.objects.create(chat_key=str(key),
                                          message_id=int(result.get("message_id") or 0))


def _send_document(bot: Bot, chat: int | str, op: dict[str, Any], key: str | None) -> None:
    """A file from the desk: read from the spool, paced like a message, uploaded (multipart).

    The spool file stays until the row is deleted (haven/outbox/spool.py), so a retry
    after a failure or a killed worker finds it again.
    """
    key = key or sealing.chat_key(bot.telegram_id, int(chat))
    try:
        data = spool.read(str(op.get("spool") or ""))
    except (spool.SpoolMissing, ValueError):
        raise outbox.DeliveryError("telegram: the spooled file is gone", permanent=True) from None
    _pace(bot, key, op)
    try:
        with IN_FLIGHT:
            result = bots.api(bot).send_file("sendDocument", {"chat_id": chat}, "document",
                                             str(op.get("name") or "document"), data,
                                             str(op.get("type") or "application/octet-stream"))
    except ApiError as exc:
        _failed(bot, "sendDocument", exc)
        return
    if isinstance(result, dict):
        with transaction.atomic():
            pacing.no_fsync()
            TrackedMessage.objects.create(chat_key=str(key),
                                          message_id=int(result.get("message_id") or 0))


def _call_of(chat: int | str, op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = op.get("m")
    if kind == "send":
        params: dict[str, Any] = {"chat_id": chat, "text": op["text"], "parse_mode": "HTML",
                                  "link_preview_options": {"is_disabled": True}}
        if op.get("buttons"):
            params["reply_markup"] = op["buttons"]
        return "sendMessage", params
    if kind == "answer":
        params = {"callback_query_id": op["id"]}
        if op.get("text"):
            params["text"] = op["text"]
        return "answerCallbackQuery", params
    if kind == "unbutton":
        params = {"chat_id": chat, "message_id": op["id"]}
        if op.get("buttons"):
            params["reply_markup"] = op["buttons"]
        return "editMessageReplyMarkup", params
    if kind == "delete":
        return "deleteMessages", {"chat_id": chat, "message_ids": op["ids"][:100]}
    if kind == "leave":
        return "leaveChat", {"chat_id": chat}
    raise outbox.DeliveryError(f"telegram: unknown operation {kind}", permanent=True)


def _pace(bot: Bot, chat_key: str | None, op: dict[str, Any]) -> None:
    limits = [pacing.Limit(pacing.bot_key(bot.pk), pacing.BOT_RATE, pacing.BOT_BURST)]
    if chat_key is not None and not op.get("channel"):
        limits.append(pacing.Limit(pacing.chat_key(chat_key), pacing.CHAT_RATE, pacing.CHAT_BURST))
    try:
        wait = pacing.reserve(limits, MAX_PACE_WAIT)
    except pacing.TooEarly as exc:
        raise outbox.DeliveryError("telegram: paced", retry_after=exc.wait) from None
    if wait > 0:
        time.sleep(wait)
        left = pacing.held(pacing.bot_key(bot.pk))  # a 429 while this worker slept
        if left > 0:
            raise outbox.DeliveryError("telegram: paced", retry_after=left)


def _failed(bot: Bot, method: str, exc: ApiError) -> None:
    """Map Telegram's answer to the outbox's terms; best-effort calls fail quietly."""
    if method not in ("sendMessage", "sendDocument") and exc.status == 400:
        return  # a button press too old to answer, a message already gone: nothing to do
    if exc.status == 429:
        wait = exc.retry_after or 1.0
        pacing.hold(pacing.bot_key(bot.pk), wait)
        raise outbox.DeliveryError(exc.code, retry_after=wait)
    bots.note_error(bot.pk, exc.code)
    if exc.status == 403:
        raise outbox.DeliveryError("telegram 403: the requester blocked the bot", permanent=True)
    if exc.transient or exc.status == 401:
        raise outbox.DeliveryError(exc.code)
    log.warning("telegram refused %s: %s", method, exc.status)
    raise outbox.DeliveryError(exc.code, permanent=True)


def register() -> None:
    outbox.register(TelegramHandler(), own_task=True)  # sent by tasks.send_round
    outbox.register(ChannelPostHandler(), own_task=True)
