"""``haven chat``: talk to an organization's bot from the terminal, through a fake Telegram.

For the demo, with no internet: the command connects to the fake Bot API named
in the data folder's ``fake-telegram.url`` (``python -m haven.telegram.fake
--url-file …``, which ``haven demo`` can start) or starts one of its own, points
the bot client at it, and plays a Telegram user. Updates are processed inline
(no worker needed), and due messages for the bot are sent at once, so replies
written on the desk arrive while you chat. Numbers press the buttons shown.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from haven.accounts.models import Organization
from haven.core.langs import DEFAULT_LANG, LANGS
from haven.outbox.models import Outbox
from haven.telegram import processing, tasks
from haven.telegram.demo import seed_bot
from haven.telegram.fake import FakeTelegram, Remote
from haven.telegram.models import Bot, Update, UpdateState

URL_FILE = "fake-telegram.url"
HELP = ("Type a message and press Enter. A number presses the button shown with it. "
        ":file PATH sends a photo or document, :quit leaves.")


class Command(BaseCommand):
    help = "Talk to the organization's bot as a Telegram user, through a fake Telegram (demo only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", default="", help="organization slug (default: the first one)")
        parser.add_argument("--lang", default=DEFAULT_LANG, choices=LANGS)
        parser.add_argument("--chat", type=int, default=4242, help="your Telegram chat id")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("haven chat talks to a fake Telegram: run it in a demo data folder.")
        org = _organization(opts["org"])
        fake, own = _fake()
        settings.HAVEN_TELEGRAM_API_URL = fake.url
        bot, token = seed_bot(org)
        self.stdout.write(f"You are a Telegram user writing to the bot of {org.name}, through a fake "
                          f"Telegram on {fake.url} (no internet needed).\n{HELP}\n")
        session = _Session(self, fake, bot, token, opts["chat"], opts["lang"])
        try:
            session.run()
        finally:
            if own is not None:
                own.stop()


def _organization(slug: str) -> Organization:
    orgs = Organization.objects.order_by("pk")
    org = orgs.filter(slug=slug).first() if slug else orgs.first()
    if org is None:
        raise CommandError(f"No organization {slug!r}. Run `haven demo` first, or give --org.")
    return org


def _fake() -> tuple[Any, FakeTelegram | None]:
    """The running fake named in the data folder, or a new one of our own."""
    path = Path(settings.DATA_DIR) / URL_FILE
    if path.exists():
        remote = Remote(path.read_text(encoding="utf-8").strip())
        if remote.alive():
            return remote, None
    own = FakeTelegram().start()
    path.write_text(own.url + "\n", encoding="utf-8")
    return Remote(own.url), own


class _Session:
    def __init__(self, command: BaseCommand, fake: Remote, bot: Bot, token: str, chat: int,
                 lang: str) -> None:
        self.out, self.fake, self.bot, self.token = command.stdout, fake, bot, token
        self.chat, self.lang = chat, lang
        self.seen: set[int] = set()
        self.buttons: list[tuple[str, str]] = []

    def run(self) -> None:
        self.act(lambda: self.fake.user_message(self.token, self.chat, "/start", lang=self.lang))
        while True:
            try:
                line = input("> ").strip()
            except (EOFError, KeyboardInterrupt):
                return
            if line in (":quit", ":q"):
                return
            if line:
                self.act(lambda line=line: self.say(line))  # type: ignore[misc]

    def say(self, line: str) -> None:
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            self.fake.user_press(self.token, self.chat, self.buttons[int(line) - 1][1], lang=self.lang)
        elif line.startswith(":file "):
            path = Path(line[6:].strip()).expanduser()
            kind = "application/pdf" if path.suffix.lower() == ".pdf" else "image/jpeg"
            self.fake.user_file(self.token, self.chat, path.read_bytes(), name=path.name, mime=kind)
        else:
            self.fake.user_message(self.token, self.chat, line, lang=self.lang)

    def act(self, step: Any) -> None:
        try:
            step()
        except (OSError, ValueError) as exc:
            self.out.write(f"(could not do that: {exc})")
            return
        self.pump()
        self.show()

    def pump(self, limit: float = 5.0, settle: float = 1.5) -> None:
        """What the worker would do: poll, process, send (waiting for paced messages).

        The demo's own worker polls the same bot, so an update may be answered there:
        wait (up to ``settle`` s) until the bot's answer shows, or nothing is pending.
        """
        start = time.monotonic()
        while time.monotonic() < start + limit:
            work = processing.poll(self.bot) + processing.process_pending(self.bot) + tasks.send_round()
            if work:
                continue
            if not self.busy() and (self.answered() or time.monotonic() > start + settle):
                return
            time.sleep(0.2)

    def busy(self) -> bool:
        return (Outbox.objects.filter(organization_id=self.bot.organization_id,
                                      channel__in=tasks.CHANNELS).exists()
                or Update.objects.filter(bot=self.bot, state=UpdateState.RECEIVED).exists())

    def answered(self) -> bool:
        return any(m.get("by") == "bot" and m["message_id"] not in self.seen
                   for m in self.fake.visible(self.token, self.chat))

    def show(self) -> None:
        visible = self.fake.visible(self.token, self.chat)
        gone = self.seen - {m["message_id"] for m in visible}
        if gone:
            self.out.write(f"(the bot removed {len(gone)} messages from this chat)")
            self.seen -= gone
        for message in visible:
            if message["message_id"] not in self.seen and message.get("by") == "bot":
                self.out.write("\n" + _plain(message.get("text") or ""))
            self.seen.add(message["message_id"])
        self.buttons = self.fake.buttons(self.token, self.chat)
        if self.buttons:
            self.out.write("   " + "   ".join(f"[{n}] {label}" for n, (label, _d) in
                                              enumerate(self.buttons, start=1)))


def _plain(text: str) -> str:
    """Telegram's HTML as terminal text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
