"""The outbox handlers of notifications: the organization's bot, and SMTP.

``notify-telegram`` rows go through the bot's own sender (:func:`haven.telegram.
sender.run`), paced per bot and per chat like every other message of the bot.
``notify-email`` rows go to the organization's SMTP server (or ``HAVEN_SMTP_*``).

A permanent failure (the member blocked the bot: 403; the SMTP server refused
the recipient: 5xx) pauses the address (blocked / bounced) and puts the row's
counts back, in the transaction that deletes the row (:func:`on_failed`): nothing
is lost, and the member sees on every desk page what to do. Neither the address
nor the text is logged.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from django.db import transaction
from django.utils import timezone

from haven import outbox
from haven.outbox.models import Outbox
from haven.telegram import render, sender
from haven.telegram.models import Bot

from . import smtp
from .addresses import add_pending
from .dispatch import EMAIL_CHANNEL, TELEGRAM_CHANNEL
from .models import Destination, State

SMTP_TIMEOUT = 20.0


class TelegramNotice:
    name = TELEGRAM_CHANNEL

    def check(self, text: str) -> None:
        """Made by dispatch only."""

    def address(self, case: Any) -> dict[str, Any]:
        return {}

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        if not _still_linked(payload):
            return  # unlinked since: nothing to send, nothing to keep
        bot = Bot.objects.filter(pk=int(payload.get("bot") or 0), organization_id=row.organization_id).first()
        if bot is None or not bot.token:
            raise outbox.DeliveryError("telegram: the bot is gone or has no token", permanent=True)
        op = {"m": "send", "text": render.esc(str(payload.get("text") or ""))}
        sender.run(bot, int(payload["chat"]), op, str(payload.get("key") or "") or None)


class EmailNotice:
    name = EMAIL_CHANNEL

    def check(self, text: str) -> None:
        """Made by dispatch only."""

    def address(self, case: Any) -> dict[str, Any]:
        return {}

    def send(self, row: Outbox, payload: dict[str, Any]) -> None:
        if not _still_linked(payload):
            return  # unlinked since: nothing to send, nothing to keep
        server = smtp.server_for(row.organization_id)
        if server is None:
            raise outbox.DeliveryError("smtp: no server configured", permanent=True)
        message = EmailMessage()
        message["From"] = server.sender
        message["To"] = str(payload["to"])
        message["Subject"] = str(payload.get("subject") or "Haven")
        message["Date"] = format_datetime(timezone.now())
        message["Message-ID"] = make_msgid(domain=server.sender.rpartition("@")[2] or None)
        message.set_content(str(payload.get("text") or ""))
        send_mail(server, message)


def _still_linked(payload: dict[str, Any]) -> bool:
    """False if unlinked since; a paused address refuses the row (its counts are kept)."""
    dest = int(payload.get("dest") or 0)
    state = Destination.objects.filter(pk=dest).values_list("state", flat=True).first()
    if state is None:
        return False
    if state != State.ACTIVE:
        raise outbox.DeliveryError("notify: the address is paused", permanent=True)
    return True


def send_mail(server: smtp.Server, message: EmailMessage) -> None:
    """Hand one message to the SMTP server, or raise DeliveryError (never naming the address)."""
    try:
        if server.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT)
        with client:
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if server.username:
                client.login(server.username, server.password)
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        permanent = all(code >= 500 for code in codes)
        raise outbox.DeliveryError(f"smtp {codes[0] if codes else 0}: the recipient was refused",
                                   permanent=permanent) from None
    except smtplib.SMTPResponseException as exc:
        raise outbox.DeliveryError(f"smtp {exc.smtp_code}", permanent=exc.smtp_code >= 500
                                   and not isinstance(exc, smtplib.SMTPAuthenticationError)) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise outbox.DeliveryError(f"smtp: {type(exc).__name__}") from None


def on_failed(sender: Any, row: Outbox, code: str, **kwargs: Any) -> None:
    """A notice could not be sent: pause its address if it refuses, and keep its counts."""
    if row.channel not in (TELEGRAM_CHANNEL, EMAIL_CHANNEL):
        return
    payload = outbox.open_payload(bytes(row.payload))
    dest = Destination.objects.filter(pk=int(payload.get("dest") or 0)).first()
    if dest is None:
        return
    if row.channel == TELEGRAM_CHANNEL and "403" in code:
        state: str = State.BLOCKED
    elif row.channel == EMAIL_CHANNEL and code.startswith("smtp 5"):
        state = State.BOUNCED
    else:
        state = dest.state
    with transaction.atomic():
        if state != dest.state:
            Destination.objects.filter(pk=dest.pk).update(state=state, problem_at=timezone.now())
        for kind, n in (payload.get("counts") or {}).items():
            add_pending(dest.pk, str(kind), int(n))


def register() -> None:
    outbox.register(TelegramNotice())
    outbox.register(EmailNotice())
