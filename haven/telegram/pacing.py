"""Send pacing shared by every worker: a token bucket per bot and per chat, in the database.

Telegram allows a bot about 30 messages a second overall and about one a second
per chat (short bursts pass). Several ``haven worker`` processes may send for
the same bot, so the bucket cannot live in one process's memory, and the cache
is per process unless Redis is configured; the database is shared by
construction. Each bucket is one ``Pace`` row holding a "theoretical arrival
time" (the generic cell rate algorithm, equivalent to a token bucket): a sender
reserves the next slot of its bot and of its chat in one short transaction
(whose commit, on PostgreSQL, does not wait for the disk: losing a pace row in a
crash costs nothing), then sleeps until the slot outside the transaction.

A 429 from Telegram holds the bot's bucket for the ``retry_after`` it gave, so
every worker waits, not only the one that was told. The hold is a row of its own
(``hold:<key>``), a time before which nothing is sent at all: the burst
allowance applies to the bucket, never to the hold (it used to be counted back
from the hold's end, letting sends go 0.8 s early). A worker that reserved its
slot before the hold was written checks it again after sleeping (:func:`held`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from .models import Pace

BOT_RATE = 30.0  # messages a second per bot
BOT_BURST = 0.8  # seconds of sending saved up across the worker's pauses (24 messages)
CHAT_RATE = 1.0
CHAT_BURST = 1.0  # two messages at once, then one a second (Telegram allows a little more)


class TooEarly(Exception):
    """The slot is further away than the caller wants to wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"wait {wait:.2f}s")
        self.wait = wait


def bot_key(bot_id: int) -> str:
    return f"bot:{bot_id}"


def chat_key(key: str) -> str:
    return f"chat:{key}"


def hold_key(key: str) -> str:
    return f"hold:{key}"


@dataclass(frozen=True)
class Limit:
    key: str
    rate: float  # messages a second
    burst: float  # seconds of sending that may be saved up


def reserve(limits: list[Limit], max_wait: float) -> float:
    """Reserve one slot in every bucket at once; return the seconds to wait before sending.

    One short transaction for all the buckets a message counts against (its bot and
    its chat), at the time the slowest of them allows. Raises TooEarly, reserving
    nothing, if that is more than ``max_wait`` away.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                no_fsync()
                now = time.time()
                keys = [limit.key for limit in limits]
                holds = [hold_key(key) for key in keys]
                rows = {p.key: p.tat for p in Pace.objects.select_for_update().filter(
                    key__in=keys + holds)}
                send_at = max([now] + [rows[lim.key] - lim.burst for lim in limits if lim.key in rows]
                              + [rows[key] for key in holds if key in rows])
                if send_at - now > max_wait:
                    raise TooEarly(send_at - now)
                for limit in limits:
                    tat = max(rows.get(limit.key, 0.0), send_at) + 1.0 / limit.rate
                    if limit.key in rows:
                        Pace.objects.filter(key=limit.key).update(tat=tat)
                    else:
                        Pace.objects.create(key=limit.key, tat=tat)
                return send_at - now
        except IntegrityError:
            continue  # another worker created a row first
    raise TooEarly(1.0)


def no_fsync() -> None:
    """Pace rows may be lost in a crash at no cost: do not wait for PostgreSQL's disk flush."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def hold(key: str, seconds: float) -> None:
    """Nobody sends on ``key`` for ``seconds`` (Telegram said retry_after), burst or not."""
    until = time.time() + seconds
    held_key = hold_key(key)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                updated = Pace.objects.filter(key=held_key, tat__lt=until).update(tat=until)
                if not updated and not Pace.objects.filter(key=held_key).exists():
                    Pace.objects.create(key=held_key, tat=until)
                return
        except IntegrityError:
            continue  # another worker created the row first: update it


def held(key: str) -> float:
    """Seconds left of a hold on ``key`` (0 when there is none)."""
    until = Pace.objects.filter(key=hold_key(key)).values_list("tat", flat=True).first()
    return max(0.0, until - time.time()) if until is not None else 0.0


def purge(older_than: float = 3600.0) -> int:
    deleted, _ = Pace.objects.filter(tat__lt=time.time() - older_than).delete()
    return deleted
