"""Photos and documents sent to the bot: fetched, cleaned, sealed and attached to the case.

Fetching happens before the update's transaction (a 20 MB download must not
hold the database), and only for a chat connected to an open case. Cleaning is
intake's (:mod:`haven.intake.attachments`): the type is decided by the content,
images are re-encoded (which drops EXIF and every other metadata block), PDFs
are kept as sent. The clean file is sealed to the organization before it is
written. Files over Telegram's 20 MB download limit are not fetched; the
requester is pointed to the web form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation

from haven.cases import actions
from haven.cases.models import Case, Channel
from haven.intake import attachments

from . import bots, chats, render, texts
from .client import DOWNLOAD_LIMIT, ApiError
from .models import Bot
from .turn import Turn, web_url


@dataclass(frozen=True)
class Fetched:
    """A file fetched and cleaned before the transaction, or the reason it was not."""

    file: attachments.CleanFile | None = None
    error: str = ""


def file_of(message: dict[str, Any]) -> dict[str, Any] | None:
    """The document, or the largest photo size that fits the download limit."""
    document = message.get("document")
    if isinstance(document, dict):
        return {**document, "name": str(document.get("file_name") or "document")}
    photos = [p for p in message.get("photo") or [] if isinstance(p, dict)]
    fitting = [p for p in photos if int(p.get("file_size") or 0) <= DOWNLOAD_LIMIT]
    chosen = (fitting or photos)[-1:] if photos else []
    return {**chosen[0], "name": "photo.jpg"} if chosen else None


def fetch(bot: Bot, message: dict[str, Any], lang: str) -> Fetched | None:
    """Download and clean the message's file, if it should be (outside any transaction)."""
    meta = file_of(message)
    chat_id = (message.get("chat") or {}).get("id") if isinstance(message.get("chat"), dict) else None
    if meta is None or not isinstance(chat_id, int):
        return None
    handle = chats.open_chat(bot, chat_id)
    if linked_open_case(handle) is None:
        return None
    with translation.override(lang):
        if int(meta.get("file_size") or 0) > DOWNLOAD_LIMIT:
            return Fetched(error=texts.file_too_large(web_url(bot)))
        try:
            client = bots.api(bot)
            info = client.call("getFile", {"file_id": str(meta.get("file_id") or "")}) or {}
            data = client.download(str(info.get("file_path") or ""), DOWNLOAD_LIMIT)
        except ApiError as exc:
            if "too big" in exc.description:
                return Fetched(error=texts.file_too_large(web_url(bot)))
            return Fetched(error=texts.file_failed())
        try:
            return Fetched(file=clean(meta["name"], data))
        except attachments.AttachmentRefused as exc:
            return Fetched(error=str(exc))


def clean(name: str, data: bytes) -> attachments.CleanFile:
    """Intake's checks and cleaning; Telegram allows files up to 20 MB where the web form takes 10 MB."""
    return attachments.clean(name, data, max_bytes=DOWNLOAD_LIMIT)


def linked_open_case(handle: chats.ChatHandle) -> Case | None:
    if handle.state.case is None:
        return None
    return Case.objects.filter(pk=handle.state.case, erased=False,
                               organization_id=handle.bot.organization_id).exclude(summary=b"").first()


def receive(turn: Turn, message: dict[str, Any], fetched: Fetched | None) -> None:
    """Inside the update's transaction: attach what was fetched, or say why not."""
    case = linked_open_case(turn.chat)
    if case is None or not case.is_open:
        turn.menu(texts.files_need_request())
        return
    caption = message.get("caption")
    caption = caption if isinstance(caption, str) and caption.strip() else ""
    if fetched is None or fetched.file is None:
        # Not fetched (too large, refused, the download failed, or the chat was linked
        # meanwhile): the words sent with it still reach the case.
        if caption:
            actions.add_inbound(case, caption)
        error = fetched.error if fetched is not None else texts.file_failed()
        turn.say(render.esc(f"{error}\n\n{texts.caption_kept()}" if caption else error))
        return
    actions.add_attachment(case, name=fetched.file.name, kind=fetched.file.type,
                           data=fetched.file.data, channel=Channel.TELEGRAM)
    if caption:
        actions.add_inbound(case, caption)
    turn.say(render.esc(texts.file_attached(fetched.file.name)))
