"""A chat's conversation state, found by a keyed hash and stored encrypted.

The state (language, where in the menu, the linked case while it is open, the
number of the last prompt) lives in a ``Chat`` row, not in process memory, so any worker can
answer the next message. The row is found by ``sealing.chat_key``, a slow keyed
hash (Argon2id over an HMAC under the pepper) of ``"bot:chat"``; a row made
under the old fast key is moved to the slow one the first time its chat writes
again (:func:`_rekey`). It expires after ``HAVEN_TELEGRAM_CHAT_DAYS`` of inactivity
(default 14); after that the bot no longer knows the chat, and the requester
reconnects to a case with the codename. The questionnaire's own state is kept
by the intake engine's conversations (:mod:`haven.intake.conversations`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from haven.cases.models import Case, Status
from haven.core.langs import LANGS
from haven.intake import conversations
from haven.vault import VaultError

from . import sealing
from .models import AutoClear, Bot, Chat, Pace, TrackedMessage

MENU, ASK, INTAKE, CODENAME, ERASE = "menu", "ask", "intake", "codename", "erase"


def lifetime() -> timedelta:
    return timedelta(days=int(getattr(settings, "HAVEN_TELEGRAM_CHAT_DAYS", 14)))


@dataclass
class ChatState:
    lang: str | None = None
    mode: str = MENU
    case: int | None = None
    nonce: int = 0
    picks: list[str] = field(default_factory=list)
    # The linked case closed: the link itself is gone (see detach), only the fact stays,
    # so a message after the close is answered "your request is closed".
    closed: bool = False

    @classmethod
    def from_json(cls, data: Any) -> ChatState:
        if not isinstance(data, dict):
            return cls()
        lang = data.get("lang") if data.get("lang") in LANGS else None
        case = data.get("case") if isinstance(data.get("case"), int) else None
        picks = [str(p) for p in data.get("picks") or [] if isinstance(p, str)]
        mode = data.get("mode") if data.get("mode") in (MENU, ASK, INTAKE, CODENAME, ERASE) else MENU
        return cls(lang, str(mode), case, int(data.get("nonce") or 0), picks,
                   bool(data.get("closed")))

    def next_nonce(self) -> int:
        self.nonce = (self.nonce + 1) % 100_000
        return self.nonce


@dataclass
class ChatHandle:
    """A chat being answered: its key, its row (None until first saved) and state."""

    bot: Bot
    chat_id: int
    key: str
    row: Chat | None
    state: ChatState

    @property
    def intake_handle(self) -> str:
        """The handle of the chat's unfinished intake: its slow key, never the chat id."""
        return f"telegram:{self.key}"


def open_chat(bot: Bot, chat_id: int) -> ChatHandle:
    key = sealing.chat_key(bot.telegram_id, chat_id)
    row = Chat.objects.filter(key=key, expires__gt=timezone.now()).first()
    if row is None:
        row = _rekey(bot, chat_id, key)
    state = ChatState()
    if row is not None:
        try:
            state = ChatState.from_json(sealing.unseal(sealing.STATE, key, bytes(row.state)))
        except VaultError:
            state = ChatState()
    return ChatHandle(bot, chat_id, key, row, state)


def save(handle: ChatHandle) -> None:
    """Store the state; the caller holds the bot's processing lease (one writer per chat)."""
    blob = sealing.seal(sealing.STATE, handle.key, asdict(handle.state))
    expires = timezone.now() + lifetime()
    if handle.row is None:
        Chat.objects.filter(key=handle.key).delete()  # an expired row under the same key
        handle.row = Chat.objects.create(key=handle.key, bot=handle.bot, state=blob, expires=expires)
        return
    Chat.objects.filter(pk=handle.row.pk).update(state=blob, expires=expires,
                                                 version=F("version") + 1)


def _rekey(bot: Bot, chat_id: int, key: str) -> Chat | None:
    """A chat last seen under the old fast key: move its rows to the slow key, once."""
    old = sealing.fast_chat_key(bot.telegram_id, chat_id)
    row = Chat.objects.filter(key=old, expires__gt=timezone.now()).first()
    if row is None:
        return None
    try:
        state = sealing.unseal(sealing.STATE, old, bytes(row.state))
    except VaultError:
        state = asdict(ChatState())
    with transaction.atomic():
        if not Chat.objects.filter(pk=row.pk, key=old).update(
                key=key, state=sealing.seal(sealing.STATE, key, state)):
            return None  # another worker moved it first
        _move_rows(bot, chat_id, old, key)
    return Chat.objects.get(pk=row.pk)


