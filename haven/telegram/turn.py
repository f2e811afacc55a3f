"""One update being answered: the bot, the chat's state, the answers collected so far."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from haven.core.langs import DEFAULT_LANG

from . import chats, render, texts
from .buttons import Button, Menu, encode
from .chats import ChatHandle
from .models import Bot
from .outgoing import Out


@dataclass
class Turn:
    bot: Bot
    chat: ChatHandle
    out: Out
    message_id: int | None = None  # the requester's message being answered, if any
    pressed: int | None = None  # the bot's message whose button was pressed, if any

    @property
    def lang(self) -> str:
        return self.chat.state.lang or DEFAULT_LANG

    @property
    def org_name(self) -> str:
        return self.bot.organization.name

    def nonce(self) -> int:
        return self.chat.state.next_nonce()

    def web_url(self) -> str:
        return web_url(self.bot)

    def say(self, html: str, buttons: dict[str, object] | None = None) -> None:
        self.out.say(html, buttons)

    def menu(self, prompt: str = "") -> None:
        labels = texts.menu_labels()

        def item(label: str, choice: Menu) -> tuple[str, str]:
            return labels[label], encode(Button.MENU, arg=choice)

        rows = [[item("ask", Menu.ASK), item("help", Menu.REQUEST)],
                [item("status", Menu.STATUS), item("clear", Menu.CLEAR)],
                [item("lang", Menu.LANGUAGE), item("auto", Menu.AUTOCLEAR)]]
        self.chat.state.mode = chats.MENU
        self.say(render.esc(prompt or texts.menu_prompt()), render.keyboard(rows))


def web_url(bot: Bot) -> str:
    """The organization's web intake: the safer way to write to it."""
    try:
        path = reverse("intake:start", args=[bot.organization.slug])
    except NoReverseMatch:
        path = "/"
    return settings.SITE_URL + path
