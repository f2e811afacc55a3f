"""Updates, each processed once: recorded by ``update_id`` first, then processed.

Recording is one ``INSERT … ON CONFLICT DO NOTHING`` under the unique
(bot, update_id) constraint, with the body encrypted under a server key: a
repeated update (Telegram delivers at least once) records nothing the second
time. In polling mode the new offset is saved in the same transaction as the
updates it confirms, so a restart neither skips nor loses any.

Processing takes the bot's lease (one processor per bot at a time, so a chat's
updates are handled in order), then handles each received update in its own
transaction, which also marks it done and queues the answers. A crash
mid-processing rolls all of it back: the update stays "received" and is
processed again, never lost and never half-done. An update that keeps failing
is retried with backoff and set aside as "failed" after a few attempts, so it
cannot block the chats behind it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import traceback
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from haven.vault import VaultError

from . import bots, dialog, media, sealing
from .client import ApiError
from .models import Bot, Mode, Update, UpdateState
from .outgoing import deliver_now

log = logging.getLogger("haven.telegram")
MAX_BODY = 1024 * 1024
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
KEEP_DONE = timedelta(days=2)  # Telegram redelivers for up to a day


INSERT_UPDATE = (
    f"INSERT INTO {Update._meta.db_table} (bot_id, update_id, body, state, received, attempts, "  # noqa: S608 - the model's own table name
    "next_try) VALUES (%s, %s, %s, %s, %s, 0, %s) ON CONFLICT (bot_id, update_id) DO NOTHING"
)


_SQLITE_WRITES = threading.Lock()


class BadUpdate(ValueError):
    """The body is not a Telegram update."""


MAX_DEPTH = 64  # a real update nests about a dozen levels (a reply to a message with buttons)


def parse(raw: bytes) -> dict[str, Any]:
    """The update in ``raw``; BadUpdate if it is not JSON, nests too deep, or has no update_id.

    ``[[[[…]]]]`` a few thousand levels deep makes ``json.loads`` raise
    ``RecursionError``; a little less parses, but would fail later wherever the
    worker walks it. Both are refused here, before anything is recorded.
    """
    try:
        update = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadUpdate("not JSON") from None
    if not _shallow(update):
        raise BadUpdate("nested too deep")
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id < 2**62:
        raise BadUpdate("no update_id")
    return update


def _shallow(value: Any) -> bool:
    """True if no list or object in ``value`` is nested deeper than MAX_DEPTH (no recursion)."""
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return False
            children = item.values() if isinstance(item, dict) else item
            todo.extend((child, depth + 1) for child in children)
    return True


def record(bot_id: int, update_id: int, raw: bytes) -> None:
    """Store an update unless it is there already (a redelivery).

    One plain ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL both have
    it): this runs for every update the webhook receives, and the ORM's
    ``bulk_create`` costs as much again in Python as the insert itself.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    body = sealing.seal_bytes(sealing.UPDATE, raw)
    params: list[Any] = [bot_id, update_id, body, UpdateState.RECEIVED.value, now, now]
    # SQLite has one writer at a time, and a thread that finds the file locked sleeps in
    # coarse steps; threads of one process queue here instead.
    with _SQLITE_WRITES if connection.vendor == "sqlite" else nullcontext(), connection.cursor() as cursor:
        cursor.execute(INSERT_UPDATE, params)


def poll(bot: Bot, timeout: float = 0) -> int:
    """getUpdates once; record what came and move the offset in one transaction."""
    try:
        updates = bots.api(bot).call("getUpdates", {
            "offset": bot.poll_offset, "timeout": int(timeout), "limit": 100,
            "allowed_updates": bots.ALLOWED_UPDATES}, timeout=timeout + 10)
    except ApiError as exc:
        bots.note_error(bot.pk, exc.code)
        return 0
    fresh = [u for u in updates or [] if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
    if not fresh:
        return 0
    with transaction.atomic():
        Update.objects.bulk_create(
            [Update(bot_id=bot.pk, update_id=u["update_id"],
                    body=sealing.seal_bytes(sealing.UPDATE, json.dumps(u).encode("utf-8")))
             for u in fresh], ignore_conflicts=True)
        offset = max(u["update_id"] for u in fresh) + 1
        Bot.objects.filter(pk=bot.pk, poll_offset__lt=offset).update(poll_offset=offset)
    bot.poll_offset = max(bot.poll_offset, offset)
    return len(fresh)


def _take_lease(bot: Bot, owner: str) -> bool:
    now = timezone.now()
    return bool(Bot.objects.filter(pk=bot.pk).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)).update(
        lease_until=now + LEASE, lease_owner=owner))


