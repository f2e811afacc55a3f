"""Everything that arrives from another organization goes through :func:`receive`.

Same server (``transport.deliver`` calls it inside the sender's transaction), another
server (``POST /network/inbox/``, :func:`inbox_view`) and a file handed over by hand
(an upload on the partner's page) are checked alike, in this order, before anything is
stored: the envelope's structure and size; the recipient, an organization on this
server found by its public key; the sender, a partner of that organization by its
signing key, and active (not ended, not merely asked); the signature; the age (an
envelope older than :data:`MAX_AGE` is refused as a replay — the sender's outbox gives
up well before). Then the handler registered for the envelope's kind runs in one
transaction and says what it did. A refusal is a :class:`Refused` with a reason for
the sender and the page, and an HTTP status; nothing is stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from haven.accounts.models import Organization

from . import envelope as env
from .models import Partner

log = logging.getLogger("haven.network")
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(hours=1)  # clocks differ a little; an envelope from the future is refused

Handler = Callable[[Organization, Partner, env.Envelope, bytes], str]
HANDLERS: dict[env.Kind, Handler] = {}


class Refused(Exception):
    """Not accepted; ``reason`` says why (safe to show and to send back), ``status`` the
    HTTP code the sender gets (4xx: do not retry; 503: try later)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Received:
    organization: Organization
    partner: Partner
    kind: env.Kind
    result: str  # what the handler did, e.g. "stored", "already received"


def handle(kind: env.Kind) -> Callable[[Handler], Handler]:
    """Register the handler of one kind of envelope: ``(org, partner, envelope, blob) -> str``.
    It runs inside the receiving transaction and raises :class:`Refused` to refuse."""

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return register


def max_size() -> int:
    return int(settings.HAVEN_NETWORK_MAX_ENVELOPE)


def check(blob: bytes) -> tuple[env.Envelope, Organization, Partner]:
    """Everything but the handler: the envelope, its recipient and its known sender."""
    try:
        envelope = env.read(blob, max_size=max_size())
    except env.BadEnvelope as exc:
        status = 413 if "larger" in exc.reason else 400
        raise Refused(exc.reason, status) from exc
    try:
        recipient, sender = envelope.recipient, envelope.sender
    except env.BadEnvelope as exc:
        raise Refused(exc.reason) from exc
    org = next((o for o in Organization.objects.filter(public_key=recipient)
                if bytes(o.public_key) == recipient), None)
    if org is None:
        raise Refused(_("The envelope is not for an organization on this server."), 404)
    partner = next((p for p in Partner.objects.filter(organization=org, signing_key=sender)
                    if bytes(p.signing_key) == sender), None)
    if partner is None:
        raise Refused(_("The envelope is signed by a key this organization does not know as a "
                        "partner. Exchange partner cards first."), 403)
    if partner.state == Partner.State.ENDED:
        raise Refused(_("The partnership with this organization has ended."), 403)
    if partner.state != Partner.State.ACTIVE:
        raise Refused(_("This organization has not accepted the partnership yet."), 403)
    try:
        env.verify(envelope, bytes(partner.signing_key))
        created = envelope.created
    except env.BadEnvelope as exc:
        raise Refused(exc.reason, 403) from exc
    now = timezone.now()
    if created.tzinfo is None or created < now - MAX_AGE or created > now + MAX_AHEAD:
        raise Refused(_("The envelope is too old or dated in the future: refused as a replay."),
                      403)
    return envelope, org, partner


def receive(blob: bytes, *, via: str) -> Received:
    """Check ``blob`` and hand it to its kind's handler in one transaction."""
    envelope, org, partner = check(blob)
    handler = HANDLERS.get(envelope.kind)
    if handler is None:
        raise Refused(_("This server does not take this kind of envelope."))
    with transaction.atomic():
        result = handler(org, partner, envelope, bytes(blob))
    log.info("network envelope received: kind=%s via=%s result=%s", envelope.kind.name, via,
             result)
    return Received(org, partner, envelope.kind, result)


def _json(status: int, **body: object) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # another server posts here: the envelope's signature authenticates it
@require_POST
def inbox_view(request: HttpRequest) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return _json(411, ok=False, reason=_("Send the envelope as the request body."))
    if length > max_size():
        return _json(413, ok=False, reason=_("The envelope is larger than this server accepts."))
    blob = request.read(length)  # not request.body: the form-data memory limit is not for this
    if len(blob) != length:
        return _json(400, ok=False, reason=_("The envelope is cut short."))
    try:
        received = receive(blob, via="https")
    except Refused as exc:
        log.info("network envelope refused: status=%s", exc.status)
        return _json(exc.status, ok=False, reason=exc.reason)
    return _json(200, ok=True, result=received.result)
