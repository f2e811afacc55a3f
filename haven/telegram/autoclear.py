"""A chat that clears itself: the bot deletes its own and the requester's messages
a period after they were sent, so that a phone checked later (at a border) shows nothing.

The requester picks the period (:data:`PERIODS`, all within Telegram's 48-hour
limit on deleting messages). The worker does the deleting with nobody present,
so it needs the chat id: it is kept in an ``AutoClear`` row encrypted under a
subkey of ``HAVEN_TOKEN_KEY`` and bound to the chat's keyed hash, as a case's
server copy of its chat id is. The message ids are those "clear this chat"
uses (``TrackedMessage``). Everything is in the database, so a restarted worker
carries on where the last one stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from haven.vault import VaultError

from . import outgoing, sealing
from .chats import ChatHandle
from .models import AutoClear, Chat, TrackedMessage
from .outgoing import Out

PERIODS = (1, 12, 24, 47)  # hours; Telegram lets a bot delete messages for 48 hours
DELETE_WINDOW = timedelta(hours=47, minutes=50)  # Telegram's 48 hours, with a margin


def period_of(handle: ChatHandle) -> int:
    """The chosen period in hours, or 0 when the chat does not clear itself."""
    after = AutoClear.objects.filter(chat_key=handle.key).values_list("after", flat=True).first()
    return (after or 0) // 3600


def choose(handle: ChatHandle, hours: int) -> None:
    """Turn clearing on after ``hours`` (one of PERIODS), or off with 0."""
    if hours == 0:
        AutoClear.objects.filter(chat_key=handle.key).delete()
        return
    if hours not in PERIODS:
        raise ValueError("not a period the bot offers")
    sealed = sealing.seal(sealing.AUTOCLEAR, handle.key, handle.chat_id)
    AutoClear.objects.update_or_create(chat_key=handle.key, defaults={
        "bot": handle.bot, "sealed_chat": sealed, "after": hours * 3600})


def forget(chat_key: str) -> None:
    AutoClear.objects.filter(chat_key=chat_key).delete()


def clear_due(now: datetime | None = None) -> int:
    """Queue and send the deletion of every tracked message past its chat's period."""
    now = now or timezone.now()
    return sum(_clear(row, now) for row in AutoClear.objects.select_related("bot"))


def _clear(row: AutoClear, now: datetime) -> int:
    due = list(TrackedMessage.objects.filter(
        chat_key=row.chat_key, created__lte=now - timedelta(seconds=row.after),
    ).values_list("pk", "message_id", "created"))
    if not due:
        return 0
    try:
        chat_id = int(sealing.unseal(sealing.AUTOCLEAR, row.chat_key, bytes(row.sealed_chat)))
    except (VaultError, TypeError, ValueError):
        row.delete()  # it does not open: nothing can be deleted for this chat
        return 0
    # Telegram refuses ids past its window; they are dropped without a call.
    ids = sorted({m for _pk, m, created in due if m and created > now - DELETE_WINDOW})
    with transaction.atomic():
        taken, _ = TrackedMessage.objects.filter(pk__in=[pk for pk, _m, _c in due]).delete()
        if taken != len(due):  # another worker is clearing this chat: leave it to that one
            transaction.set_rollback(True)
            return 0
        out = Out(row.bot, chat_id)
        for start in range(0, len(ids), 100):
            out.delete(ids[start:start + 100])
        queued = out.queue()
    if queued is not None:
        outgoing.deliver_now([queued])
    return len(ids)


def purge_stale() -> int:
    """Settings of chats the bot no longer knows (their mapping expired)."""
    live = Chat.objects.filter(expires__gt=timezone.now()).values("key")
    deleted, _ = AutoClear.objects.exclude(chat_key__in=live).delete()
    return deleted
