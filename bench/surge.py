"""A surge: web intakes, bot updates and caseworkers at once, over real HTTP, for minutes.

For each database (SQLite, then PostgreSQL when it answers on 127.0.0.1:5432, in a
fresh database) this starts, in a throw-away data folder, ``haven serve`` (gunicorn,
2 workers x 4 threads, the production settings profile "demo": production password
hashing and key derivation, generated secrets) and ``haven worker`` (one process, as a
small deployment runs it), with the fake Telegram Bot API (:mod:`haven.telegram.fake`)
served by this process on loopback, Telegram's limits included (30 messages a second
per bot, 1 a second per chat). Then, for ``--duration`` seconds:

- web intakes start at ``--web-rate`` a second (open loop: a scheduler starts them on
  time however slow the answers are). Each is a browser without JavaScript: cookies,
  the CSRF token, every page of a summons intake (17 requests) to the codename page;
- bot updates arrive at ``--bot-rate`` a second on the webhook, posted as Telegram
  posts them (the secret header the bot registered with ``setWebhook``, up to 40 at
  once). They are requesters' actions in private chats: ``/start``, the buttons of a
  whole "other" intake, a typed answer, and a written answer when the desk's reply
  reaches their chat. Each requester acts after reading the bot's answer (1-4 s);
  when none is ready, a new requester writes ``/start``;
- ``--caseworkers`` members log in (password and second-factor code, as a person
  does) and loop: open the "new" queue (every third round "mine"), open one of its
  cases, take it (assign it to themselves) if nobody has, and reply; ``--think``
  seconds (on average) between pages. ``--linked`` of them linked their Telegram
  (a code from their notification page sent to the bot as ``/link CODE``) and chose
  every notification at once, without quiet hours or digest (what a coordinator on
  duty in a surge does).

Then the load stops and the bench waits (at most ``--drain`` s) for the worker to
tell the last events. Measured (JSON lines on stdout, {"bench": "surge", "metric",
"value", "unit", "db"}; progress every 10 s on stderr):

- ``desk_p50_ms``, ``desk_p95_ms``: every caseworker request after logging in
  (queue, case page, the save and reply posts, the pages their redirects lead to);
- ``failed``: requests answered other than 2xx/3xx, or not answered within
  ``TIMEOUT`` s, or refused by the connection (web, webhook, desk, logins alike);
  the parts are ``failed_web``, ``failed_bot``, ``failed_desk``;
- ``notify_p95_s``: for each event a linked caseworker is told of (a new case, a
  requester's reply on their case), the time from the event (its audit entry) to the
  notification's arrival at the fake Bot API. A notification carries counts only, so
  its counts are matched to that member's events of each kind oldest first;
  ``notify_missed``: events never told before the end;
- ``intake_to_queue_p95_s``: from the requester's last action to the case being in
  the "new" queue: for a web intake the send request's answer (the case is created
  and committed in that request), for the bot the time from the webhook post of the
  "send" button to the case's creation by the worker;
- ``bot_answer_p95_s``: from a requester's update to the first message of the bot's
  answer in their chat;
- ``web_lag_p95_s``, ``bot_lag_p95_s``: how late the open-loop scheduler started
  work (this client not keeping up, not the server); ``bot_ticks_skipped``: ticks
  with no requester able to act and too many waiting already;
- counts: ``intakes`` (web intakes finished), ``bot_updates``, ``bot_cases``,
  ``desk_requests``, ``replies``, ``notifications``; and ``server_errors_logged``,
  lines with a traceback or a 5xx status in the server's and the worker's logs.

Targets (issue 15): desk p95 under 300 ms, no failed request, notification p95 under
60 s. The load generator shares the machine with the server: run it on an otherwise
quiet machine for figures that mean anything.

    python bench/surge.py [--duration 300] [--web-rate 5] [--bot-rate 20] [--caseworkers 10]
                          [--db sqlite|postgres|both] [--quick]
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._setup import _pg_available, _pg_database, emit  # noqa: E402
from bench.intake import ANSWERS, CODENAME  # noqa: E402

BENCH = "surge"
SLUG = "surge"
TOKEN = "123456789:AAEhBP0av28pmVbzT6dvoXgE9rAzeqkV-jY"  # noqa: S105 - only the fake accepts it
TIMEOUT = 30.0  # seconds a request may take before it counts as failed
WEBHOOK_CONNECTIONS = 40  # Telegram's default max_connections, which the bot registers
NOTICE_CHAT = 5_000_000  # caseworkers' own chats: NOTICE_CHAT + index
REQUESTER_CHAT = 10_000_000
REPLY_MARK = "surge-reply"
SITUATION = "Пришла повестка, не знаю, что делать дальше. Помогите разобраться, пожалуйста."
FOLLOW_UP = "Спасибо! Повестку мне вручили лично, срок явки через неделю."


# --- pure helpers ---------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks; None if empty."""
    data = sorted(values)
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    rank = (len(data) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


class Ticker:
    """Open-loop ticks at ``rate`` a second from ``start`` until ``until``.

    :meth:`next` sleeps until the next tick's time and returns how late it woke (the
    lag), or None once the next tick would be at or after ``until``. The ticks keep
    their times whatever the caller does between them: a slow caller gets its ticks
    at once, late, and the lateness says so.
    """

    def __init__(self, rate: float, start: float, until: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.period = 1.0 / rate
        self.start, self.until, self.clock, self.sleep = start, until, clock, sleep
        self.count = 0

    def due(self) -> float:
        return self.start + self.count * self.period

    def next(self) -> float | None:
        due = self.due()
        if due >= self.until:
            return None
        wait = due - self.clock()
        if wait > 0:
            self.sleep(wait)
        self.count += 1
        return max(0.0, self.clock() - due)


@dataclass
class Form:
    """A form as a browser would submit it: its action, method, enctype and fields."""

    action: str
    method: str = "get"
    enctype: str = "application/x-www-form-urlencoded"
    fields: list[tuple[str, str]] = field(default_factory=list)
    checkboxes: list[tuple[str, str]] = field(default_factory=list)  # every checkbox, ticked or not

    def values(self, **overrides: str | list[str]) -> list[tuple[str, str]]:
        """The fields to submit, with ``overrides`` replacing every value of their names."""
        out = [(k, v) for k, v in self.fields if k not in overrides]
        for name, value in overrides.items():
            out += [(name, v) for v in ([value] if isinstance(value, str) else value)]
        return out


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: tuple[str, list[list[Any]]] | None = None  # name, [value or None, selected]
        self.in_option = False
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = Form(a.get("action", ""), a.get("method", "get").lower(),
                                a.get("enctype", "application/x-www-form-urlencoded"))
            self.forms.append(self.current)
        if self.current is None:
            return
        name = a.get("name", "")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                value = a.get("value", "on")
                if kind == "checkbox":
                    self.current.checkboxes.append((name, value))
                if "checked" in a:
                    self.current.fields.append((name, value))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.current.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self.select = (name, [])
        elif tag == "option" and self.select is not None:
            value = dict(attrs).get("value")  # None: the option submits its text
            self.select[1].append([value, "selected" in a])
            self.in_option = True
        elif tag == "textarea" and name:
            self.textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea[1].append(data)
        if self.select is not None and self.in_option and self.select[1][-1][0] is None:
            self.select[1][-1][0] = data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "option":
            self.in_option = False
        elif tag == "select" and self.select is not None and self.current is not None:
            name, options = self.select
            chosen = [v or "" for v, selected in options if selected] or [v or "" for v, _s in options[:1]]
            self.current.fields += [(name, v) for v in chosen[-1:]]
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.current is not None:
            name, parts = self.textarea
            text = "".join(parts)
            self.current.fields.append((name, text[1:] if text.startswith("\n") else text))
            self.textarea = None


def parse_forms(html: str) -> list[Form]:
    """Every form in ``html`` with what a browser would submit by default."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def form_to(forms: list[Form], action_suffix: str) -> Form | None:
    return next((f for f in forms if f.action.endswith(action_suffix)), None)


NOTICE_KINDS = {  # the English text of haven.notify.dispatch.message_text
    "new_case": re.compile(r"(\d+) new cases?\b"),
    "assigned": re.compile(r"(\d+) cases? assigned to you"),
    "reply": re.compile(r"(\d+) repl(?:y|ies) from"),
    "deadline": re.compile(r"(\d+) deadlines? within"),
    "payout": re.compile(r"(\d+) payouts? wait"),
}


def next_step(buttons: list[str], typed: bool) -> tuple[str, str]:
    """A requester's next action in the bot's "other" intake, from the buttons on the screen.

    ("press", data) or ("text", words): the Russian language, the request menu, the
    category "other", consent (and, once the free text is ``typed``, the send button),
    the first answer offered; with only back and cancel on the screen, the question
    wants words.
    """
    for wanted in ("l:ru", "m:req"):
        if wanted in buttons:
            return "press", wanted
    for data in buttons:
        if data.startswith("c:") and data.endswith(":other"):
            return "press", data
    for prefix in ("y:", "a:"):
        for data in buttons:
            if data.startswith(prefix):
                return "press", data
    return "text", SITUATION


def notice_counts(text: str) -> dict[str, int]:
    """The counts a notification's text gives ("2 new cases; 1 reply from a requester")."""
    counts = {}
    for kind, pattern in NOTICE_KINDS.items():
        match = pattern.search(text)
        if match:
            counts[kind] = int(match.group(1))
    return counts


@dataclass
class Attribution:
    delays: list[float] = field(default_factory=list)  # seconds, one per event told
    unmatched: int = 0  # counted in a notification with no event of its kind left to match
    missed: int = 0  # events no notification told


def attribute(events: dict[str, list[float]], notices: list[tuple[float, dict[str, int]]]) -> Attribution:
    """Match one member's notifications to their events, oldest first within each kind.

    ``events``: kind -> the times of the events the member should hear of; ``notices``:
    (arrival, counts) of each notification. A notification's count of n for a kind
    tells the n oldest events of that kind not yet told.
    """
    waiting = {kind: deque(sorted(times)) for kind, times in events.items()}
    result = Attribution()
    for arrival, counts in sorted(notices):
        for kind, n in counts.items():
            queue = waiting.get(kind, deque())
            for _ in range(n):
                if not queue:
                    result.unmatched += 1
                    continue
                result.delays.append(arrival - queue.popleft())
    result.missed = sum(len(q) for q in waiting.values())
    return result


def multipart(fields: list[tuple[str, str]], files: Iterable[str] = ()) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it, with empty file fields ``files``."""
    boundary = "----surge" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename=""\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n\r\n".encode())
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- measuring ------------------------------------------------------------------------


class Stats:
    """Latencies, failures and counts from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.failures: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, list[float]] = defaultdict(list)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)

    def failed(self, kind: str, reason: str) -> None:
        with self.lock:
            self.failures[kind] += 1
            self.reasons[f"{kind}: {reason}"] += 1

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] += n

    def sample(self, name: str, value: float) -> None:
        with self.lock:
            self.samples[name].append(value)