def _move_rows(bot: Bot, chat_id: int, old: str, key: str) -> None:
    """What else a chat keeps under its key: message ids, clearing, pacing, an unfinished intake."""
    TrackedMessage.objects.filter(chat_key=old).update(chat_key=key)
    for clear in AutoClear.objects.filter(chat_key=old):
        try:
            kept = sealing.unseal(sealing.AUTOCLEAR, old, bytes(clear.sealed_chat))
        except VaultError:
            clear.delete()
            continue
        AutoClear.objects.filter(pk=clear.pk).update(
            chat_key=key, sealed_chat=sealing.seal(sealing.AUTOCLEAR, key, kept))
    Pace.objects.filter(key=f"chat:{old}").delete()
    conversations.move(f"telegram:{bot.telegram_id}:{chat_id}", f"telegram:{key}")


def rekey_clearing() -> int:
    """Chats that clear themselves and still have the old fast key are moved at once, not
    at their next message, so the desk's replies meanwhile are tracked and cleared too.
    The worker holds their chat ids (``AutoClear.sealed_chat``), so only old rows pay the
    slow hash, once each."""
    moved = 0
    for clear in AutoClear.objects.select_related("bot"):
        try:
            chat_id = int(sealing.unseal(sealing.AUTOCLEAR, clear.chat_key, bytes(clear.sealed_chat)))
        except (VaultError, TypeError, ValueError):
            continue
        if clear.chat_key != sealing.fast_chat_key(clear.bot.telegram_id, chat_id):
            continue
        key = sealing.chat_key(clear.bot.telegram_id, chat_id)
        with transaction.atomic():
            if _rekey(clear.bot, chat_id, key) is None:
                _move_rows(clear.bot, chat_id, clear.chat_key, key)
        moved += 1
    return moved


def detach(bot: Bot, chat_id: int, case_id: int) -> bool:
    """The case closed: the chat's state forgets which case it was (it keeps ``closed``)."""
    handle = open_chat(bot, chat_id)
    if handle.row is None or handle.state.case != case_id:
        return False
    return _forget_case(handle)


def attach(bot: Bot, chat_id: int, case_id: int) -> bool:
    """The case was reopened: link the chat to it again, unless it moved on to another."""
    handle = open_chat(bot, chat_id)
    if handle.row is None or handle.state.case is not None:
        return False
    handle.state.case, handle.state.closed = case_id, False
    return _save_unchanged(handle)


def _forget_case(handle: ChatHandle) -> bool:
    handle.state.case, handle.state.closed = None, True
    if handle.state.mode == ERASE:
        handle.state.mode = MENU
    return _save_unchanged(handle)


def _save_unchanged(handle: ChatHandle) -> bool:
    """Store the state unless an update for the chat saved it meanwhile (the sweep retries)."""
    assert handle.row is not None  # noqa: S101 - only called for a stored chat
    blob = sealing.seal(sealing.STATE, handle.key, asdict(handle.state))
    return bool(Chat.objects.filter(pk=handle.row.pk, version=handle.row.version).update(
        state=blob, version=F("version") + 1))


def unlink_closed() -> int:
    """The worker's safety net: chats still linked to a case that is closed, burned or gone."""
    linked: list[ChatHandle] = []
    for row in Chat.objects.filter(expires__gt=timezone.now()).select_related("bot"):
        try:
            state = ChatState.from_json(sealing.unseal(sealing.STATE, row.key, bytes(row.state)))
        except VaultError:
            continue
        if state.case is not None:
            linked.append(ChatHandle(row.bot, 0, row.key, row, state))
    live = set(Case.objects.filter(pk__in=[h.state.case for h in linked], erased=False)
               .exclude(status=Status.CLOSED).exclude(summary=b"").values_list("pk", flat=True))
    return sum(_forget_case(h) for h in linked if h.state.case not in live)


def purge_expired() -> int:
    deleted, _ = Chat.objects.filter(expires__lte=timezone.now()).delete()
    return deleted
