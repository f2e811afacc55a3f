"""The web requester's side of a referral: the question on their follow-up page.

Registered in intake's follow-up hooks (``haven.intake.followup_hooks``): intake
imports nothing of the network. Whenever a proposal of their case waits, the page
shows who the partner is, what would be shared and two buttons; the forms post the
codename again (as every follow-up form does), so the answer is the requester's own.
The web needs no message at proposal time: the requester sees the question the next
time they come back (Haven cannot notify a web requester).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from haven.cases.models import Channel
from haven.core.ids import row_id
from haven.intake import followup_hooks
from haven.intake.followup import Opened

from . import actions, consent
from .models import Referral

ACTION = "referral"


def panel(request: HttpRequest, opened: Opened, codename: str) -> str:
    waiting = (Referral.objects.select_related("partner")
               .filter(case=opened.case, state=Referral.State.PROPOSED).order_by("-created").first())
    if waiting is None or not opened.is_open:
        return ""
    return render_to_string("network/followup_question.html", {
        "referral": waiting, "question": consent.question_text(waiting).split("\n\n"),
        "agree": consent.agree_label(), "refuse": consent.refuse_label(),
        "codename": codename, "org": opened.case.organization}, request=request)


def answer(request: HttpRequest, opened: Opened) -> tuple[str, str]:
    referral = row_id(request.POST.get("referral"))
    choice = request.POST.get("answer")
    if referral is None or choice not in ("agree", "refuse"):
        return "", _("Choose one of the two buttons.")
    found = Referral.objects.select_related("partner").filter(pk=referral, case=opened.case).first()
    result = actions.answer_referral(opened.case, referral, choice == "agree", via=Channel.WEB)
    text = consent.answered_text(result, found)
    if result in (consent.Answer.AGREED, consent.Answer.REFUSED):
        return text, ""
    if result is consent.Answer.ALREADY and found is not None:
        found.refresh_from_db()
        return "", consent.answered_text(result, found)
    return "", text


def register() -> None:
    consent.register(Channel.WEB, lambda case, referral, lang: None)
    followup_hooks.add_panel(panel)
    followup_hooks.add_action(ACTION, answer)