class Failed(Exception):
    """A request that failed (already counted)."""


@dataclass
class Response:
    status: int
    location: str
    body: str


def keep_cookies(cookies: dict[str, str], response: http.client.HTTPResponse) -> None:
    """Keep what a response's Set-Cookie headers set, drop what they expire."""
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if "max-age=0" in header.lower() or not value.strip('"'):
            cookies.pop(name.strip(), None)
        else:
            cookies[name.strip()] = value


class Browser:
    """One keep-alive connection and a cookie jar, like a browser tab without JavaScript.

    Every request is timed and counted under ``kind``; a failure (other than 2xx/3xx,
    no answer within TIMEOUT, a refused connection) is counted and raises Failed. A
    keep-alive connection the server closed while idle is reopened once, as browsers do.
    """

    def __init__(self, port: int, stats: Stats, kind: str, lang: str = "ru") -> None:
        self.port, self.stats, self.kind, self.lang = port, stats, kind, lang
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _once(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response, response.read()

    def request(self, method: str, path: str, *, form: list[tuple[str, str]] | None = None,
                files: Iterable[str] | None = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, kind: str | None = None) -> Response:
        kind = kind or self.kind
        sent = {"Accept-Language": self.lang, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = data
        if form is not None:
            fields = [*form, ("csrfmiddlewaretoken", self.cookies.get("csrftoken", ""))]
            if files is not None:
                body, sent["Content-Type"] = multipart(fields, files)
            else:
                body = urlencode(fields).encode()
                sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        try:
            reused = self.conn is not None
            try:
                response, content = self._once(method, path, body, sent)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if not reused:
                    raise
                started = time.monotonic()  # the idle connection was closed: a fresh one
                response, content = self._once(method, path, body, sent)
        except TimeoutError:
            self.close()
            self.stats.failed(kind, f"no answer within {TIMEOUT:.0f} s")
            raise Failed(path) from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            self.stats.failed(kind, type(exc).__name__)
            raise Failed(path) from None
        seconds = time.monotonic() - started
        keep_cookies(self.cookies, response)
        if response.will_close:
            self.close()
        if not 200 <= response.status < 400:
            self.stats.failed(kind, f"{method} {_route(path)} {response.status}")
            raise Failed(path)
        self.stats.ok(kind, seconds)
        return Response(response.status, response.headers.get("Location", ""),
                        content.decode("utf-8", "replace"))

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, form: list[tuple[str, str]], **kw: Any) -> Response:
        return self.request("POST", path, form=form, **kw)

    def post_and_follow(self, path: str, form: list[tuple[str, str]], **kw: Any) -> Response:
        """A form post, and the page its redirect leads to (as a browser shows it)."""
        answer = self.post(path, form, **kw)
        if 300 <= answer.status < 400 and answer.location:
            return self.get(answer.location)
        return answer


def _route(path: str) -> str:
    """A path with its numbers and query left out, to group failures by page."""
    return re.sub(r"\d+", "N", path.split("?", 1)[0])


# --- the fake Bot API, posting updates the way this bench says ---------------------------


def _fake_class() -> type:
    from haven.telegram.fake import FakeBot, FakeTelegram

    class SurgeTelegram(FakeTelegram):  # type: ignore[misc,valid-type]
        """The fake Bot API; updates are returned to the bench, which posts them itself
        (many at once, as Telegram does), and every message the bot sends is reported."""

        def __init__(self, on_send: Callable[[int, str, bool], None]) -> None:
            super().__init__()
            self.on_send = on_send

        def push(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
            with self.lock:
                bot: FakeBot = self.bot(token)
                update = {"update_id": bot.next_update, **payload}
                bot.next_update += 1
                return update

        def _m_sendMessage(self, bot: FakeBot, params: dict[str, Any]) -> Any:
            message = super()._m_sendMessage(bot, params)
            self.on_send(int(params["chat_id"]), str(params.get("text") or ""),
                         bool(message.get("reply_markup")))
            return message

    return SurgeTelegram


# --- the load -------------------------------------------------------------------------


@dataclass
class Requester:
    chat: int
    awaiting: bool = True  # an update sent, the bot's answer not yet here
    ready: bool = False  # the bot asked something (buttons) or the desk replied
    sent_at: float = 0.0
    typed: bool = False  # the free-text answer is given: the next "y:" sends the request
    submitted_at: float | None = None  # wall-clock time of the "send" press
    case: int | None = None
    follow_up: bool = False  # the desk replied: answer it
    done: bool = False


class Bot:
    """Requesters in private chats, acting at ``rate`` updates a second in total."""

    def __init__(self, fake: Any, port: int, public_id: str, secret: str, stats: Stats) -> None:
        self.fake, self.port, self.stats = fake, port, stats
        self.url = f"/telegram/webhook/{public_id}/"
        self.secret = secret
        self.lock = threading.Lock()
        self.chats: dict[int, Requester] = {}
        self.heap: list[tuple[float, int]] = []  # (when the requester acts, chat)
        self.next_chat = REQUESTER_CHAT
        self.local = threading.local()
        self.rng = random.Random(15)
        self.notices: dict[int, list[tuple[float, str]]] = defaultdict(list)  # chat -> (wall time, text)
        self.case_submits: dict[int, float] = {}  # case number -> wall time of the "send" press
        self.linked: dict[int, threading.Event] = {}
        self.since = 0.0  # wall-clock time the load began

    # the bot's messages, from the fake's threads
    def on_send(self, chat_id: int, text: str, buttons: bool) -> None:
        now, wall = time.monotonic(), time.time()
        if NOTICE_CHAT <= chat_id < REQUESTER_CHAT:
            with self.lock:
                if chat_id in self.linked and "/stop" in text:
                    self.linked[chat_id].set()  # "Notifications are on ... Send /stop to turn them off."
                elif "http" in text:
                    self.notices[chat_id].append((wall, text))
            return
        with self.lock:
            req = self.chats.get(chat_id)
            if req is None:
                return
            if req.awaiting:
                req.awaiting = False
                self.stats.sample("bot_answer", now - req.sent_at)
            if req.submitted_at is not None and req.case is None:
                match = re.search(r"\(\D*(\d+)\)", text)
                if match:
                    req.case = int(match.group(1))
                    self.case_submits[req.case] = req.submitted_at
                    self.stats.count("bot_cases")
            if REPLY_MARK in text and req.case is not None and not req.follow_up:
                req.follow_up, req.ready = True, True
                heapq.heappush(self.heap, (now + self.rng.uniform(2, 8), chat_id))
            elif buttons and req.case is None and not req.ready:
                req.ready = True
                heapq.heappush(self.heap, (now + self.rng.uniform(1, 4), chat_id))

    def _next_action(self) -> tuple[Requester, str, str] | None:
        """A requester able to act now, and what they do: ("text", words) or ("press", data)."""
        now = time.monotonic()
        with self.lock:
            while self.heap and self.heap[0][0] <= now:
                _when, chat_id = heapq.heappop(self.heap)
                req = self.chats[chat_id]
                if not req.ready or req.done:
                    continue
                req.ready, req.awaiting, req.sent_at = False, True, now
                if req.follow_up:
                    req.done = True
                    return req, "text", FOLLOW_UP
                break
            else:
                return None
        # The fake's lock is taken outside ours: the fake reports messages holding its own.
        data = [d for _label, d in self.fake.buttons(TOKEN, req.chat)]
        what, value = next_step(data, req.typed)
        with self.lock:
            if what == "text":
                req.typed = True
            elif req.typed and value.startswith("y:"):
                req.submitted_at = time.time()
        return req, what, value

    def tick(self, active_cap: int) -> bool:
        """Send one update: a requester's next step, else a new requester. False if none could."""
        action = self._next_action()
        if action is None:
            with self.lock:
                if sum(1 for r in self.chats.values() if not r.done and r.awaiting) >= active_cap:
                    return False
                req = Requester(self.next_chat, sent_at=time.monotonic())
                self.chats[req.chat] = req
                self.next_chat += 1
            action = (req, "text", "/start")
        req, what, value = action
        try:
            if what == "press":
                update = self.fake.user_press(TOKEN, req.chat, value, lang="ru")
            else:
                update = self.fake.user_message(TOKEN, req.chat, value, lang="ru")
        except KeyError:  # the button went away meanwhile: this requester gives up
            req.done = True
            self.stats.count("bot_gave_up")
            return True
        self.post(update)
        return True

    def post(self, update: dict[str, Any]) -> None:
        """Post one update to the webhook as Telegram does (the secret header, JSON)."""
        browser = getattr(self.local, "browser", None)
        if browser is None:
            browser = self.local.browser = Browser(self.port, self.stats, "bot")
        try:
            browser.request("POST", self.url, data=json.dumps(update).encode(), headers={
                "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": self.secret})
            self.stats.count("bot_updates")
        except Failed:
            pass


class Desk:
    """One caseworker's browser: log in, link Telegram, then queue, case, take, reply."""

    def __init__(self, port: int, stats: Stats, who: dict[str, Any], think: float, seed: int) -> None:
        self.browser = Browser(port, stats, "desk", lang="en")
        self.who, self.think_s, self.stats = who, think, stats
        self.rng = random.Random(seed)

    def think(self, until: float) -> None:
        time.sleep(max(0.0, min(self.rng.uniform(0.5, 1.5) * self.think_s, until - time.monotonic())))

    def log_in(self) -> None:
        from django_otp.oath import totp

        b = self.browser
        b.get("/login/", kind="login")
        code = f"{totp(bytes.fromhex(self.who['totp'])):06d}"
        answer = b.post("/login/", [("username", self.who["username"]),
                                    ("password", self.who["password"]), ("code", code)], kind="login")
        if answer.status != 302:
            raise SystemExit(f"{self.who['username']} could not log in ({answer.status})")

    def link_telegram(self, bot: Bot, chat: int) -> None:
        """The notification page's code, sent to the bot from the member's own chat; all kinds."""
        b = self.browser
        page = b.get("/account/notifications/", kind="setup").body
        link = form_to(parse_forms(page), "/telegram/link/")
        assert link is not None, "no link button on the notification page"
        page = b.post(link.action, link.values(), kind="setup").body
        match = re.search(r"/link ([A-Z0-9]{10})", page)
        assert match is not None, "no code on the notification page"
        done = bot.linked[chat] = threading.Event()
        bot.post(bot.fake.user_message(TOKEN, chat, f"/link {match.group(1)}", lang="en"))
        if not done.wait(60):
            raise SystemExit("the bot did not confirm a /link within 60 s")
        page = b.get("/account/notifications/", kind="setup").body
        prefs = next(f for f in parse_forms(page) if f.checkboxes)
        kinds = [value for name, value in prefs.checkboxes if name == "kinds"]
        answer = b.post(prefs.action or "/account/notifications/",
                        prefs.values(kinds=kinds, digest="now", quiet_from="", quiet_to=""), kind="setup")
        assert answer.status == 302, "the notification choices were not saved"

    def run(self, until: float) -> None:
        rounds = 0
        while time.monotonic() < until:
            rounds += 1
            try:
                self._round("mine" if rounds % 3 == 0 else "new", until)
            except Failed:
                self.think(until)

    def _round(self, queue: str, until: float) -> None:
        b = self.browser
        page = b.get(f"/desk/?queue={queue}").body
        numbers = re.findall(r'href="/desk/cases/(\d+)/"', page)
        self.think(until)
        if not numbers or time.monotonic() >= until:
            return
        number = self.rng.choice(numbers[:10])
        page = b.get(f"/desk/cases/{number}/").body
        self.think(until)
        forms = parse_forms(page)
        save = form_to(forms, f"/cases/{number}/save/")
        if save is not None and dict(save.fields).get("assignee", "") == "":
            page = b.post_and_follow(save.action, save.values(assignee=str(self.who["id"]))).body
            forms = parse_forms(page)
            self.think(until)
        reply = form_to(forms, f"/cases/{number}/reply-with-file/")
        if reply is None or time.monotonic() >= until:
            return
        text = f"{REPLY_MARK}: Здравствуйте! Мы получили ваш вопрос и скоро ответим подробно."
        b.post_and_follow(reply.action, reply.values(text=text), files=["file"])
        self.stats.count("replies")
        self.think(until)


def web_intake(port: int, stats: Stats) -> None:
    """One whole summons intake, as a browser without JavaScript sends it."""
    b = Browser(port, stats, "web")
    base = f"/o/{SLUG}/"
    try:
        b.get(base)
        b.get(f"{base}consent/?topic=summons")
        location = b.post(f"{base}consent/", [("topic", "summons"), ("agree", "1")]).location
        for step, value in ANSWERS:
            b.get(location)
            location = b.post(f"{base}step/", [("step", step), ("value", value),
                                               ("action", "next")]).location
        b.get(location)
        started = time.monotonic()
        sent = b.post(location, [("send", "1")]).location
        stats.sample("intake_to_queue_web", time.monotonic() - started)
        page = b.get(sent).body
        if not CODENAME.search(page.encode()):
            stats.failed("web", "no codename on the last page")
            return
        b.post(sent, [("written", "1")])
        stats.count("intakes")
    except Failed:
        pass
    finally:
        b.close()


# --- the servers ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group only (gunicorn and its workers)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _wait_until_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"haven serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("haven serve did not answer within 90 s")


def _seed(caseworkers: int) -> tuple[list[dict[str, Any]], str]:
    """The organization, its caseworkers (in the default team) and its bot in webhook mode."""
    from haven.accounts.models import Role
    from haven.telegram import bots
    from haven.telegram.models import Mode
    from tests.conftest import add_member, make_org

    admin, _made = make_org(SLUG, "coordinator")
    people = []
    for n in range(caseworkers):
        p = add_member(admin, f"caseworker{n + 1}", Role.CASEWORKER)
        people.append({"id": p.member.pk, "username": p.member.username, "password": p.password,
                       "totp": p.totp_secret})
    bots.set_token(admin.member, TOKEN)
    bot = bots.set_mode(admin.member, Mode.WEBHOOK)
    return people, bot.public_id


def _events(since: float, linked: list[dict[str, Any]]) -> dict[int, dict[str, list[float]]]:
    """Per linked member id, the times of the events they should hear of (from the audit chain)."""
    from django.db import connections

    from haven.accounts.models import Organization
    from haven.audit.models import AuditEntry

    org = Organization.objects.get(slug=SLUG)
    assignee: dict[int, int] = {}
    per: dict[int, dict[str, list[float]]] = {p["id"]: defaultdict(list) for p in linked}
    rows = (AuditEntry.objects.filter(organization=org).order_by("seq")
            .values_list("action", "case_id", "created", "actor_id", "detail"))
    for action, case_id, created, actor, detail in rows:
        detail = detail if isinstance(detail, dict) else {}
        at = created.timestamp()
        if action == "case.assigned" and case_id:
            assignee[case_id] = detail.get("assignee")
            if at >= since and detail.get("assignee") in per and detail.get("assignee") != actor:
                per[detail["assignee"]]["assigned"].append(at)
        if at < since:
            continue
        if action == "case.released" or (action == "case.created" and not detail.get("held")):
            for member_id, kinds in per.items():
                if member_id != actor:
                    kinds["new_case"].append(at)
        elif action == "case.inbound" and assignee.get(case_id) in per:
            per[assignee[case_id]]["reply"].append(at)
    connections.close_all()
    return per


def _case_times() -> tuple[dict[int, float], int]:
    """Case number -> creation time (wall clock), and how many cases were held."""
    from django.db import connections

    from haven.cases.models import Case

    cases = Case.objects.filter(organization__slug=SLUG)
    created = {n: at.timestamp() for n, at in cases.values_list("number", "created")}
    held = cases.filter(held=True).count()
    connections.close_all()
    return created, held


def _log_errors(*logs: Path) -> tuple[int, list[str]]:
    count, lines = 0, Counter()
    status = re.compile(r'" (5\d\d) ')
    for log in logs:
        if not log.exists():
            continue
        for line in log.read_text("utf-8", "replace").splitlines():
            if "Traceback" in line or status.search(line) or " ERROR " in line or "Error:" in line:
                count += 1
                lines[re.sub(r"\d+", "N", line.strip())[:200]] += 1
    return count, [f"{n} x {text}" for text, n in lines.most_common(8)]


# --- one run --------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    db = os.environ["BENCH_DBNAME"]
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    data = Path(os.environ["HAVEN_DATA"])
    port = int(os.environ["BENCH_PORT"])
    stats = Stats()
    bot: Bot | None = None

    def on_send(chat_id: int, text: str, buttons: bool) -> None:
        if bot is not None:
            bot.on_send(chat_id, text, buttons)

    fake = _fake_class()(on_send).start()
    settings.HAVEN_TELEGRAM_API_URL = fake.url
    people, public_id = _seed(args.caseworkers)
    secret = fake.bots[TOKEN].webhook["secret"]
    connections.close_all()
    env = {**os.environ, "HAVEN_TELEGRAM_API_URL": fake.url}
    serve_log, worker_log = data / "serve.log", data / "worker.log"
    server = _spawn([sys.executable, "-m", "haven.cli", "serve", "--bind", f"127.0.0.1:{port}",
                     "--workers", str(args.server_workers), "--no-migrate"], serve_log, env)
    workers = [_spawn([sys.executable, "-m", "haven.cli", "worker"], worker_log, env)
               for _ in range(args.worker_procs)]
    try:
        _wait_until_up(port, server)
        bot = Bot(fake, port, public_id, secret, stats)
        for n in range(args.caseworkers):
            fake.open_chat(TOKEN, NOTICE_CHAT + n)
        desks = [Desk(port, stats, who, args.think, n) for n, who in enumerate(people)]
        for n, desk in enumerate(desks):
            desk.log_in()
            if n < args.linked:
                desk.link_telegram(bot, NOTICE_CHAT + n)
        _load(args, port, stats, bot, desks, db)
        _drain(args, bot, people[:args.linked])
        _report(args, db, stats, bot, people[:args.linked], serve_log, worker_log)
    finally:
        for proc in [*workers, server]:
            _stop(proc)
        fake.stop()
        if args.keep_logs:
            keep = Path(args.keep_logs)
            keep.mkdir(parents=True, exist_ok=True)
            for log in (serve_log, worker_log):
                if log.exists():
                    shutil.copyfile(log, keep / f"{db}-{log.name}")


def _load(args: argparse.Namespace, port: int, stats: Stats, bot: Bot, desks: list[Desk],
          db: str) -> None:
    start = time.monotonic() + 0.5
    until = start + args.duration
    bot.since = time.time() + 0.5
    web_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="web")
    bot_pool = ThreadPoolExecutor(max_workers=WEBHOOK_CONNECTIONS, thread_name_prefix="webhook")
    stopping = threading.Event()

    def web_scheduler() -> None:
        ticker = Ticker(args.web_rate, start, until)
        while (late := ticker.next()) is not None:
            due = ticker.due() - ticker.period

            def job(due: float = due) -> None:
                stats.sample("web_lag", max(0.0, time.monotonic() - due))
                web_intake(port, stats)
            web_pool.submit(job)
            stats.sample("web_tick_lag", late)

    def bot_scheduler() -> None:
        ticker = Ticker(args.bot_rate, start, until)
        cap = int(args.bot_rate * 60)
        while (late := ticker.next()) is not None:
            due = ticker.due() - ticker.period

            def job(due: float = due) -> None:
                stats.sample("bot_lag", max(0.0, time.monotonic() - due))
                if not bot.tick(cap):
                    stats.count("bot_ticks_skipped")
            bot_pool.submit(job)
            stats.sample("bot_tick_lag", late)

    def progress() -> None:
        while not stopping.wait(10):
            with stats.lock:
                c, f = stats.counts, stats.failures
                desk = len(stats.latency["desk"])
                lag = percentile(stats.samples["bot_lag"][-200:], 95) or 0.0
            print(f"# {db} {time.monotonic() - start:5.0f} s: intakes {c['intakes']}, "
                  f"updates {c['bot_updates']}, bot cases {c['bot_cases']}, desk requests {desk}, "
                  f"replies {c['replies']}, failed {sum(f.values())} ({dict(f)}), "
                  f"bot lag p95 {lag:.2f} s", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=web_scheduler, name="web-ticks"),
               threading.Thread(target=bot_scheduler, name="bot-ticks"),
               *(threading.Thread(target=d.run, args=(until,), name=f"desk{n}")
                 for n, d in enumerate(desks))]
    reporter = threading.Thread(target=progress, daemon=True)
    reporter.start()
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    web_pool.shutdown(wait=True)
    bot_pool.shutdown(wait=True)
    stopping.set()
    stats.sample("client_cpu_s", time.process_time() - cpu)


