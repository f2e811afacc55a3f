"""The real flows a seized server has seen, each planting markers (see conftest.MARKERS).

Driven as the other tests drive them: the requester's browser through the test
client, the requester's Telegram through the fake Bot API over loopback HTTP,
members through their logged-in browsers, and the worker's periodic tasks.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp

from haven.accounts.models import Member
from haven.cases.models import Case, Status
from haven.core import worker
from haven.funds import ledger
from haven.telegram.fake import FakeTelegram
from haven.telegram.models import Bot
from tests.conftest import Persona, log_in
from tests.intake.conftest import Visitor, codename_in
from tests.telegram.conftest import TOKEN, Phone, pump

from .conftest import CHAT_ID, MARKERS, PHONE_TYPED, TG_USERNAME_TYPED, jpeg_with_metadata

PASSWORD = "quokka lantern seized marble 91"  # the invitee sets it
M = MARKERS


@dataclass
class Seen:
    """What the flows made, and the secrets a requester or member holds (never the server)."""

    web_case: Case | None = None
    bot_case: Case | None = None
    secrets: dict[str, str] = field(default_factory=dict)


def web_intake(visitor: Visitor, seen: Seen) -> None:
    """The money questionnaire in a browser, with a phone number and a photo."""
    visitor.start("money")
    for step, value in [("purpose", ["tickets"]), ("currency", "rub"), ("amount", "5000"),
                        ("known", "no"), ("phone", PHONE_TYPED),
                        ("situation", f"Меня зовут {M['requester surname']}, {M['web intake word']}"
                                      " нужны деньги на билеты")]:
        response = visitor.answer(step, value)
        assert response.status_code == 302, (step, response.content.decode()[:1500])
    photo = SimpleUploadedFile(M["photo file name"] + ".jpg", jpeg_with_metadata(), "image/jpeg")
    done = visitor.post_files(visitor.url("confirm/"), {"send": "1", "files": photo})
    assert done.status_code == 200, done.content.decode()[:1500]
    seen.secrets["web codename"] = codename_in(done)
    visitor.written_down()
    seen.web_case = Case.objects.get(channel="web")


def _answer_bot_question(phone: Phone, fake: FakeTelegram) -> None:
    buttons = [d for _, d in fake.buttons(TOKEN, CHAT_ID)]
    question = phone.last()
    if "Telegram" in question:
        phone.send(TG_USERNAME_TYPED)
    elif any(d.startswith("t:") for d in buttons):
        phone.press("t:")
        phone.press("d:")
    elif any(d.startswith("a:") for d in buttons):
        phone.press("a:")
    elif "число" in question.lower():
        phone.send("3")
    else:
        phone.send(f"Я {M['requester surname']}, {M['bot intake word']} нужно уехать")


def bot_intake(fake: FakeTelegram, bot: Bot, seen: Seen) -> Phone:
    """The evacuation questionnaire in Telegram, a Telegram username typed, then a photo."""
    phone = Phone(fake, CHAT_ID)
    phone.send("/start")
    phone.press("l:ru")
    phone.press("m:req")
    phone.press(label="Выезд из России")
    phone.press("y:")
    for _turn in range(20):
        if any(d.startswith("y:") for _, d in fake.buttons(TOKEN, CHAT_ID)):
            break
        _answer_bot_question(phone, fake)
    phone.press("y:")
    seen.bot_case = Case.objects.get(channel="telegram")
    code = next(t for t in phone.bot_texts() if "<code>" in t)
    seen.secrets["bot codename"] = re.search(r"<code>([^<]+)</code>", code).group(1)  # type: ignore[union-attr]
    fake.user_file(TOKEN, CHAT_ID, jpeg_with_metadata((30, 200, 30)), kind="photo",
                   caption=M["photo caption (bot)"])
    pump()
    return phone


def telegram_profile(chat_id: int, lang: str) -> dict[str, Any]:
    """The requester's Telegram account as the Bot API shows it in every update."""
    return {"id": chat_id, "is_bot": False, "first_name": M["requester name (Telegram profile)"],
            "last_name": M["requester surname (Telegram profile)"], "username": TG_USERNAME_TYPED[1:],
            "language_code": lang}


