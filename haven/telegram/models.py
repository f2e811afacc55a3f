"""What the Telegram integration stores. No chat id, username or message text in clear.

- ``Bot``: one per organization. The token is encrypted under a key derived from
  the server's ``HAVEN_TOKEN_KEY``; the webhook secret is kept only as a keyed hash.
- ``Update``: every update Telegram sent, recorded by ``update_id`` before it is
  processed (unique per bot), its body encrypted under a server key and emptied
  once processed. Rows are kept two days after processing so a redelivery
  (Telegram delivers at least once, for up to 24 hours) is recognised.
- ``Chat``: how a chat is found again, by a slow keyed hash of the bot and chat ids
  (``sealing.chat_key``); its conversation state (language, menu position, the
  linked case while it is open) is encrypted.
  Deleted after a period of inactivity.
- ``CaseChat``: where replies to a case go. See :mod:`haven.telegram.links`.
- ``TrackedMessage``: message ids the bot may still delete for "clear this chat",
  kept only for Telegram's 48-hour deletion window.
- ``AutoClear``: a chat whose requester chose that it clears itself; the chat id
  is encrypted under a server key (as a case's ``server_chat``), so that the
  worker can delete the chat's tracked messages once they are old enough.
  Deleted with the chat's mapping, when it is turned off, or the bot is blocked.
- ``Pace``: rate-limit state shared by every worker (see :mod:`haven.telegram.pacing`).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    OFF = "off", _("Off")
    WEBHOOK = "webhook", _("Webhook (the server has a public HTTPS address)")
    POLLING = "polling", _("Polling (the server is behind Tor or NAT)")


class Bot(models.Model):
    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        related_name="telegram_bot")
    # In the webhook's address instead of the token: random, says nothing.
    public_id = models.CharField(max_length=43, unique=True)
    token = models.BinaryField(null=True)  # encrypted, see haven.telegram.sealing
    token_hint = models.CharField(max_length=24, blank=True)  # "123456:…wxyz"
    telegram_id = models.BigIntegerField(null=True)  # the bot's own user id, from the token
    username = models.CharField(max_length=64, blank=True)  # the bot's public @name (getMe)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.OFF)
    webhook_secret_hash = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=64, blank=True)  # the organization's public channel
    poll_offset = models.BigIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)  # one processor at a time
    lease_owner = models.CharField(max_length=32, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)  # a code, never content
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.username or self.public_id

    @property
    def has_token(self) -> bool:
        return bool(self.token)


class UpdateState(models.TextChoices):
    RECEIVED = "received", _("Received")
    DONE = "done", _("Processed")
    FAILED = "failed", _("Could not be processed")


class Update(models.Model):
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="+")
    update_id = models.BigIntegerField()
    body = models.BinaryField()  # encrypted raw update; emptied once processed
    state = models.CharField(max_length=10, choices=UpdateState.choices,
                             default=UpdateState.RECEIVED)
    received = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "update_id"], name="telegram_update_once"),
        ]
        indexes = [
            models.Index(fields=["bot", "state", "update_id"]),
            models.Index(fields=["state", "received"]),
        ]


class Chat(models.Model):
    key = models.CharField(max_length=64, unique=True)  # sealing.chat_key(bot, chat)
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="+")
    state = models.BinaryField()  # encrypted JSON, bound to ``key``
    version = models.PositiveIntegerField(default=1)
    expires = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires"])]


class CaseChat(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True,
                                related_name="telegram_chat")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="+")
    sealed_chat = models.BinaryField()  # sealed to the organization: only members open it
    server_chat = models.BinaryField(null=True)  # under the server chat key, while the case is open
    blocked_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)


class TrackedMessage(models.Model):
    chat_key = models.CharField(max_length=64)
    message_id = models.BigIntegerField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["chat_key", "created"]), models.Index(fields=["created"])]


class AutoClear(models.Model):
    chat_key = models.CharField(max_length=64, unique=True)  # as TrackedMessage.chat_key
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="+")
    sealed_chat = models.BinaryField()  # the chat id, see haven.telegram.sealing.AUTOCLEAR
    after = models.PositiveIntegerField()  # seconds after which a message is deleted
    created = models.DateTimeField(default=timezone.now)


class Pace(models.Model):
    key = models.CharField(max_length=80, primary_key=True)
    tat = models.FloatField(default=0.0)  # "theoretical arrival time", Unix seconds
