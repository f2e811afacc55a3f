"""How an envelope reaches a partner: at once on this server, through the outbox to another.

:func:`deliver` is called inside the sender's transaction (the requester's agreement,
a member's decision). For a partner on this server it runs the partner's
:func:`haven.network.inbox.receive` in that same transaction, so the two sides commit
together or not at all. For a partner on another server it queues an outbox row
(channel ``network``); the worker POSTs the envelope to ``<server>/network/inbox/``.
A 2xx answer means the partner stored it (or already had it: the inbox keeps one copy
per envelope id, so a resend after a lost answer is harmless — "never twice" is the
receiver's guarantee, "never lost" the outbox's). A 4xx answer is a refusal: final,
with the partner's reason. No answer, a 5xx, 408 or 429: retried with backoff (capped at
``HAVEN_NETWORK_RETRY_MAX_DELAY``) for ``HAVEN_NETWORK_GIVE_UP_DAYS`` days, then given up.

The outcome is told by two signals, sent inside the transaction that ends the attempt:
:data:`delivered` ``(referral, partner_id, via)`` and :data:`undeliverable`
``(referral, partner_id, reason)``, where ``referral`` is the ``ref_id`` (str) the
envelope was sent for, or "" for envelopes that are no referral.
"""

from __future__ import annotations

import base64
import http.client
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.dispatch import Signal

from haven import outbox
from haven.accounts.models import Organization
from haven.cases.models import Case
from haven.outbox.models import Outbox
from haven.vault import VaultError

from . import inbox, storage
from .models import Partner, Referral

CHANNEL = "network"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
TIMEOUT = 120.0  # seconds for one POST (tens of MB over a slow link)

delivered = Signal()
undeliverable = Signal()


class BadAddress(ValueError):
    """A partner's server address this server will not send to."""


def inbox_url(server_url: str) -> str:
    """The partner's inbox, refusing anything but https (http only on loopback)."""
    parts = urlsplit(server_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadAddress("the address must start with https://")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise BadAddress("only https is allowed, except on this machine (127.0.0.1, localhost)")
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return base + "/network/inbox/"


def deliver(org: Organization, partner: Partner, blob: bytes, *, case: Case | None = None,
            referral: Referral | None = None) -> str:
    """Hand ``blob`` to ``partner``; return "delivered" (same server) or "queued".

    For a referral, pass the ``Referral``: its stored envelope file is sent (``blob`` may
    then be b""), and the signals name it. On this server a refusal by the partner's
    inbox raises :class:`haven.network.inbox.Refused` (the caller's transaction decides).
    """
    ref = str(referral.ref_id) if referral is not None else ""
    if partner.local_id is not None:
        data = storage.read(referral.envelope) if referral is not None and not blob else blob
        inbox.receive(data, via="local")
        delivered.send(Partner, referral=ref, partner_id=partner.pk, via="local")
        return "delivered"
    payload: dict[str, Any] = {"url": inbox_url(partner.server_url), "partner": partner.pk,
                               "referral": ref}
    if referral is not None and not blob:
        payload["envelope"] = referral.envelope
    else:
        payload["blob"] = base64.b64encode(bytes(blob)).decode()
    Outbox.objects.create(organization=org, case=case, channel=CHANNEL,
                          payload=outbox.seal_payload(payload))
    return "queued"


def waiting(referral: Referral) -> Outbox | None:
    """The outbox row still carrying this referral (to show attempts and the last error)."""
    for row in Outbox.objects.filter(channel=CHANNEL, case_id=referral.case_id):
        try:
            if outbox.open_payload(bytes(row.payload)).get("referral") == str(referral.ref_id):
                return row
        except VaultError:  # a row that no longer opens is not this one
            continue
    return None


class NetworkChannel:
    """The outbox handler that POSTs envelopes to partner servers."""

    name = CHANNEL

    def check(self, text: str) -> None:  # not used: nothing is typed into this channel
        return None

    def address(self, case: Case) -> dict[str, Any]:
        return {}

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        if payload.get("envelope"):
            try:
                blob = storage.read(str(payload["envelope"]))
            except FileNotFoundError:
                raise outbox.DeliveryError("the envelope file is missing", permanent=True) from None
        else:
            blob = base64.b64decode(str(payload.get("blob", "")))
        post(str(payload["url"]), blob)


def post(url: str, blob: bytes) -> dict[str, Any]:
    """POST one envelope; return the inbox's JSON answer or raise DeliveryError."""
    parts = urlsplit(url)
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        conn.request("POST", parts.path or "/", body=blob,
                     headers={"Content-Type": "application/octet-stream",
                              "Content-Length": str(len(blob))})
        response = conn.getresponse()
        raw = response.read(64 * 1024)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        raise outbox.DeliveryError(f"partner server unreachable ({type(exc).__name__})") from None
    finally:
        conn.close()
    try:
        answer = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError):
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    if 200 <= status < 300:
        return answer
    reason = str(answer.get("reason") or f"HTTP {status}")[:180]
    if status in {408, 429} or status >= 500:
        raise outbox.DeliveryError(f"partner server busy or failing: {reason}")
    raise outbox.DeliveryError(f"refused by the partner: {reason}", permanent=True)


def _payload(row: Outbox) -> dict[str, Any]:
    try:
        return outbox.open_payload(bytes(row.payload))
    except VaultError:  # an unreadable payload names no referral
        return {}


def _on_sent(sender: Any, row: Outbox, **kwargs: Any) -> None:
    if row.channel == CHANNEL:
        payload = _payload(row)
        delivered.send(Partner, referral=str(payload.get("referral", "")),
                       partner_id=payload.get("partner"), via="https")


def _on_failed(sender: Any, row: Outbox, code: str, **kwargs: Any) -> None:
    if row.channel == CHANNEL:
        payload = _payload(row)
        undeliverable.send(Partner, referral=str(payload.get("referral", "")),
                           partner_id=payload.get("partner"), reason=code)


def connect() -> None:
    outbox.register(NetworkChannel(),
                    give_up_after=timedelta(days=settings.HAVEN_NETWORK_GIVE_UP_DAYS),
                    max_delay=settings.HAVEN_NETWORK_RETRY_MAX_DELAY)
    outbox.sent.connect(_on_sent, dispatch_uid="haven.network.transport.sent")
    outbox.failed.connect(_on_failed, dispatch_uid="haven.network.transport.failed")
