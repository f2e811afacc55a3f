"""Where replies to a Telegram case go: the chat id, stored twice, and why.

A reply is written with a member present, but the outbox handler's
``address(case)`` (and the worker that sends later) sees only the case. So each
Telegram case keeps its chat id in a ``CaseChat`` row in two forms:

- ``sealed_chat``: sealed to the organization's public key. Only members can
  open it; it stays with the case until the case is purged, so a member can
  reconnect a reopened case (:func:`rearm`).
- ``server_chat``: encrypted in the server box ``purposes.TELEGRAM_CHAT``
  (a key derived from ``HAVEN_TOKEN_KEY``), bound to the case, so the worker can address
  replies with no member present. This is the trade-off: a seized disk *plus*
  the server's environment secrets reveals the chat ids of open Telegram cases;
  the disk (or a backup) without the secrets reveals none. The server copy is
  deleted when the case is closed or burned (:func:`disconnect`, on the
  ``closed`` and ``content_purged`` signals, and :func:`disconnect_closed`, run
  by the worker as a safety net), and the whole row when the case is burned or
  erased. At the same moment the chat's own state forgets the case
  (:func:`haven.telegram.chats.detach`), so nothing on the server links the chat
  to a closed case any more; reopening restores both (:func:`rearm`).

The outbox payload holds the clear chat id only while a message is pending
(encrypted with the server's outbox key), and the row is deleted once delivered.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.cases.actions import ActionError
from haven.cases.models import Case, Reminder, Status
from haven.core.langs import DEFAULT_LANG
from haven.vault import OrgVault, VaultError, seal_text

from . import chats, sealing
from .models import Bot, CaseChat


def _bound(case_id: int) -> str:
    return f"case:{case_id}"


def bind(case: Case, bot: Bot, chat_id: int, lang: str) -> None:
    """Remember where replies to ``case`` go (at intake, or when a codename reconnects)."""
    sealed = seal_text(bytes(case.organization.public_key),
                       json.dumps({"bot": bot.telegram_id, "chat": chat_id, "lang": lang}))
    server = sealing.seal(sealing.CHAT, _bound(case.pk), {"chat": chat_id, "lang": lang})
    CaseChat.objects.update_or_create(case=case, defaults={
        "bot": bot, "sealed_chat": sealed, "server_chat": server, "blocked_at": None})


def address(case: Case) -> dict[str, Any]:
    """What the outbox row needs to reach the requester; ActionError if it cannot."""
    row = CaseChat.objects.filter(case=case).select_related("bot").first()
    if row is None or not row.server_chat:
        raise ActionError(_("This requester's Telegram chat is no longer connected to the case "
                            "(the case was closed, or the requester erased it). They can "
                            "reconnect by sending their codename to the bot."))
    if row.blocked_at is not None:
        raise ActionError(_("The requester blocked the bot on %(date)s, so Telegram will not "
                            "deliver replies. Nothing was sent; a private note keeps your text.")
                          % {"date": row.blocked_at.strftime("%Y-%m-%d")})
    try:
        value = sealing.unseal(sealing.CHAT, _bound(case.pk), bytes(row.server_chat))
    except VaultError:
        raise ActionError(_("The Telegram address of this case cannot be opened (the server's "
                            "key changed). The requester can reconnect with their codename.")) from None
    chat = int(value["chat"])
    # The chat's key goes with the row, so the sending loop need not pay its slow hash.
    return {"bot": row.bot_id, "chat": chat, "lang": str(value.get("lang") or DEFAULT_LANG),
            "key": sealing.chat_key(row.bot.telegram_id, chat)}


def rearm(case: Case, vault: OrgVault) -> bool:
    """A member reopened the case: restore the server copy from the sealed one."""
    row = CaseChat.objects.filter(case=case).first()
    if row is None or row.server_chat:
        return False
    value = json.loads(vault.decrypt_text(bytes(row.sealed_chat)))
    CaseChat.objects.filter(pk=row.pk).update(server_chat=sealing.seal(
        sealing.CHAT, _bound(case.pk), {"chat": value["chat"], "lang": value.get("lang", "ru")}))
    chats.attach(row.bot, int(value["chat"]), case.pk)
    return True


def disconnect(case: Case) -> bool:
    """The case closed (or is being burned): the worker's copy of its chat id goes, and the
    chat's state forgets the case, so chat id and case are no longer linked on the server.
    False when there was no live link to undo (the worker's sweeps cover what is left)."""
    row = CaseChat.objects.filter(case=case).select_related("bot").first()
    if row is None or not row.server_chat:
        return False
    try:
        chat_id = int(sealing.unseal(sealing.CHAT, _bound(case.pk), bytes(row.server_chat))["chat"])
    except (VaultError, KeyError, TypeError, ValueError):
        chat_id = None
    CaseChat.objects.filter(pk=row.pk).update(server_chat=None)
    return chat_id is not None and chats.detach(row.bot, chat_id, case.pk)


def set_blocked(case_id: int, blocked: bool) -> None:
    """The requester blocked (or unblocked) the bot: show it on the case once."""
    with transaction.atomic():
        row = CaseChat.objects.select_for_update().filter(case_id=case_id).select_related(
            "case").first()
        if row is None or (row.blocked_at is not None) == blocked:
            return
        CaseChat.objects.filter(pk=row.pk).update(blocked_at=timezone.now() if blocked else None)
        if blocked:
            Reminder.objects.create(organization_id=row.case.organization_id, case_id=case_id,
                                    kind="telegram_blocked", detail={"channel": "telegram"})


def forget(case_id: int) -> None:
    CaseChat.objects.filter(case_id=case_id).delete()


def disconnect_closed() -> int:
    """Closed cases lose the server copy; burned or erased ones lose the whole row."""
    gone, _ = CaseChat.objects.filter(case__status=Status.CLOSED, case__summary=b"").delete()
    erased, _ = CaseChat.objects.filter(case__erased=True).delete()
    closed = CaseChat.objects.filter(case__status=Status.CLOSED, server_chat__isnull=False).update(
        server_chat=None)
    return gone + erased + closed
