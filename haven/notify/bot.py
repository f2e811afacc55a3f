"""The bot's side: ``/start CODE`` or ``/link CODE`` links a member's chat, ``/stop`` unlinks.

Registered with :mod:`haven.telegram.hooks`. The code's message is deleted from
the chat at once. A code from a chat that already serves another member links
nothing; the bot says so and the other member's page too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from haven.telegram import render

from . import addresses

if TYPE_CHECKING:
    from haven.telegram.models import Bot
    from haven.telegram.turn import Turn

LINK_COMMANDS = ("start", "link")


def on_command(turn: Turn, name: str, arg: str) -> bool:
    if name in LINK_COMMANDS and arg:
        if name == "start" and not addresses.looks_like_code(arg):
            return False  # another deep link: the bot's own /start
        return _link(turn, arg)
    if name == "link":
        turn.say(render.esc(_("Send /link and the code shown on your notification settings page "
                              "in Haven.")))
        return True
    if name == "stop":
        if not addresses.stop_chat(turn.bot.organization_id, turn.chat.key):
            return False  # a requester's /stop: the bot's own answer
        turn.say(render.esc(_("Notifications to this chat are off. Link it again from your "
                              "notification settings page in Haven.")))
        return True
    return False


def _link(turn: Turn, code: str) -> bool:
    result = addresses.link_telegram(turn.bot.organization_id, code, turn.chat.key, turn.bot.pk,
                                     turn.chat.chat_id)
    if result is None:
        turn.say(render.esc(_("This code is not valid or has expired. Make a new one on your "
                              "notification settings page in Haven.")))
        return True
    turn.out.delete([turn.message_id] if turn.message_id else [])
    if result.taken:
        turn.say(render.esc(_("This Telegram account already receives another member's "
                              "notifications, so nothing was linked. Send /stop here first, "
                              "then make a new code.")))
    else:
        turn.say(render.esc(_("Notifications are on. They say only how many things wait on "
                              "the desk, never what. Send /stop to turn them off.")))
    return True


def on_status(bot: Bot, chat_key: str, blocked: bool) -> None:
    addresses.chat_blocked(bot.organization_id, chat_key, blocked)
