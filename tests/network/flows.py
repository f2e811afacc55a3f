"""What people do on the two servers, over HTTP: shared by tests/network/test_two_servers.py
and bench/network.py. Members use the pages, requesters the bot (on the fake Telegram) and
the follow-up page; nothing reads a server's database."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PIL import Image

from bench.intake import ANSWERS
from bench.surge import next_step

from .servers import TOKEN, Network, Page, Server, Web

T = TypeVar("T")
SITUATION = "Пришла повестка, не знаю, что делать дальше. Помогите разобраться, пожалуйста."
NOTE = "Requester lives in your region; they need a lawyer for the summons hearing."
REPLY = "Здравствуйте! Мы получили материалы от партнёров и поможем с повесткой."
CODENAME_PAGE = re.compile(r'<p class="codename" id="codename"><code>([^<]+)</code>')
CASE_NUMBER = re.compile(r"\(\D*(\d+)\)")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0,
             servers: tuple[Server, ...] = ()) -> T:
    """Call ``probe`` until it returns something truthy; fail with the servers' logs."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            logs = "\n".join(s.logs() for s in servers)
            raise AssertionError(f"waited {timeout:.0f} s for {what}\n{logs}")
        time.sleep(0.3)


# --- partners --------------------------------------------------------------------------------


@dataclass
class Cards:
    a_card: str
    b_card: str
    a_fingerprint: str
    b_fingerprint: str
    seen_on_a: str  # B's fingerprint as A's confirmation page shows it
    seen_on_b: str


def _code(page: Page, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]+)<', page.body)
    assert match, f"no #{element_id} on {page.url}\n{page.text[:1500]}"
    return " ".join(match.group(1).split())


def _card(page: Page) -> str:
    match = re.search(r'id="our-card"[^>]*>\s*(haven-card:[^<\s]+)', page.body)
    assert match, f"no card on the partners page\n{page.text[:1500]}"
    return match.group(1)


def _add_partner(admin: Web, card: str) -> str:
    """Paste the partner's card, read the fingerprint it shows, confirm; return that fingerprint."""
    page = admin.open("/network/partners/")
    confirm = admin.submit(page, "/network/partners/add/", card=card)
    shown = _code(confirm, "their-fingerprint")
    done = admin.submit(confirm, "/network/partners/add/", confirmed="on", button=("confirm", "1"))
    assert "/network/partners/" in done.url, done.text[:1500]
    return shown



def partner_entry(server: Server, name: str) -> str:
    """The words of partner ``name``'s entry on the server's partners page ("" if none)."""
    page = server.member("coordinator").open("/network/partners/")
    section = page.body.split(f">{name} <", 1)
    if len(section) != 2:
        return ""
    return " ".join(re.sub(r"<[^>]+>", " ", section[1].split("</section>", 1)[0]).split())


def exchange_cards(a: Server, b: Server) -> Cards:
    """A and B exchange partner cards through their partners pages, each confirming the
    fingerprint the other reads out."""
    admin_a, admin_b = a.member("coordinator"), b.member("coordinator")
    page_a, page_b = admin_a.open("/network/partners/"), admin_b.open("/network/partners/")
    cards = Cards(_card(page_a), _card(page_b), _code(page_a, "our-fingerprint"),
                  _code(page_b, "our-fingerprint"), "", "")
    cards.seen_on_a = _add_partner(admin_a, cards.b_card)
    cards.seen_on_b = _add_partner(admin_b, cards.a_card)
    return cards


# --- requesters ---------------------------------------------------------------------------


def photo(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


class Phone:
    """A requester's Telegram on the fake: acts, then waits for the bot's answer."""

    def __init__(self, net: Network, server: Server, chat: int) -> None:
        self.fake, self.server, self.chat = net.fake, server, chat
        self.fake.open_chat(TOKEN, chat)

    def texts(self) -> list[str]:
        return [str(m.get("text") or m.get("caption") or "") for m in self.fake.sent_to(TOKEN, self.chat)]

    def _then_wait(self, act: Callable[[], Any], what: str) -> str:
        before = len(self.texts())
        act()
        wait_for(f"the bot's answer to {what}", lambda: len(self.texts()) > before, 30, (self.server,))
        time.sleep(0.3)  # answers of several messages arrive a moment apart
        return "\n".join(self.texts()[before:])

    def settle(self, quiet: float = 1.5) -> None:
        """Wait until the bot has said nothing for ``quiet`` seconds (at most 20 s)."""
        count, since, deadline = len(self.texts()), time.monotonic(), time.monotonic() + 20
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.2)
            if len(self.texts()) != count:
                count, since = len(self.texts()), time.monotonic()

    def send(self, text: str) -> str:
        return self._then_wait(lambda: self.fake.user_message(TOKEN, self.chat, text, lang="ru"), text)

    def press(self, data: str) -> str:
        return self._then_wait(lambda: self.fake.user_press(TOKEN, self.chat, data, lang="ru"), data)

    def send_photo(self, data: bytes) -> str:
        return self._then_wait(lambda: self.fake.user_file(TOKEN, self.chat, data, kind="photo"), "a photo")

    def buttons(self) -> list[tuple[str, str]]:
        return self.fake.buttons(TOKEN, self.chat)

    def intake(self) -> int:
        """A whole "other" request through the bot's buttons; returns the case number."""
        said = self.send("/start")
        typed = False
        for _step in range(30):
            match = CASE_NUMBER.search(said) if typed else None
            if match:
                self.settle()  # the codename and the hints follow the case number
                return int(match.group(1))
            what, value = next_step([d for _l, d in self.buttons()], typed)
            if what == "text":
                typed = True
                said = self.send(value)
            else:
                said = self.press(value)
        raise AssertionError(f"the bot's intake did not end with a case number: {self.texts()[-5:]}")


