"""A referral's question in the requester's Telegram chat, and their answer.

The network (``haven.network``) knows no channel: it calls :func:`ask` (registered
from this app's ``ready``) when a caseworker proposes to refer a Telegram case. The
question names the partner and what would be shared, in the case's language, with
two buttons (``Button.REFERRAL``, data ``r:y<number>`` / ``r:n<number>``). A press is
accepted only from the chat the case is connected to; the first answer is final, and
a later press (or one after the proposal was withdrawn) says so and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from haven import outbox
from haven.cases.actions import ActionError
from haven.cases.models import Case, Channel
from haven.network import actions, consent
from haven.network.models import Referral

from . import links, render, texts
from .buttons import REFERRAL_AGREE, REFERRAL_REFUSE, Button, encode, index
from .turn import Turn


def ask(case: Case, referral: Referral, lang: str) -> None:
    """Queue the question (inside the proposal's transaction); ActionError if the chat is
    gone or blocked the bot."""
    links.address(case)  # refuses a chat that is gone or blocked, with its reason
    with translation.override(lang):
        text = render.esc(consent.question_text(referral))
        buttons = render.keyboard([
            [(consent.agree_label(), encode(Button.REFERRAL, arg=f"{REFERRAL_AGREE}{referral.pk}"))],
            [(consent.refuse_label(), encode(Button.REFERRAL, arg=f"{REFERRAL_REFUSE}{referral.pk}"))]])
    outbox.enqueue(case, None, "", ops=[{"m": "send", "text": text, "buttons": buttons}])


def _from_its_chat(turn: Turn, case: Case) -> bool:
    try:
        address: dict[str, Any] = links.address(case)
    except ActionError:
        return False
    return address.get("bot") == turn.bot.pk and address.get("chat") == turn.chat.chat_id


def on_press(turn: Turn, arg: str) -> None:
    choice, number = arg[:1], index(arg[1:])
    referral = (Referral.objects.select_related("partner", "case")
                .filter(pk=number or 0, organization_id=turn.bot.organization_id).first())
    if choice not in (REFERRAL_AGREE, REFERRAL_REFUSE) or referral is None \
            or not _from_its_chat(turn, referral.case):
        turn.say(render.esc(texts.stale_button()))
        return
    result = actions.answer_referral(referral.case, referral.pk, choice == REFERRAL_AGREE,
                                     via=Channel.TELEGRAM)
    referral.refresh_from_db()
    turn.say(render.esc(consent.answered_text(result, referral)))


def register() -> None:
    consent.register(Channel.TELEGRAM, ask)