def manual_key(page: str) -> str:
    key = page.split('<code class="key">', 1)[1].split("</code>", 1)[0]
    text = key.replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8)).hex()


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def accept_on_the_web(token: str, password: str = PASSWORD) -> tuple[list[Any], str]:
    """Open the link and fill in each page (password, then the key's code) until done.

    Returns every page seen and the second-factor secret read off the page, as an
    invitee's authenticator app reads it; whether one page asks for both or two
    pages ask in turn.
    """
    client = Client()
    pages, secret = [client.get(f"/invite/?t={token}")], ""
    for _step in range(3):
        html = pages[-1].content.decode()
        assert pages[-1].status_code == 200, html[:1500]
        if html.count("<code>") == 10:  # the backup codes: done
            return pages, secret
        data = {name: unescape(value) for name, value in HIDDEN.findall(html)}
        if 'name="new_password"' in html:
            data.update(new_password=password, new_password_again=password)
        if 'class="key"' in html:
            secret = manual_key(html)
            data["code"] = f"{totp(bytes.fromhex(secret)):06d}"
        pages.append(client.post("/invite/", data))
    raise AssertionError(f"the invitation was not accepted: {pages[-1].content.decode()[:1500]}")


def invitation_accepted(alice_client: Client, seen: Seen) -> Persona:
    """An admin invites a treasurer, who opens the link, sets a password and types the key."""
    page = alice_client.post("/org/invite/", {"username": "erin", "display_name": "Erin",
                                              "role": "treasurer"}).content.decode()
    token = page.split("/invite/?t=", 1)[1].split("<", 1)[0].strip()
    _pages, secret = accept_on_the_web(token)
    seen.secrets.update({"invite token": token, "member password": PASSWORD})
    erin = Member.objects.get(username="erin")
    erin.totpdevice_set.update(last_t=-1)
    return Persona(erin, PASSWORD, secret, [])


def desk_replies(alice_client: Client, seen: Seen) -> None:
    """A member opens and answers both cases; the worker delivers."""
    for case in (seen.web_case, seen.bot_case):
        assert case is not None
        assert alice_client.get(f"/desk/cases/{case.number}/").status_code == 200
        reply = alice_client.post(f"/desk/cases/{case.number}/reply/",
                                  {"text": f"Здравствуйте! {M['desk reply word']}: приходите."})
        assert reply.status_code == 302, reply.content.decode()[:1500]
    worker.run_due(force=True)
    pump()


def web_follow_up(visitor: Visitor, seen: Seen) -> None:
    """The requester comes back with the codename, reads the reply and answers."""
    code = seen.secrets["web codename"]
    page = visitor.post(visitor.url("follow-up/"), {"codename": code}).content.decode()
    assert M["desk reply word"] in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    sent = visitor.post(visitor.url("follow-up/"), {
        "codename": code, "action": "send", "token": token,
        "message": f"Спасибо, {M['web follow-up word']}, звоните {PHONE_TYPED}"})
    assert sent.status_code == 200


def payout(treasurer: Persona, seen: Seen) -> None:
    """The treasurer records a donation and pays a named payee for the web case."""
    client = log_in(Client(), treasurer)
    chart = ledger.chart(treasurer.org)
    fund_id = next(iter(chart.funds))
    holding_id = next(iter(chart.holdings))
    today = timezone.localdate().isoformat()
    donation = client.post("/funds/donations/new/", {
        "date": today, "amount": "500.00", "currency": "EUR", "fund": fund_id, "channel": "bank",
        "holding": holding_id, "reference": M["donor reference"]})
    assert donation.status_code == 302, donation.content.decode()[:1500]
    assert seen.web_case is not None
    paid = client.post("/funds/payouts/new/", {
        "case": seen.web_case.number, "purpose": "tickets", "amount": "87.00", "currency": "EUR",
        "fund": fund_id, "holding": holding_id, "payee": M["payee"], "date": today})
    assert paid.status_code == 302, paid.content.decode()[:1500]
    client.get("/funds/payouts/")


def close_web_case(alice_client: Client, seen: Seen) -> None:
    case = Case.objects.get(pk=seen.web_case.pk)  # type: ignore[union-attr]
    form = {"version": case.version, "status": Status.CLOSED, "assignee": case.assignee_id or "",
            "priority": case.priority, "category": case.category, "tags": ""}
    page = alice_client.post(f"/desk/cases/{case.number}/save/", form)
    assert page.status_code in (200, 302), page.content.decode()[:1500]
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED
    alice_client.get(f"/desk/search/?q={M['web intake word']}")
    worker.run_due(force=True)
