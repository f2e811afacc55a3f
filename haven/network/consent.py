"""Asking the requester whether a referral may go, in their own channel and language.

The network package knows no channel. Each channel that can ask registers here
(``register``): Telegram (``haven.telegram.referrals``) sends a message with two
buttons; the web needs no message (the requester's follow-up page shows the question
with two buttons whenever a proposal waits: ``haven.network.followup``). A case
whose channel registered nothing (recorded on the desk) cannot be referred: nobody
could agree.

The words the requester reads are here, so every channel says the same; the
channel renders them in the requester's language.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from . import referring

if TYPE_CHECKING:
    from haven.cases.models import Case

    from .models import Referral


Asker = Callable[["Case", "Referral", str], None]
ASKERS: dict[str, Asker] = {}


def register(channel: str, asker: Asker) -> None:
    """``asker(case, referral, lang)`` puts the question to the requester (inside the
    proposal's transaction), or raises a Refusal saying why it cannot."""
    ASKERS[channel] = asker


def can_ask(channel: str) -> bool:
    return channel in ASKERS


class Answer(Enum):
    AGREED = "agreed"
    REFUSED = "refused"
    ALREADY = "already"  # answered before: the first answer stands
    WITHDRAWN = "withdrawn"  # the caseworker withdrew the proposal
    CLOSED = "closed"  # the case was closed or erased meanwhile
    ENDED = "ended"  # the partnership ended meanwhile: the proposal was withdrawn


# --- the words (in the active language) ----------------------------------------------


def question_text(referral: Referral) -> str:
    what = referring.shared_words(referral.shared)
    lines = [_("Your caseworker proposes to pass your request to %(partner)s, another "
               "organization that can help you.") % {"partner": referral.partner.name},
             _("If you agree, they receive: %(what)s. Nothing else is shared, and you will "
               "not have to tell your story again.") % {"what": ", ".join(what)},
             _("If you refuse, nothing is shared and we go on helping you here. Your answer "
               "is final.")]
    return "\n\n".join(lines)


def agree_label() -> str:
    return _("I agree, send it")


def refuse_label() -> str:
    return _("No, do not share")


def answered_text(answer: Answer, referral: Referral | None) -> str:
    partner = referral.partner.name if referral is not None else ""
    if answer is Answer.AGREED and referral is not None \
            and referral.transport == referral.Transport.FILE:
        return _("Thank you. Your caseworker will hand your request to %(partner)s. How to "
                 "reach them will arrive here.") % {"partner": partner}
    if answer is Answer.AGREED:
        return _("Thank you. Your request was sent to %(partner)s. How to reach them will "
                 "arrive here.") % {"partner": partner}
    if answer is Answer.REFUSED:
        return _("Understood: nothing was shared with %(partner)s. We go on helping you here.") % {
            "partner": partner}
    if answer is Answer.WITHDRAWN:
        return _("This proposal was withdrawn by your caseworker; nothing was shared.")
    if answer is Answer.ENDED:
        return _("%(partner)s is no longer a partner of this organization, so your request "
                 "cannot go to them; nothing was shared. We go on helping you here.") % {
            "partner": partner}
    if answer is Answer.CLOSED:
        return _("This request is closed; nothing was shared.")
    if referral is None:
        return _("This proposal was already answered.")
    if referral.state == referral.State.REFUSED:
        return _("You already refused this proposal; nothing was shared. That answer is final.")
    return _("You already agreed to this proposal; it was sent to %(partner)s.") % {
        "partner": partner}


def continuation_text(partner: str, message: str) -> str:
    """The partner's "how to reach us", passed on to the requester in the old channel."""
    return _("%(partner)s accepted your request. Their message to you:\n\n%(message)s") % {
        "partner": partner, "message": message}


def accepted_without_message(partner: str) -> str:
    return _("%(partner)s accepted your request. They did not send a message on how to reach "
             "them; ask us here and we will help.") % {"partner": partner}
