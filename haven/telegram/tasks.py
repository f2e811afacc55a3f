"""Telegram's part of ``haven worker``: polling, processing updates, sending, housekeeping.

The worker runs its periodic tasks in one loop and sleeps a second between
rounds. :func:`telegram_round` therefore keeps working for up to ``BUDGET``
seconds while there is work (getUpdates for polling bots at most once a second,
received updates, due outbox rows), and returns as soon as there is none, so a
requester waits at most about a second for an answer, and a queue of replies is
sent at Telegram's pace rather than in one batch a second. The pause between
rounds is made up by the bot's token bucket, which lets the first messages of a
round go at once (see :mod:`haven.telegram.pacing`).

Everything here is safe with several workers: updates are processed under a
per-bot lease, outbox rows are claimed, pacing is shared through the database.
"""

from __future__ import annotations

import time

from haven import outbox
from haven.cases.models import Channel
from haven.core.worker import periodic

from . import autoclear, chats, links, pacing, processing
from .models import TrackedMessage

BUDGET = 10.0
POLL_EVERY = 1.0
SEND_BATCH = 10  # rows claimed at once: what a killed worker leaves waiting for its lease
CHANNELS = (Channel.TELEGRAM, "telegram-channel")


def send_round(batch: int = SEND_BATCH) -> int:
    """Claim and send due Telegram rows once; return how many were claimed."""
    result = outbox.Result()
    claimed = 0
    for channel in CHANNELS:
        rows = outbox.claim(channel, batch)
        claimed += len(rows)
        for row in rows:
            outbox.deliver(row, result)
    return claimed


def poll_round(timeout: float = 0) -> int:
    return sum(processing.poll(bot, timeout) for bot in processing.polling_bots())


@periodic(every=1, purges=True)
def telegram_round(budget: float = BUDGET) -> int:
    """Poll, process and send until there is nothing to do or the budget is spent."""
    deadline = time.monotonic() + budget
    next_poll = 0.0
    handled = 0
    while True:
        work = 0
        if time.monotonic() >= next_poll:
            work += poll_round()
            next_poll = time.monotonic() + POLL_EVERY
        work += processing.run_pending_once()
        work += send_round()
        handled += work
        if not work or time.monotonic() >= deadline:
            return handled


@periodic(every=60, purges=True)
def telegram_autoclear() -> int:
    """Delete the messages of chats that clear themselves, once past their period."""
    return autoclear.clear_due()


@periodic(every=300, purges=True)
def telegram_housekeeping() -> int:
    """Old updates, expired chats (and their clearing), message ids past the deletion window,
    closed cases' chats (the server copy of the chat id, and the chat's link to the case),
    self-clearing chats still under the old fast key."""
    from django.utils import timezone

    from .dialog import DELETE_WINDOW

    tracked, _ = TrackedMessage.objects.filter(created__lt=timezone.now() - DELETE_WINDOW).delete()
    return (processing.purge_done() + chats.purge_expired() + tracked + pacing.purge()
            + links.disconnect_closed() + chats.unlink_closed() + autoclear.purge_stale()
            + chats.rekey_clearing())