def _drain(args: argparse.Namespace, bot: Bot, linked: list[dict[str, Any]]) -> None:
    """Wait until every event a linked member should hear of was told, or ``--drain`` s."""
    if not linked:
        return
    deadline = time.monotonic() + args.drain
    while time.monotonic() < deadline:
        time.sleep(5)
        if _attributions(bot, linked)[1] == 0:
            return


def _attributions(bot: Bot, linked: list[dict[str, Any]]) -> tuple[Attribution, int]:
    events = _events(bot.since, linked)
    total = Attribution()
    for n, person in enumerate(linked):
        with bot.lock:
            notices = [(at, notice_counts(text)) for at, text in bot.notices[NOTICE_CHAT + n]]
        one = attribute(events[person["id"]], notices)
        total.delays += one.delays
        total.unmatched += one.unmatched
        total.missed += one.missed
    return total, total.missed


def _report(args: argparse.Namespace, db: str, stats: Stats, bot: Bot, linked: list[dict[str, Any]],
            serve_log: Path, worker_log: Path) -> None:
    told, _missed = _attributions(bot, linked)
    created, held = _case_times()
    for number, pressed in bot.case_submits.items():
        if number in created:
            stats.sample("intake_to_queue_bot", max(0.0, created[number] - pressed))
    errors, lines = _log_errors(serve_log, worker_log)
    extra = {"db": db, "duration_s": args.duration, "web_rate": args.web_rate,
             "bot_rate": args.bot_rate, "caseworkers": args.caseworkers, "timeout_s": TIMEOUT}

    def ms(values: list[float], q: float) -> float | None:
        p = percentile(values, q)
        return None if p is None else round(p * 1000, 1)

    def s(values: list[float], q: float) -> float | None:
        p = percentile(values, q)
        return None if p is None else round(p, 2)

    desk = stats.latency["desk"]
    queue = stats.samples["intake_to_queue_web"] + stats.samples["intake_to_queue_bot"]
    emit(BENCH, "desk_p50_ms", ms(desk, 50), "ms", **extra)
    emit(BENCH, "desk_p95_ms", ms(desk, 95), "ms", **extra)
    emit(BENCH, "failed", sum(stats.failures.values()), "requests", **extra)
    for kind in ("web", "bot", "desk", "login", "setup"):
        emit(BENCH, f"failed_{kind}", stats.failures[kind], "requests", **extra)
    emit(BENCH, "notify_p50_s", s(told.delays, 50), "s", **extra)
    emit(BENCH, "notify_p95_s", s(told.delays, 95), "s", **extra)
    emit(BENCH, "notify_max_s", s(told.delays, 100), "s", **extra)
    emit(BENCH, "notified_events", len(told.delays), "events", linked=len(linked), **extra)
    emit(BENCH, "notify_missed", told.missed, "events", **extra)
    emit(BENCH, "notify_unmatched", told.unmatched, "events", **extra)
    emit(BENCH, "notifications", sum(len(v) for v in bot.notices.values()), "messages", **extra)
    emit(BENCH, "intake_to_queue_p95_s", s(queue, 95), "s", **extra)
    emit(BENCH, "intake_to_queue_web_p95_s", s(stats.samples["intake_to_queue_web"], 95), "s",
         **extra)
    emit(BENCH, "intake_to_queue_bot_p95_s", s(stats.samples["intake_to_queue_bot"], 95), "s",
         **extra)
    emit(BENCH, "bot_answer_p50_s", s(stats.samples["bot_answer"], 50), "s", **extra)
    emit(BENCH, "bot_answer_p95_s", s(stats.samples["bot_answer"], 95), "s", **extra)
    emit(BENCH, "web_p95_ms", ms(stats.latency["web"], 95), "ms", **extra)
    emit(BENCH, "webhook_p95_ms", ms(stats.latency["bot"], 95), "ms", **extra)
    emit(BENCH, "web_lag_p95_s", s(stats.samples["web_lag"], 95), "s", **extra)
    emit(BENCH, "bot_lag_p95_s", s(stats.samples["bot_lag"], 95), "s", **extra)
    emit(BENCH, "bot_ticks_skipped", stats.counts["bot_ticks_skipped"], "ticks", **extra)
    emit(BENCH, "intakes", stats.counts["intakes"], "intakes", **extra)
    emit(BENCH, "bot_updates", stats.counts["bot_updates"], "updates", **extra)
    emit(BENCH, "bot_cases", stats.counts["bot_cases"], "cases", **extra)
    emit(BENCH, "held_cases", held, "cases", **extra)
    emit(BENCH, "desk_requests", len(desk), "requests", **extra)
    emit(BENCH, "replies", stats.counts["replies"], "replies", **extra)
    emit(BENCH, "server_errors_logged", errors, "lines", **extra)
    emit(BENCH, "client_cpu_s", round(sum(stats.samples["client_cpu_s"]), 1), "s", **extra)
    for reason, n in stats.reasons.most_common(10):
        print(f"# {db} failed: {n} x {reason}", file=sys.stderr)
    for line in lines:
        print(f"# {db} log: {line}", file=sys.stderr)


