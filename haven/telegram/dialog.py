"""The conversation: one update in; state changes and queued answers out.

Runs inside the update's transaction (see :mod:`haven.telegram.processing`).
Every kind of update is either handled or ignored without an error: messages
and button presses in private chats are answered; a member-status change
records that the requester blocked (or unblocked) the bot; edited messages and
channel posts are ignored. The bot leaves any group or supergroup it finds
itself in: requesters write to it alone, and what it says (questions, answers,
replies from the desk) must never reach a group's other members. Channels are
not left: the organization's own publishing channel is one.

Buttons carry ``kind:nonce:arg`` (:mod:`haven.telegram.buttons`). The nonce is
the number of the prompt they belong to, so pressing a button of an earlier
question changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from haven.cases import actions
from haven.cases.models import Case
from haven.core.keys import pepper_hash
from haven.core.langs import DEFAULT_LANG, LANGS, LANGUAGE_NAMES
from haven.intake import conversations, followup
from haven.vault.purposes import Lookup

from . import autoclear, chats, hooks, intake_flow, links, media, referrals, render, texts
from .autoclear import DELETE_WINDOW
from .buttons import ERASE_NO, ERASE_YES, Button, Menu, decode, encode, index
from .chats import ChatHandle
from .models import Bot, TrackedMessage
from .outgoing import Out
from .turn import Turn

log = logging.getLogger("haven.telegram")
CODENAME_TRIES = 5
CODENAME_WINDOW = 3600


GROUPS = ("group", "supergroup")
STAYING = ("member", "administrator", "restricted")


def handle(bot: Bot, update: dict[str, Any], fetched: media.Fetched | None = None) -> int | None:
    """Process one update; return the id of the outbox row to send now, if any."""
    group = group_to_leave(update)
    if group is not None:
        log.info("leaving a group chat the bot was added to")
        out = Out(bot, group)
        out.leave()
        return out.queue()
    message = update.get("message")
    if isinstance(message, dict):
        return _message(bot, message, fetched)
    query = update.get("callback_query")
    if isinstance(query, dict):
        return _callback(bot, query)
    change = update.get("my_chat_member")
    if isinstance(change, dict):
        _member_status(bot, change)
    return None  # edited messages, channel posts, polls, groups: nothing to answer


def group_to_leave(update: dict[str, Any]) -> int | None:
    """The group this update shows the bot in (added, or written in), if any."""
    change = update.get("my_chat_member")
    if isinstance(change, dict):
        status = (change.get("new_chat_member") or {}).get("status")
        return _group_id(change) if status in STAYING else None
    query = update.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else update.get("message")
    return _group_id(message)


def _chat_id(holder: Any, types: tuple[str, ...]) -> int | None:
    """The id of the chat of ``holder`` (a message, a member change) if of one of ``types``."""
    chat = holder.get("chat") if isinstance(holder, dict) else None
    if not isinstance(chat, dict) or chat.get("type") not in types:
        return None
    chat_id = chat.get("id")
    return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None


def _group_id(holder: Any) -> int | None:
    return _chat_id(holder, GROUPS)


def private_chat_id(message: Any) -> int | None:
    return _chat_id(message, ("private",))


def guess_lang(sender: Any) -> str:
    code = str(sender.get("language_code") or "")[:2] if isinstance(sender, dict) else ""
    return code if code in LANGS else DEFAULT_LANG


def _open_turn(bot: Bot, chat_id: int, sender: Any) -> Turn:
    handle = chats.open_chat(bot, chat_id)
    if handle.state.lang is None:
        handle.state.lang = guess_lang(sender)
        handle.state.nonce = 0
        handle.state.mode = chats.MENU
    return Turn(bot, handle, Out(bot, chat_id))


def _message(bot: Bot, message: dict[str, Any], fetched: media.Fetched | None) -> int | None:
    chat_id = private_chat_id(message)
    if chat_id is None:
        return None
    turn = _open_turn(bot, chat_id, message.get("from"))
    first_contact = turn.chat.row is None
    if isinstance(message.get("message_id"), int):
        turn.message_id = int(message["message_id"])
        TrackedMessage.objects.create(chat_key=turn.chat.key, message_id=turn.message_id)
    with translation.override(turn.lang):
        text = message.get("text")
        if isinstance(text, str) and text.startswith("/"):
            _command(turn, text, first_contact)
        elif isinstance(text, str):
            _text(turn, text)
        elif media.file_of(message) is not None:
            media.receive(turn, message, fetched)
        elif any(k in message for k in ("location", "contact", "venue", "live_period")):
            turn.out.delete([turn.message_id] if turn.message_id else [])
            turn.say(render.esc(texts.no_location()))
        else:
            turn.say(render.esc(texts.only_text()))
    chats.save(turn.chat)
    return turn.out.queue()


def _command(turn: Turn, text: str, first_contact: bool) -> None:
    words = text.split(maxsplit=1)
    name = words[0][1:].split("@")[0].lower()
    arg = words[1].strip() if len(words) > 1 else ""
    if any(hook(turn, name, arg) for hook in hooks.COMMANDS):
        return
    if name == "start":
        if first_contact:
            _ask_lang(turn)
        else:
            _welcome(turn)
        return
    commands = {"help": _help, "lang": _ask_lang, "language": _ask_lang, "status": _status,
                "erase": _erase_ask, "clear": _clear, "cancel": _cancel, "menu": _cancel,
                "autoclear": _autoclear_ask}
    command = commands.get(name)
    if command is None:
        turn.say(f"{render.esc(texts.unknown_command())}\n\n{render.esc(texts.help_text())}")
        turn.menu()
        return
    command(turn)


def _text(turn: Turn, text: str) -> None:
    mode = turn.chat.state.mode
    if mode == chats.INTAKE:
        intake_flow.on_text(turn, text)
    elif mode == chats.ASK:
        _search(turn, text)
    elif mode == chats.CODENAME:
        _codename(turn, text)
    else:
        _to_case_or_help(turn, text)


def _callback(bot: Bot, query: dict[str, Any]) -> int | None:
    chat_id = private_chat_id(query.get("message"))
    if chat_id is None or not isinstance(query.get("id"), str):
        return None
    turn = _open_turn(bot, chat_id, query.get("from"))
    turn.out.answer(query["id"])
    pressed = query["message"].get("message_id")
    turn.pressed = pressed if isinstance(pressed, int) else None
    pressed = decode(query.get("data"))
    with translation.override(turn.lang):
        if not pressed.is_current(turn.chat.state.nonce):
            turn.out.ops[0]["text"] = texts.stale_button()
        else:
            if turn.pressed and pressed.kind != Button.TOGGLE:
                turn.out.unbutton(turn.pressed)
            _press(turn, pressed.kind, pressed.arg)
    chats.save(turn.chat)
    return turn.out.queue()


INTAKE_BUTTONS = (Button.ANSWER, Button.TOGGLE, Button.DONE, Button.SKIP, Button.BACK, Button.AGREE)


def _press(turn: Turn, kind: Button | None, arg: str) -> None:
    if kind == Button.LANGUAGE and arg in LANGS:
        turn.chat.state.lang = arg
        with translation.override(arg):
            intake_flow.set_lang(turn)
            _welcome(turn)
    elif kind == Button.MENU:
        _menu_choice(turn, arg)
    elif kind == Button.CANCEL:
        _cancel(turn)
    elif kind == Button.CATEGORY:
        intake_flow.start(turn, arg)
    elif kind == Button.ERASE:
        _erase(turn, arg == ERASE_YES)
    elif kind == Button.AUTOCLEAR:
        _autoclear_set(turn, arg)
    elif kind == Button.REFERRAL:
        referrals.on_press(turn, arg)
    elif kind in INTAKE_BUTTONS:
        intake_flow.on_button(turn, kind, arg)


def _menu_choice(turn: Turn, choice: str) -> None:
    if choice == Menu.ASK:
        turn.chat.state.mode = chats.ASK
        turn.say(render.esc(texts.ask_question()))
    elif choice == Menu.REQUEST:
        intake_flow.offer_categories(turn)
    elif choice == Menu.STATUS:
        _status(turn)
    elif choice == Menu.CLEAR:
        _clear(turn)
    elif choice == Menu.AUTOCLEAR:
        _autoclear_ask(turn)
    elif choice == Menu.LANGUAGE:
        _ask_lang(turn)


def _ask_lang(turn: Turn) -> None:
    row = [(name, encode(Button.LANGUAGE, arg=code)) for code, name in LANGUAGE_NAMES.items()]
    turn.say(render.esc(texts.CHOOSE_LANGUAGE), render.keyboard([row]))


def _welcome(turn: Turn) -> None:
    points = texts.safety_points(turn.org_name, turn.web_url())
    turn.say(f"{render.bold(texts.safety_title())}\n\n{render.bullets(points)}")
    turn.menu()


def _help(turn: Turn) -> None:
    turn.say(render.esc(texts.help_text()))
    turn.menu()


def _cancel(turn: Turn) -> None:
    if turn.chat.state.mode == chats.INTAKE:
        intake_flow.cancel(turn)
    else:
        turn.menu()


def _search(turn: Turn, query: str) -> None:
    try:
        from haven.knowledge import service
    except ImportError:
        turn.menu(texts.no_knowledge_base())
        return
    try:
        hits = service.search_articles(query, turn.lang, turn.bot.organization, limit=3)
    except service.QueryError as exc:
        turn.say(render.esc(service.query_error_message(exc)))
        return
    if not hits:
        turn.say(render.esc(texts.nothing_found()))
        return
    for hit in hits:
        turn.say(service.article_text_for_telegram(hit, turn.bot.organization))
    labels = texts.menu_labels()
    turn.say(render.esc(texts.after_answers()), render.keyboard(
        [[(labels["help"], encode(Button.MENU, arg=Menu.REQUEST))],
         [(labels["ask"], encode(Button.MENU, arg=Menu.ASK))]]))


def linked_case(handle: ChatHandle) -> Case | None:
    if handle.state.case is None:
        return None
    case = Case.objects.filter(pk=handle.state.case, organization_id=handle.bot.organization_id).first()
    if case is None or case.erased or not case.summary:
        handle.state.case = None
        return None
    return case


def _to_case_or_help(turn: Turn, text: str) -> None:
    case = linked_case(turn.chat)
    if case is None:
        turn.menu(texts.case_closed() if turn.chat.state.closed else texts.free_text())
    elif not case.is_open:
        turn.menu(texts.case_closed())
    else:
        actions.add_inbound(case, text)
        turn.say(render.esc(texts.message_added()))


def _status(turn: Turn) -> None:
    case = linked_case(turn.chat)
    if case is None:
        turn.chat.state.mode = chats.CODENAME
        turn.say(render.esc(texts.ask_codename()))
        return
    turn.say(render.esc(texts.status_line(case.status, case.number)))
    turn.menu()


def _codename(turn: Turn, text: str) -> None:
    tries_key = "tg-codename:" + pepper_hash(Lookup.TG_CODENAME_TRIES, turn.chat.key)
    if int(cache.get(tries_key, 0)) >= CODENAME_TRIES:
        turn.menu(texts.codename_blocked())
        return
    try:
        opened = followup.open_case(turn.bot.organization, text)
    except followup.NotFound:
        cache.set(tries_key, int(cache.get(tries_key, 0)) + 1, CODENAME_WINDOW)
        turn.say(render.esc(texts.codename_wrong()))
        return
    # The codename is a secret: take it off the requester's screen at once.
    turn.out.delete([turn.message_id] if turn.message_id else [])
    links.bind(opened.case, turn.bot, turn.chat.chat_id, turn.lang)
    turn.chat.state.case = opened.case.pk
    turn.say(render.esc(texts.reconnected()))
    turn.say(render.esc(texts.status_line(opened.case.status, opened.case.number)))
    turn.menu()


def _erase_ask(turn: Turn) -> None:
    if linked_case(turn.chat) is None:
        turn.menu(texts.nothing_to_erase())
        return
    turn.chat.state.mode = chats.ERASE
    nonce = turn.nonce()
    turn.say(render.esc(texts.erase_confirm()), render.keyboard(
        [[(texts.erase_yes(), encode(Button.ERASE, nonce, ERASE_YES))],
         [(texts.erase_no(), encode(Button.ERASE, nonce, ERASE_NO))]]))


def _erase(turn: Turn, yes: bool) -> None:
    case = linked_case(turn.chat)
    if not yes or case is None:
        turn.menu()
        return
    with transaction.atomic():
        actions.burn(None, case, by_requester=True)
        followup.forget(case)
        links.forget(case.pk)
    conversations.discard(turn.chat.intake_handle)
    turn.chat.state.case = None
    turn.say(render.esc(texts.erased()))
    _clear(turn)


def _clear(turn: Turn) -> None:
    since = timezone.now() - DELETE_WINDOW
    tracked = TrackedMessage.objects.filter(chat_key=turn.chat.key)
    ids = list(tracked.filter(created__gt=since).values_list("message_id", flat=True))
    tracked.delete()
    for start in range(0, len(ids), 100):
        turn.out.delete(ids[start:start + 100])
    turn.chat.state.mode = chats.MENU
    turn.say(f"{render.esc(texts.cleared(len(set(ids))))}\n\n{render.esc(texts.clear_limits())}")


def _autoclear_ask(turn: Turn) -> None:
    nonce = turn.nonce()
    now = autoclear.period_of(turn.chat)
    rows = [[(texts.autoclear_after(hours), encode(Button.AUTOCLEAR, nonce, hours))]
            for hours in autoclear.PERIODS]
    rows.append([(texts.autoclear_off(), encode(Button.AUTOCLEAR, nonce, 0))])
    turn.say(f"{render.esc(texts.autoclear_explain())}\n\n{render.esc(texts.autoclear_now(now))}",
             render.keyboard(rows))


def _autoclear_set(turn: Turn, arg: str) -> None:
    hours = index(arg)
    if hours not in (0, *autoclear.PERIODS):
        turn.menu()
        return
    autoclear.choose(turn.chat, hours)
    turn.menu(texts.autoclear_chosen(hours))


def _member_status(bot: Bot, change: dict[str, Any]) -> None:
    chat_id = private_chat_id(change)
    status = (change.get("new_chat_member") or {}).get("status") if chat_id else None
    if chat_id is None or status not in ("kicked", "member"):
        return
    handle = chats.open_chat(bot, chat_id)
    case = linked_case(handle)
    if case is not None:
        links.set_blocked(case.pk, status == "kicked")
    for hook in hooks.STATUS:
        hook(bot, handle.key, status == "kicked")
    if status == "kicked":  # nothing can be deleted in a chat that blocked the bot
        TrackedMessage.objects.filter(chat_key=handle.key).delete()
        autoclear.forget(handle.key)
