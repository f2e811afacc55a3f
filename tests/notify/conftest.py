"""Notifications end to end: the fake Bot API and a real SMTP server, both on loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from haven import outbox
from haven.accounts.models import Member
from haven.notify import addresses
from haven.notify.collect import collect
from haven.notify.dispatch import EMAIL_CHANNEL, TELEGRAM_CHANNEL, dispatch
from haven.notify.models import Destination
from haven.outbox.models import Outbox
from haven.telegram.fake import FakeTelegram
from tests.telegram.conftest import TOKEN, Phone, bot, fake, pump, quick_chats  # noqa: F401

CHANNELS = (TELEGRAM_CHANNEL, EMAIL_CHANNEL)


def deliver(limit: float = 20.0) -> int:
    """Send every due notification row (what the worker's outbox round does)."""
    total, deadline = 0, time.monotonic() + limit
    while time.monotonic() < deadline:
        result = outbox.Result()
        for channel in CHANNELS:
            for row in outbox.claim(channel, 20):
                outbox.deliver(row, result)
        done = result.sent + result.failed + result.retried
        total += result.sent + result.failed
        rows = Outbox.objects.filter(channel__in=CHANNELS)
        if not rows.exists():
            return total
        if not done:
            waiting = min(r.next_attempt for r in rows)
            if (waiting - timezone.now()).total_seconds() > 5:
                return total  # backing off: the test looks at that
            time.sleep(0.05)
    raise AssertionError("notifications never went out")


def notify_round(now: Any = None) -> int:
    """Count, queue what is due, send it."""
    collect()
    queued = dispatch(now)
    deliver()
    return queued


def link(member: Member, phone: Phone) -> Destination:
    code = addresses.new_link_code(member)
    phone.send(f"/link {code}")
    return Destination.objects.get(member=member, kind="telegram")


def texts(server: FakeTelegram, chat_id: int) -> list[str]:
    return [m["text"] for m in server.sent_to(TOKEN, chat_id)]


@dataclass
class Mailbox:
    """What the SMTP server on loopback received; refuses the addresses in ``refuse``."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.HAVEN_SMTP_HOST, settings.HAVEN_SMTP_PORT = "127.0.0.1", port
    settings.HAVEN_SMTP_SECURITY, settings.HAVEN_SMTP_FROM = "none", "desk@haven.example"
    settings.HAVEN_SMTP_USER = settings.HAVEN_SMTP_PASSWORD = ""
    try:
        yield box
    finally:
        controller.stop()