# --- per database ---------------------------------------------------------------------


def _env(data: str, port: int, db: str, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HAVEN_", "DJANGO_")) and k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(HAVEN_MODE="demo", HAVEN_DATA=data, HAVEN_SITE_URL=f"http://127.0.0.1:{port}",
               DJANGO_SETTINGS_MODULE="haven.settings", PYTHONPATH=str(ROOT), BENCH_DBNAME=db,
               BENCH_PORT=str(port))
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--web-rate", type=float, default=5.0, help="web intakes started a second")
    parser.add_argument("--bot-rate", type=float, default=20.0, help="bot updates a second")
    parser.add_argument("--caseworkers", type=int, default=10)
    parser.add_argument("--linked", type=int, default=5,
                        help="caseworkers who linked Telegram for notifications")
    parser.add_argument("--think", type=float, default=1.0,
                        help="a caseworker's mean pause between pages, seconds")
    parser.add_argument("--drain", type=float, default=90.0,
                        help="at most this long after the load for the last notifications")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-procs", type=int, default=1, help="haven worker processes")
    parser.add_argument("--db", choices=["sqlite", "postgres", "postgresql", "both"],
                        default=os.environ.get("BENCH_DB", "both"))
    parser.add_argument("--quick", action="store_true", help="a 20 s smoke run")
    parser.add_argument("--keep-logs", default="", metavar="DIR",
                        help="copy the server's and the worker's logs to DIR")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.duration = 20.0
    args.linked = min(args.linked, args.caseworkers)
    if args.child:
        child(args)
        return
    targets = [] if args.db in ("postgres", "postgresql") else ["sqlite"]
    if args.db != "sqlite":
        if _pg_available():
            targets.append("postgresql")
        else:
            print("# PostgreSQL does not answer on 127.0.0.1:5432: skipped", file=sys.stderr)
    argv = [a for a in sys.argv[1:] if a != "--child"]
    for db in targets:
        with tempfile.TemporaryDirectory(prefix="haven-bench-surge-") as data:
            port = _free_port()
            if db == "sqlite":
                subprocess.run([sys.executable, __file__, "--child", *argv],
                               env=_env(data, port, db, None), check=True, cwd=ROOT)
            else:
                with _pg_database() as url:
                    subprocess.run([sys.executable, __file__, "--child", *argv],
                                   env=_env(data, port, db, url), check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
