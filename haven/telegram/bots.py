"""An organization's bot: its token, its mode, its health. Every change is audited.

The token is stored encrypted in the server box ``purposes.BOT_TOKEN`` (a key
derived from ``HAVEN_TOKEN_KEY``) and never shown back: the settings page shows a hint
(the bot's id and the last four characters). In webhook mode Telegram is given
a fresh random ``secret_token``; only its keyed hash is stored, and the webhook
view compares hashes in constant time.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Member, Organization
from haven.audit import chain
from haven.cases.models import Channel
from haven.core.errors import Refusal
from haven.outbox.models import Outbox

from . import sealing
from .client import ApiError, BotApi, api_for
from .models import Bot, Mode, Update, UpdateState

TOKEN_RE = re.compile(r"^(\d{3,20}):[A-Za-z0-9_-]{30,60}$")
CHANNEL_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,15})$")
CHANNELS = (Channel.TELEGRAM, "telegram-channel")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


class BotError(Refusal):
    """A refusal the administrator can act on; the message says what to do."""


def bot_for(org: Organization) -> Bot:
    bot = Bot.objects.filter(organization=org).first()
    if bot is None:
        bot, _created = Bot.objects.get_or_create(
            organization=org, defaults={"public_id": secrets.token_urlsafe(18)})
    return bot


def token_of(bot: Bot) -> str:
    """The clear token (for the client only; never logged, never shown)."""
    if not bot.token:
        raise BotError(_("No bot token is set. Paste the token from @BotFather first."))
    return str(sealing.unseal(sealing.TOKEN, bot.public_id, bytes(bot.token)))


def api(bot: Bot) -> BotApi:
    return api_for(token_of(bot))


def hint(token: str) -> str:
    bot_id = token.split(":", 1)[0]
    return f"{bot_id}:…{token[-4:]}"


def set_token(member: Member, token: str) -> Bot:
    """Check the token with getMe, then store it encrypted. The old webhook is left alone."""
    token = token.strip()
    match = TOKEN_RE.match(token)
    if match is None:
        raise BotError(_("This does not look like a bot token. It has the form "
                         "123456789:ABC… and comes from @BotFather."))
    me = _get_me(BotApi(token))
    bot = bot_for(member.organization)
    with transaction.atomic():
        Bot.objects.filter(pk=bot.pk).update(
            token=sealing.seal(sealing.TOKEN, bot.public_id, token), token_hint=hint(token),
            telegram_id=int(match.group(1)), username=str(me.get("username") or "")[:64],
            checked_at=timezone.now(), last_error="", updated=timezone.now())
        chain.record(member.organization_id, "telegram.token", actor_id=member.pk,
                     detail={"bot": int(match.group(1))})
    bot.refresh_from_db()
    return bot


def check(bot: Bot) -> dict[str, object]:
    """getMe (and getWebhookInfo in webhook mode); what the settings page shows."""
    client = api(bot)
    me = _get_me(client)
    info: dict[str, object] = {"username": me.get("username", "")}
    if bot.mode == Mode.WEBHOOK:
        try:
            hook = client.call("getWebhookInfo") or {}
        except ApiError as exc:
            raise BotError(_("Telegram did not answer: %(code)s") % {"code": exc.code}) from None
        info.update(url_ok=hook.get("url") == webhook_url(bot),
                    pending=hook.get("pending_update_count", 0),
                    telegram_error=str(hook.get("last_error_message") or "")[:200])
    Bot.objects.filter(pk=bot.pk).update(checked_at=timezone.now(),
                                         username=str(me.get("username") or "")[:64])
    return info


def _get_me(client: BotApi) -> dict[str, object]:
    try:
        me = client.call("getMe")
    except ApiError as exc:
        if exc.status == 401:
            raise BotError(_("Telegram does not accept this token. Copy it again from "
                             "@BotFather (or issue a new one with /token).")) from None
        raise BotError(_("Telegram did not answer (%(code)s). Check the server's internet "
                         "connection and try again.") % {"code": exc.code}) from None
    return me if isinstance(me, dict) else {}


def webhook_url(bot: Bot) -> str:
    return settings.SITE_URL + reverse("telegram:webhook", args=[bot.public_id])


def set_mode(member: Member, mode: str) -> Bot:
    """Switch between off, webhook and polling; tells Telegram first, then saves."""
    if mode not in Mode.values:
        raise BotError(_("Choose one of the listed modes."))
    bot = bot_for(member.organization)
    secret_hash = bot.webhook_secret_hash
    if mode != Mode.OFF:
        token_of(bot)
    try:
        if mode == Mode.WEBHOOK:
            secret = secrets.token_urlsafe(32)
            api(bot).call("setWebhook", {"url": webhook_url(bot), "secret_token": secret,
                                         "allowed_updates": ALLOWED_UPDATES, "max_connections": 40})
            secret_hash = sealing.secret_hash(secret)
        elif bot.token:
            api(bot).call("deleteWebhook", {"drop_pending_updates": False})
            secret_hash = ""
    except ApiError as exc:
        raise BotError(_("Telegram refused the change (%(code)s). For webhook mode the server "
                         "needs a public HTTPS address (HAVEN_SITE_URL).") % {"code": exc.code}) from None
    with transaction.atomic():
        Bot.objects.filter(pk=bot.pk).update(mode=mode, webhook_secret_hash=secret_hash,
                                             updated=timezone.now())
        chain.record(member.organization_id, "telegram.mode", actor_id=member.pk,
                     detail={"mode": mode})
    bot.refresh_from_db()
    return bot


def set_channel(member: Member, channel: str) -> Bot:
    channel = channel.strip()
    if channel and not CHANNEL_RE.match(channel):
        raise BotError(_("Give the channel as @name or as its numeric id (-100…)."))
    bot = bot_for(member.organization)
    with transaction.atomic():
        Bot.objects.filter(pk=bot.pk).update(channel=channel, updated=timezone.now())
        chain.record(member.organization_id, "telegram.channel", actor_id=member.pk,
                     detail={"set": bool(channel)})
    bot.refresh_from_db()
    return bot


def note_error(bot_id: int, code: str) -> None:
    Bot.objects.filter(pk=bot_id).update(last_error=code[:200], last_error_at=timezone.now())


@dataclass(frozen=True)
class Health:
    last_update: datetime | None
    waiting_updates: int
    failed_updates: int
    pending_outbox: int
    last_error: str
    last_error_at: datetime | None


def health(bot: Bot) -> Health:
    updates = Update.objects.filter(bot=bot)
    return Health(
        last_update=updates.aggregate(m=Max("received"))["m"],
        waiting_updates=updates.filter(state=UpdateState.RECEIVED).count(),
        failed_updates=updates.filter(state=UpdateState.FAILED).count(),
        pending_outbox=Outbox.objects.filter(organization_id=bot.organization_id,
                                             channel__in=CHANNELS).count(),
        last_error=bot.last_error, last_error_at=bot.last_error_at,
    )
