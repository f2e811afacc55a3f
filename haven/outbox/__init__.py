"""The outbox: messages on their way to requesters, delivered once, then deleted.

A reply becomes an :class:`Outbox` row in the same transaction as the reply
record. ``haven worker`` claims due rows (``select_for_update(skip_locked=True)``
on PostgreSQL; SQLite serialises writers itself), hands each to the handler of
its channel, and deletes it in the same transaction that marks the record
delivered. A worker killed between the send and that commit sends the one
in-flight message again after the claim expires: at most one duplicate, never
a loss (Telegram offers no idempotency key). Transient failures are retried with
backoff; permanent ones are shown on the case.

Claims with several workers (docs/architecture.md, "Outbox"): a claim is a batch
token written on its rows. Right before a row is sent, :func:`hold` checks that
the row still carries the token and extends it by ``LEASE`` (the send and its
commit fit in that), and extends the rest of the batch by ``WAITING`` (a quarter
of it): a live worker keeps its batch however slow the sends, a killed one frees
the rows it had not started after ``WAITING``, and a row whose claim was lost
(another worker took it after the worker stalled) is left alone, not sent.
Channels with a task of their own (Telegram's, registered with ``own_task``) are
claimed only by that task, in its small batches.

The outbox sits below ``haven.cases`` (layer order in docs/architecture.md): it
imports no case module at run time. The cases app answers the :data:`sent` and
:data:`failed` signals (``haven/cases/delivery.py``) to mark the reply record and
raise a notice; rows with no case (knowledge's channel posts, the bot's own
answers) need nothing more. The model lives in ``haven/outbox/models.py`` under
the app label ``cases``, so its table and migrations did not move.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from haven.core.keys import server_box
from haven.vault.purposes import OUTBOX

from .models import Outbox

if TYPE_CHECKING:  # annotations only: cases imports the outbox, not the other way round
    from haven.cases.models import Case, CaseRecord

log = logging.getLogger("haven.outbox")
LEASE = timedelta(seconds=60)  # a row in flight: its send (10 s timeout) and commit fit in it
MAX_ATTEMPTS = 12

# Sent inside the transaction that deletes the row. ``sent(row)``; ``failed(row, code)``.
sent = Signal()
failed = Signal()


def _connect_spool() -> None:
    from . import spool

    spool.connect()


class DeliveryError(Exception):
    """A send failed. ``permanent`` stops retries; ``retry_after`` overrides backoff."""

    def __init__(self, code: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code[:200]
        self.permanent = permanent
        self.retry_after = retry_after


class ChannelHandler(Protocol):
    name: str

    def check(self, text: str) -> None:
        """Raise ActionError if ``text`` cannot be sent on this channel."""

    def address(self, case: Case) -> dict[str, Any]:
        """What the worker needs to reach the requester (encrypted in the row)."""

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        """Deliver, or raise DeliveryError."""


HANDLERS: dict[str, ChannelHandler] = {}
OWN_TASK: set[str] = set()  # channels sent by a task of their own, not by run_once's default
# Channels that retry by time rather than by MAX_ATTEMPTS (a partner server down for a
# day: haven.network.transport), and their longest wait between two attempts (seconds).
GIVE_UP_AFTER: dict[str, timedelta] = {}
MAX_DELAY: dict[str, float] = {}


class ClaimLost(Exception):
    """The row was claimed by another worker (or is gone): this worker must not send it."""


def register(handler: ChannelHandler, *, own_task: bool = False,
             give_up_after: timedelta | None = None, max_delay: float | None = None) -> ChannelHandler:
    """Register the handler of a channel; ``own_task``: the channel's app sends its rows itself;
    ``give_up_after``: retry until the row is this old instead of MAX_ATTEMPTS times;
    ``max_delay``: the longest backoff (an hour otherwise)."""
    HANDLERS[handler.name] = handler
    if give_up_after is not None:
        GIVE_UP_AFTER[handler.name] = give_up_after
    if max_delay is not None:
        MAX_DELAY[handler.name] = float(max_delay)
    if own_task:
        OWN_TASK.add(handler.name)
    else:
        OWN_TASK.discard(handler.name)
    return handler


def handler_for(channel: str) -> ChannelHandler | None:
    return HANDLERS.get(channel)


def seal_payload(payload: dict[str, Any]) -> bytes:
    """Encrypt a payload under the server's outbox key (the worker reads it alone)."""
    return server_box(OUTBOX).seal_json(payload)


def open_payload(data: bytes) -> dict[str, Any]:
    return dict(server_box(OUTBOX).unseal_json(data))


def enqueue(case: Case, record: CaseRecord | None, text: str, **extra: Any) -> Outbox:
    handler = HANDLERS[case.channel]
    payload = {"text": text, **handler.address(case), **extra}
    return Outbox.objects.create(organization_id=case.organization_id, case=case, record=record,
                                 channel=case.channel, payload=seal_payload(payload))


def cancel(case: Case) -> None:
    from . import spool

    rows = Outbox.objects.filter(case=case)
    spool.remove_after_commit(rows.only("payload"))
    rows.delete()


