"""The demo organization's bot: a made-up token, polling the fake Telegram the demo starts."""

from __future__ import annotations

import secrets

from haven.accounts.models import Organization

from . import sealing
from .bots import hint
from .models import Bot, Mode


def seed_bot(org: Organization) -> tuple[Bot, str]:
    """The organization's bot and its token; a demo token is made when it has none."""
    bot = Bot.objects.filter(organization=org).first() or Bot.objects.create(
        organization=org, public_id=secrets.token_urlsafe(18))
    if bot.token:
        token = str(sealing.unseal(sealing.TOKEN, bot.public_id, bytes(bot.token)))
    else:
        token = f"{1_000_000 + org.pk}:{secrets.token_urlsafe(30)}"
    Bot.objects.filter(pk=bot.pk).update(
        token=sealing.seal(sealing.TOKEN, bot.public_id, token), token_hint=hint(token),
        telegram_id=int(token.split(":")[0]), mode=Mode.POLLING, webhook_secret_hash="")
    bot.refresh_from_db()
    return bot, token
