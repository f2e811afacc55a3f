"""Where a package above the bot adds commands and hears of blocked chats.

The bot imports no package of its own layer that builds on it (the package graph
has no cycle): ``haven.notify`` links members' own chats to their notifications
and registers here from its ``AppConfig.ready``. A command hook gets the turn,
the command's name (``"start"``, ``"stop"``…) and its argument, and returns True
if it answered; then the bot's own handling of the command is skipped. A status
hook hears that a chat blocked (True) or unblocked (False) the bot, by the chat's
key (never its id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Bot
    from .turn import Turn

CommandHook = Callable[["Turn", str, str], bool]
StatusHook = Callable[["Bot", str, bool], None]

COMMANDS: list[CommandHook] = []
STATUS: list[StatusHook] = []


def add_command(hook: CommandHook) -> None:
    if hook not in COMMANDS:
        COMMANDS.append(hook)


def add_status(hook: StatusHook) -> None:
    if hook not in STATUS:
        STATUS.append(hook)
