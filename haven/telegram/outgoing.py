"""What the bot answers to one update, queued in the outbox in the update's transaction.

Answers are not sent while the update is being processed: they become one
outbox row (channel "telegram", payload encrypted with the server's outbox key),
written in the same transaction that marks the update processed. So a crash
either loses both (the update is processed again) or keeps both (the answer is
sent by whichever worker gets to it). Right after the commit the processing
thread sends the row itself (:func:`deliver_now`), so the requester does not
wait for the sender's next round.
"""

from __future__ import annotations

from typing import Any

from haven import outbox
from haven.cases.models import Channel
from haven.outbox.models import Outbox

from . import sealing
from .models import Bot


class Out:
    """Operations for one chat, in order: send, edit buttons, answer a button press, delete,
    leave."""

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.ops: list[dict[str, Any]] = []

    def say(self, html: str, buttons: dict[str, Any] | None = None) -> None:
        op: dict[str, Any] = {"m": "send", "text": html}
        if buttons and buttons.get("inline_keyboard"):
            op["buttons"] = buttons
        self.ops.append(op)

    def answer(self, callback_id: str, text: str = "") -> None:
        # First, so the spinner on the pressed button stops at once.
        self.ops.insert(0, {"m": "answer", "id": callback_id, "text": text[:200]})

    def unbutton(self, message_id: int, buttons: dict[str, Any] | None = None) -> None:
        """Take the buttons off a message (or replace them, to show a choice ticked)."""
        op: dict[str, Any] = {"m": "unbutton", "id": message_id}
        if buttons:
            op["buttons"] = buttons
        self.ops.append(op)

    def delete(self, message_ids: list[int]) -> None:
        if message_ids:
            self.ops.append({"m": "delete", "ids": sorted(set(message_ids))})

    def leave(self) -> None:
        """Leave the chat (a group someone added the bot to)."""
        self.ops.append({"m": "leave"})

    def queue(self) -> int | None:
        """Write the outbox row (inside the caller's transaction); return its id."""
        if not self.ops:
            return None
        payload = {"bot": self.bot.pk, "chat": self.chat_id, "ops": self.ops,
                   "key": sealing.chat_key(self.bot.telegram_id, self.chat_id)}
        row = Outbox.objects.create(organization_id=self.bot.organization_id, channel=Channel.TELEGRAM,
                                    payload=outbox.seal_payload(payload))
        return row.pk


def deliver_now(row_ids: list[int]) -> outbox.Result:
    """Send these rows at once, unless another worker has claimed them already."""
    result = outbox.Result()
    for pk in row_ids:
        for row in outbox.claim(Channel.TELEGRAM, 1, pks=[pk]):
            outbox.deliver(row, result)
    return result