def web_intake(server: Server, files: list[tuple[str, bytes, str]]) -> str:
    """A summons request on the web form without JavaScript, with ``files``; the codename."""
    tab = server.browser("ru")
    base = f"/o/{server.slug}/"
    tab.open(base)
    tab.open(f"{base}consent/?topic=summons")
    page = tab.ok(tab.post(f"{base}consent/", [("topic", "summons"), ("agree", "1")]))
    location = page.location
    for step, value in ANSWERS:
        tab.open(location)
        location = tab.ok(tab.post(f"{base}step/", [("step", step), ("value", value),
                                                    ("action", "next")])).location
    confirm = tab.open(location)
    uploads = [("files", name, data, kind) for name, data, kind in files] or [
        ("files", "", b"", "application/octet-stream")]
    sent = tab.ok(tab.post(confirm.url, [("send", "1")], files=uploads), "sending the request")
    done = tab.follow(sent)
    match = CODENAME_PAGE.search(done.body)
    assert match, done.text[:1500]
    tab.post(done.url, [("written", "1")])
    return match.group(1)


def follow_up(server: Server, codename: str, **extra: str) -> tuple[Web, Page]:
    tab = server.browser("ru")
    tab.open(f"/o/{server.slug}/follow-up/")
    page = tab.post(f"/o/{server.slug}/follow-up/", [("codename", codename), *extra.items()])
    return tab, tab.ok(tab.follow(page), "the follow-up page")


# --- the desk on each side ----------------------------------------------------------------


def case_numbers(desk: Web) -> set[int]:
    page = desk.open("/desk/?queue=new")
    return {int(n) for n in re.findall(r'href="/desk/cases/(\d+)/"', page.body)}


def new_case(desk: Web, before: set[int]) -> int:
    found = wait_for("the new case in the queue", lambda: case_numbers(desk) - before, 20)
    return max(found)


def propose_referral(desk: Web, number: int, partner_name: str = "Beta") -> Page:
    """The caseworker follows "Refer to a partner", chooses B, writes a note, ticks every part."""
    case = desk.open(f"/desk/cases/{number}/")
    assert f"/network/cases/{number}/refer/" in case.body, case.text[:2000]
    page = desk.open(f"/network/cases/{number}/refer/")
    form = page.form_having("partner")
    option = re.search(rf'<option value="(\d+)"[^>]*>{partner_name}\b', page.body)
    assert option, page.text[:1500]
    ticks = {name: [v for n, v in form.checkboxes if n == name] for name in ("message", "attachment")}
    done = desk.submit(page, form, partner=option.group(1), note=NOTE, answers="1",
                       **{k: v for k, v in ticks.items() if v})
    assert f"/desk/cases/{number}/" in done.url, done.text[:2000]
    return done


def referral_panel(desk: Web, number: int) -> str:
    page = desk.open(f"/desk/cases/{number}/")
    parts = page.body.split('id="referral-h"', 1)
    assert len(parts) == 2, page.text[:1500]
    return " ".join(re.sub(r"<[^>]+>", " ", parts[1].split("</section>", 1)[0]).split())


def panel_saying(desk: Web, number: int, words: str) -> str | None:
    """The case's referral panel if it says ``words`` (for :func:`wait_for`)."""
    text = referral_panel(desk, number)
    return text if words in text else None


def incoming_ids(coordinator: Web) -> list[int]:
    page = coordinator.open("/network/incoming/")
    return list(dict.fromkeys(int(n) for n in re.findall(r'href="/network/incoming/(\d+)/"', page.body)))


def wait_incoming(b: Server, coordinator: Web, before: list[int], timeout: float = 40) -> int:
    fresh = wait_for("the referral in B's incoming list",
                     lambda: [i for i in incoming_ids(coordinator) if i not in before], timeout, (b,))
    assert len(fresh) == 1, fresh
    return fresh[0]


def accept_incoming(coordinator: Web, pk: int) -> tuple[Page, int]:
    """Open the incoming referral, accept it; return the detail page before and B's case number."""
    detail = coordinator.open(f"/network/incoming/{pk}/")
    done = coordinator.submit(detail, f"/network/incoming/{pk}/accept/")
    match = re.search(r'href="/desk/cases/(\d+)/"', done.body.split("<h1", 1)[-1])
    assert match, done.text[:1500]
    return detail, int(match.group(1))


def codename_in(text: str, lang: str = "ru", other_than: str = "") -> str:
    """The codename in a message: a run of words from the codename list, as long as one
    (``other_than``: a codename the text may also show, skipped)."""
    from haven.intake.codename import normalise, word_list, words_needed

    words, needed = set(word_list(lang)), words_needed(lang)
    tokens = re.findall(r"[^\W\d_]+", text)
    for start in range(len(tokens) - needed + 1):
        run = tokens[start:start + needed]
        if all(normalise(t) in words for t in run) and " ".join(run) != other_than:
            return " ".join(run)
    raise AssertionError(f"no codename in {text!r}")


def agree_label(lang: str = "ru") -> str:
    from django.utils import translation

    from haven.network import consent

    with translation.override(lang):
        return str(consent.agree_label())


def b_replies_and_requester_reads(b: Server, b_case: int, codename: str) -> None:
    desk = b.member("caseworker")
    page = desk.open(f"/desk/cases/{b_case}/")
    desk.submit(page, f"/cases/{b_case}/reply-with-file/", text=REPLY,
                files=[("file", "", b"", "application/octet-stream")])

    def reads() -> bool:
        _tab, thread = follow_up(b, codename)
        return REPLY in thread.text

    wait_for("B's reply on B's follow-up page", reads, 30, (b,))