def withdraw(record_id: int) -> int:
    """Delete the unclaimed rows of one record (a cancelled broadcast); rows a worker holds
    are left to it. Run inside the caller's transaction: on PostgreSQL the rows are locked
    first, so a worker's claim either took them before (left alone) or finds them gone."""
    from . import spool

    now = timezone.now()
    rows = list(Outbox.objects.select_for_update(skip_locked=True).filter(record_id=record_id).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)).only("pk", "payload"))
    spool.remove_after_commit(rows)
    deleted, _kinds = Outbox.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return deleted


def waiting_lease() -> timedelta:
    """How long a claimed row not yet started stays claimed without a word from its worker."""
    return LEASE / 4


def claim(channel: str | None = None, batch: int = 20, *, exclude: Iterable[str] = (),
          pks: Iterable[int] | None = None) -> list[Outbox]:
    """Claim up to ``batch`` due rows for this worker, as one batch under a new token.

    The rows are held for :func:`waiting_lease`; :func:`deliver` extends the claim as
    it goes. ``exclude``: channels to leave alone; ``pks``: only these rows.
    """
    now = timezone.now()
    token = secrets.token_hex(16)
    with transaction.atomic():
        rows = Outbox.objects.filter(next_attempt__lte=now).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        if channel:
            rows = rows.filter(channel=channel)
        if exclude:
            rows = rows.exclude(channel__in=list(exclude))
        if pks is not None:
            rows = rows.filter(pk__in=list(pks))
        claimed = list(rows.order_by("next_attempt", "pk").select_for_update(skip_locked=True)[:batch])
        until = now + waiting_lease()
        Outbox.objects.filter(pk__in=[r.pk for r in claimed]).update(claimed_until=until,
                                                                    claim_token=token)
    for row in claimed:
        row.claimed_until, row.claim_token = until, token
    return claimed


def hold(row: Outbox) -> None:
    """Make sure ``row`` is still this worker's, right before sending it; raise ClaimLost if not.

    The row is held for LEASE from now, the rest of its batch for the waiting lease.
    """
    if not row.claim_token:
        raise ClaimLost(row.pk)
    now = timezone.now()
    with transaction.atomic():
        Outbox.objects.filter(claim_token=row.claim_token, claimed_until__lt=now + waiting_lease()
                              ).exclude(pk=row.pk).update(claimed_until=now + waiting_lease())
        mine = Outbox.objects.filter(pk=row.pk, claim_token=row.claim_token).update(
            claimed_until=now + LEASE)
    if not mine:
        raise ClaimLost(row.pk)


def save_progress(row: Outbox, payload: dict[str, Any]) -> None:
    """Record how far a row of several messages got, and hold it for the next one.

    Raises ClaimLost if the row is no longer this worker's (then it must stop sending).
    """
    saved = Outbox.objects.filter(pk=row.pk, claim_token=row.claim_token).exclude(
        claim_token="").update(payload=seal_payload(payload), claimed_until=timezone.now() + LEASE)
    if not saved:
        raise ClaimLost(row.pk)


@dataclass
class Result:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # claims lost to another worker: not sent here


def deliver(row: Outbox, result: Result) -> None:
    """Send one claimed row (checking the claim first), then delete it or schedule a retry."""
    handler = HANDLERS.get(row.channel)
    try:
        hold(row)
        if handler is None:
            raise DeliveryError(f"no handler for channel {row.channel}")
        handler.send(row, open_payload(bytes(row.payload)))
    except ClaimLost:
        result.lost += 1
        return
    except DeliveryError as exc:
        _failed(row, exc, result)
        return
    with transaction.atomic():
        sent.send(Outbox, row=row)
        Outbox.objects.filter(pk=row.pk).delete()
    result.sent += 1


def _failed(row: Outbox, exc: DeliveryError, result: Result) -> None:
    attempts = row.attempts + (0 if exc.retry_after is not None else 1)
    give_up = GIVE_UP_AFTER.get(row.channel)
    spent = (timezone.now() - row.created >= give_up) if give_up else attempts >= MAX_ATTEMPTS
    if exc.permanent or spent:
        with transaction.atomic():
            failed.send(Outbox, row=row, code=exc.code)
            Outbox.objects.filter(pk=row.pk).delete()
        result.failed += 1
        return
    cap = MAX_DELAY.get(row.channel, 3600.0)
    delay = exc.retry_after if exc.retry_after is not None else min(5 * 2 ** min(attempts, 20), cap)
    Outbox.objects.filter(pk=row.pk, claim_token=row.claim_token).update(
        attempts=attempts, last_error=exc.code, claimed_until=None, claim_token="",
        next_attempt=timezone.now() + timedelta(seconds=delay),
    )
    result.retried += 1


def run_once(channel: str | None = None, batch: int = 20, *, shared_only: bool = False) -> Result:
    """Claim and deliver one batch; ``shared_only`` leaves the channels that have a task of
    their own (the worker's general round, so a killed worker holds no more than their batch)."""
    result = Result()
    for row in claim(channel, batch, exclude=OWN_TASK if shared_only else ()):
        deliver(row, result)
    return result


_connect_spool()  # spooled files go with their row (haven/outbox/spool.py)