def _drop_lease(bot: Bot, owner: str) -> None:
    Bot.objects.filter(pk=bot.pk, lease_owner=owner).update(lease_until=None, lease_owner="")


def process_pending(bot: Bot, limit: int = 200, owner: str | None = None) -> int:
    """Process the bot's received updates in order; return how many were handled."""
    owner = owner or secrets.token_hex(8)
    if not _take_lease(bot, owner):
        return 0
    handled = 0
    try:
        rows = list(Update.objects.filter(bot=bot, state=UpdateState.RECEIVED,
                                          next_try__lte=timezone.now()).order_by("update_id")
                    .values_list("pk", flat=True)[:limit])
        for pk in rows:
            if handled and handled % 20 == 0:
                _take_lease(bot, owner)
            handled += process_one(bot, pk)
    finally:
        _drop_lease(bot, owner)
    return handled


def process_one(bot: Bot, pk: int) -> int:
    row = Update.objects.filter(pk=pk, state=UpdateState.RECEIVED).first()
    if row is None:
        return 0
    try:
        update = json.loads(sealing.unseal_bytes(sealing.UPDATE, bytes(row.body)))
        if update.get("update_id") != row.update_id:
            raise BadUpdate("moved")
    except (ValueError, VaultError, AttributeError):
        Update.objects.filter(pk=pk).update(state=UpdateState.FAILED, body=b"")
        return 1
    fetched = _fetch(bot, update)
    chat_id = _private_chat(update)
    if chat_id is not None:
        # The chat's slow key (an Argon2id: tens of milliseconds) is made here, before the
        # transaction, and kept in this process's cache for the turn to find. Inside the
        # transaction it held SQLite's one write lock for the hash: in a surge of new
        # chats every intake, desk action and webhook call waited (bench/surge.py).
        sealing.chat_key(bot.telegram_id, chat_id)
    try:
        with transaction.atomic():
            if not Update.objects.filter(pk=pk, state=UpdateState.RECEIVED).update(
                    state=UpdateState.DONE, body=b""):
                return 0  # another worker processed it meanwhile
            outbox_row = dialog.handle(bot, update, fetched)
    except Exception as exc:  # one bad update must not stop the others
        _retry_later(row, exc)
        return 1
    if outbox_row is not None:
        deliver_now([outbox_row])
    return 1


def _private_chat(update: dict[str, Any]) -> int | None:
    """The private chat whose state the update's turn opens (as :mod:`.dialog` finds it)."""
    query = update.get("callback_query")
    for holder in (update.get("message"), query.get("message") if isinstance(query, dict) else None,
                   update.get("my_chat_member")):
        chat_id = dialog.private_chat_id(holder)
        if chat_id is not None:
            return chat_id
    return None


def _fetch(bot: Bot, update: dict[str, Any]) -> media.Fetched | None:
    message = update.get("message")
    if not isinstance(message, dict) or dialog.private_chat_id(message) is None:
        return None
    return media.fetch(bot, message, dialog.guess_lang(message.get("from")))


def _retry_later(row: Update, exc: Exception) -> None:
    """Log where it failed (never the content), and try again later or set it aside."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else "?"
    log.error("telegram update %s failed: %s at %s", row.update_id, type(exc).__name__, where)
    attempts = row.attempts + 1
    state = UpdateState.FAILED if attempts >= MAX_ATTEMPTS else UpdateState.RECEIVED
    changes: dict[str, Any] = {"attempts": attempts, "state": state,
                               "next_try": timezone.now() + timedelta(seconds=2 ** attempts)}
    if state == UpdateState.FAILED:
        changes["body"] = b""
    Update.objects.filter(pk=row.pk).update(**changes)


def bots_with_work() -> list[Bot]:
    due = Update.objects.filter(state=UpdateState.RECEIVED, next_try__lte=timezone.now())
    return list(Bot.objects.filter(pk__in=due.values("bot_id")).select_related("organization"))


def polling_bots() -> list[Bot]:
    return list(Bot.objects.filter(mode=Mode.POLLING, token__isnull=False)
                .select_related("organization"))


def purge_done() -> int:
    deleted, _ = Update.objects.filter(state__in=[UpdateState.DONE, UpdateState.FAILED],
                                       received__lt=timezone.now() - KEEP_DONE).delete()
    return deleted


def run_pending_once() -> int:
    """Process every bot's received updates once (the worker's fallback and tests)."""
    return sum(process_pending(bot) for bot in bots_with_work())
