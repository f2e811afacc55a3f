"""A fake Telegram Bot API over real HTTP on loopback, for tests and ``haven chat``.

It implements the methods Haven uses, the way Telegram answers them (JSON with
``ok``, ``error_code``, ``description`` and ``parameters.retry_after``), and plays
the users: :meth:`FakeTelegram.user_message` and friends make the updates a
person's actions would, delivered to the webhook when one is set (with the
secret header, retried on failure) or kept for ``getUpdates``.

Rate limits are enforced as token buckets: per bot 30 messages a second (burst
30), per chat 1 a second (burst 3); past them a call gets 429 with
``retry_after``, and, as Telegram does, every send of that bot before
``retry_after`` has passed gets another 429 (counted in :attr:`early_after_429`).
``delay`` makes every sending call take that many seconds (a slow Bot API);
:attr:`attempts` records each sending call's arrival
and answer. :meth:`fail` makes the next calls of a method fail (status 0
drops the connection without an answer; ``after=True`` performs the call first,
as when an answer is lost on the way back). Everything the bot sent is kept in
:attr:`sent`; :meth:`visible` is what the user's screen shows.

The same actions are reachable over HTTP under ``/_fake/`` (JSON in, JSON out),
so ``haven chat`` can drive a fake that another process started.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_TEXT = 4096
FILE_LIMIT = 20 * 1024 * 1024
DELETE_WINDOW = 48 * 3600
TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{20,}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
        "tg-spoiler", "blockquote", "span", "tg-emoji"}
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"}


class Refused(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


class Bucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> float:
        """Take a token and return 0, or return the seconds until one is there."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class FakeChat:
    id: int
    type: str = "private"
    next_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocked: bool = False
    bucket: Bucket | None = None
    left: bool = False


@dataclass
class FakeBot:
    token: str
    id: int
    username: str
    webhook: dict[str, Any] | None = None
    queue: list[dict[str, Any]] = field(default_factory=list)
    next_update: int = 1000
    chats: dict[int | str, FakeChat] = field(default_factory=dict)
    bucket: Bucket | None = None
    delivering: bool = False
    flood_until: float = 0.0  # after a 429: sends before this time get another


@dataclass
class Failure:
    method: str
    status: int
    description: str
    times: int
    retry_after: int | None
    after: bool


class FakeTelegram:
    DEFAULT_LIMITS = (30.0, 30.0, 1.0, 3.0)  # per bot: rate, burst; per chat: rate, burst

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 limits: tuple[float, float, float, float] | None = None, delay: float = 0.0) -> None:
        self.limits = limits or self.DEFAULT_LIMITS
        self.delay = delay  # seconds each sending call takes
        self.attempts: list[dict[str, Any]] = []  # sending calls: method, chat_id, at, status
        self.early_after_429 = 0
        self.bots: dict[str, FakeBot] = {}
        self.files: dict[str, bytes] = {}
        self.sent: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        self.refused_429 = 0
        self.webhook_log: list[int] = []
        self.failures: list[Failure] = []
        self.revoked: set[str] = set()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeTelegram:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-telegram",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- steering -----------------------------------------------------------------------

    def fail(self, method: str, status: int, description: str = "", *, times: int = 1,
             retry_after: int | None = None, after: bool = False) -> None:
        with self.lock:
            self.failures.append(Failure(method, status, description or _default_text(status),
                                         times, retry_after, after))

    def add_channel(self, token: str, name: str) -> None:
        with self.lock:
            self.bot(token).chats[name] = FakeChat(id=-1000000000000 - len(self.bots), type="channel")

    def open_chat(self, token: str, chat_id: int, chat_type: str = "private") -> None:
        """A chat whose user has started the bot (Telegram lets bots write only to those)."""
        with self.lock:
            self._chat(token, chat_id, chat_type)

    def age(self, token: str, chat_id: int, seconds: float) -> None:
        """Make every message in the chat ``seconds`` older (the 48-hour deletion window)."""
        with self.lock:
            for message in self._chat(token, chat_id).messages.values():
                message["date"] -= int(seconds)

    def bot(self, token: str) -> FakeBot:
        with self.lock:
            if token not in self.bots:
                match = TOKEN_RE.match(token)
                if match is None or token in self.revoked:
                    raise Refused(401, "Unauthorized")
                bot_rate, bot_burst, _, _ = self.limits
                self.bots[token] = FakeBot(token, int(match.group(1)), f"haven_{match.group(1)}_bot",
                                           bucket=Bucket(bot_rate, bot_burst))
            return self.bots[token]

    # --- the users' side ----------------------------------------------------------------

    def user_message(self, token: str, chat_id: int, text: str = "", *, lang: str = "ru",
                     chat_type: str = "private", **extra: Any) -> dict[str, Any]:
        with self.lock:
            chat = self._chat(token, chat_id, chat_type)
            message = self._store(chat, "user", text=text or None, **extra)
            body = {k: v for k, v in message.items() if k not in ("by", "deleted")}
            body["from"] = _user(chat_id, lang)
            if text.startswith("/"):
                body["entities"] = [{"type": "bot_command", "offset": 0,
                                     "length": len(text.split()[0])}]
            return self.push(token, {"message": body})

    def user_press(self, token: str, chat_id: int, data: str, message_id: int | None = None,
                   *, lang: str = "ru") -> dict[str, Any]:
        with self.lock:
            chat = self._chat(token, chat_id)
            message = chat.messages[message_id] if message_id else self._with_button(chat, data)
            public = {k: v for k, v in message.items() if k not in ("by", "deleted")}
            query = {"id": f"{chat_id}{time.monotonic_ns()}", "from": _user(chat_id, lang),
                     "message": public, "chat_instance": str(chat_id), "data": data}
            return self.push(token, {"callback_query": query})

    def user_file(self, token: str, chat_id: int, data: bytes, *, kind: str = "document",
                  name: str = "file.jpg", mime: str = "image/jpeg", size: int | None = None,
                  caption: str = "") -> dict[str, Any]:
        with self.lock:
            file_id = f"F{len(self.files) + 1}x{time.monotonic_ns()}"
            self.files[file_id] = data
            meta = {"file_id": file_id, "file_unique_id": file_id[:12],
                    "file_size": len(data) if size is None else size}
            extra: dict[str, Any] = {"caption": caption} if caption else {}
            if kind == "photo":
                extra["photo"] = [{**meta, "width": 320, "height": 240}]
            else:
                extra["document"] = {**meta, "file_name": name, "mime_type": mime}
            return self.user_message(token, chat_id, **extra)

    def user_blocks(self, token: str, chat_id: int, blocked: bool = True) -> dict[str, Any]:
        with self.lock:
            chat = self._chat(token, chat_id)
            chat.blocked = blocked
            bot = self.bot(token)
            me = {"id": bot.id, "is_bot": True, "first_name": "Bot", "username": bot.username}
            statuses = ("member", "kicked") if blocked else ("kicked", "member")
            change = {"chat": {"id": chat_id, "type": chat.type}, "from": _user(chat_id, "ru"),
                      "date": int(time.time()),
                      "old_chat_member": {"user": me, "status": statuses[0]},
                      "new_chat_member": {"user": me, "status": statuses[1]}}
            return self.push(token, {"my_chat_member": change})

    def user_adds_bot(self, token: str, chat_id: int, chat_type: str = "group") -> dict[str, Any]:
        """Someone adds the bot to a group (or makes it a channel's administrator)."""
        with self.lock:
            chat = self._chat(token, chat_id, chat_type)
            chat.left = False
            bot = self.bot(token)
            me = {"id": bot.id, "is_bot": True, "first_name": "Bot", "username": bot.username}
            status = "administrator" if chat_type == "channel" else "member"
            change = {"chat": {"id": chat_id, "type": chat_type}, "from": _user(abs(chat_id), "ru"),
                      "date": int(time.time()),
                      "old_chat_member": {"user": me, "status": "left"},
                      "new_chat_member": {"user": me, "status": status}}
            return self.push(token, {"my_chat_member": change})

    def push(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Add an update of any shape (it gets the next update_id) and deliver it."""
        with self.lock:
            bot = self.bot(token)
            update = {"update_id": bot.next_update, **payload}
            bot.next_update += 1
            bot.queue.append(update)
            self.changed.notify_all()
            if bot.webhook and not bot.delivering:
                bot.delivering = True
                threading.Thread(target=self._deliver, args=(bot,), daemon=True).start()
            return update

    # --- what the user sees -------------------------------------------------------------

    def visible(self, token: str, chat_id: int | str) -> list[dict[str, Any]]:
        with self.lock:
            chat = self._chat(token, chat_id)
            return [dict(m) for m in chat.messages.values() if not m["deleted"]]

    def sent_to(self, token: str, chat_id: int | str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m["token"] == token and m["chat_id"] == chat_id]

    def buttons(self, token: str, chat_id: int) -> list[tuple[str, str]]:
        """(label, data) of the newest visible message that has buttons."""
        for message in reversed(self.visible(token, chat_id)):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            if rows:
                return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]
        return []

    # --- the Bot API --------------------------------------------------------------------

    def api(self, token: str, method: str, params: dict[str, Any]) -> Any:
        if method not in SENDING:
            return self._api(token, method, params)
        attempt: dict[str, Any] = {"method": method, "chat_id": params.get("chat_id"),
                                   "at": time.monotonic(), "status": 200}
        with self.lock:
            self.attempts.append(attempt)
        if self.delay:
            time.sleep(self.delay)  # outside the lock: slow calls overlap, as they would
        try:
            return self._api(token, method, params)
        except Refused as exc:
            with self.lock:
                attempt["status"] = exc.status
                if exc.status == 429 and token in self.bots:
                    bot = self.bots[token]
                    bot.flood_until = max(bot.flood_until,
                                          time.monotonic() + float(exc.retry_after or 1))
            raise

    def _api(self, token: str, method: str, params: dict[str, Any]) -> Any:
        with self.lock:
            self.calls[method] += 1
            bot = self.bot(token)
            failure = self._take_failure(method)
            if failure is not None and not failure.after:
                raise Refused(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            raise Refused(404, "Not Found")
        if method == "getUpdates":
            return self._m_getUpdates(bot, params)
        with self.lock:
            if method in SENDING:
                self._check_rate(bot, params.get("chat_id"))
            result = handler(bot, params)
            if failure is not None:
                raise Refused(failure.status, failure.description, failure.retry_after)
            return result

    def _take_failure(self, method: str) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def _check_rate(self, bot: FakeBot, chat_id: Any) -> None:
        chat = bot.chats.get(chat_id)
        if chat is None:
            raise Refused(400, "Bad Request: chat not found")
        if chat.blocked:
            raise Refused(403, "Forbidden: bot was blocked by the user")
        early = bot.flood_until - time.monotonic()
        if early > 0:  # sent before the last 429's retry_after had passed
            self.early_after_429 += 1
            self.refused_429 += 1
            raise Refused(429, f"Too Many Requests: retry after {math.ceil(early)}", math.ceil(early))
        if chat.bucket is None:
            chat.bucket = Bucket(self.limits[2], self.limits[3])
        for bucket in (bot.bucket, chat.bucket):
            wait = bucket.take() if bucket is not None else 0.0
            if wait:
                self.refused_429 += 1
                seconds = max(1, math.ceil(wait))
                raise Refused(429, f"Too Many Requests: retry after {seconds}", seconds)

    def _m_getMe(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        return {"id": bot.id, "is_bot": True, "first_name": "Haven bot", "username": bot.username,
                "can_join_groups": False}

    def _m_setWebhook(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        url, secret = str(params.get("url") or ""), params.get("secret_token")
        if secret is not None and not SECRET_RE.match(str(secret)):
            raise Refused(400, "Bad Request: secret token contains unallowed characters")
        if not url:
            bot.webhook = None
            return True
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise Refused(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        bot.webhook = {"url": url, "secret": secret, "allowed": params.get("allowed_updates")}
        if params.get("drop_pending_updates"):
            bot.queue.clear()
        if bot.queue and not bot.delivering:
            bot.delivering = True
            threading.Thread(target=self._deliver, args=(bot,), daemon=True).start()
        return True

    def _m_deleteWebhook(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        bot.webhook = None
        if params.get("drop_pending_updates"):
            bot.queue.clear()
        return True

    def _m_getWebhookInfo(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        url = bot.webhook["url"] if bot.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": len(bot.queue)}

    def _m_getUpdates(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
        limit = min(100, max(1, int(params.get("limit") or 100)))
        deadline = time.monotonic() + min(timeout, 50)
        with self.lock:
            if bot.webhook:
                raise Refused(409, "Conflict: can't use getUpdates method while webhook is active; "
                                   "use deleteWebhook to delete the webhook first")
            while True:
                if offset:
                    bot.queue = [u for u in bot.queue if u["update_id"] >= offset]
                if bot.queue or time.monotonic() >= deadline:
                    return [dict(u) for u in bot.queue[:limit]]
                self.changed.wait(max(0.0, deadline - time.monotonic()))

    def _m_sendMessage(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        chat = bot.chats[params["chat_id"]]
        if chat.left:
            raise Refused(403, "Forbidden: bot is not a member of the group chat")
        text = str(params.get("text") or "")
        check_text(text, params.get("parse_mode"))
        markup = _markup(params.get("reply_markup"))
        message = self._store(chat, "bot", text=text, reply_markup=markup)
        self.sent.append({"token": bot.token, "chat_id": params["chat_id"], "text": text,
                          "parse_mode": params.get("parse_mode"), "reply_markup": markup,
                          "message_id": message["message_id"], "at": time.monotonic()})
        return {k: v for k, v in message.items() if k not in ("by", "deleted")}

    def _m_sendDocument(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        """A file uploaded with the call (multipart); kept in :attr:`files` under its file_id."""
        chat = bot.chats[params["chat_id"]]
        upload = params.get("document")
        if not isinstance(upload, dict) or not upload.get("data"):
            raise Refused(400, "Bad Request: there is no document in the request")
        if len(upload["data"]) > 50 * 1024 * 1024:
            raise Refused(413, "Request Entity Too Large")
        file_id = f"doc{len(self.files) + 1}x{chat.id}"
        self.files[file_id] = bytes(upload["data"])
        document = {"file_id": file_id, "file_name": str(upload.get("file_name") or ""),
                    "mime_type": str(upload.get("mime_type") or ""), "file_size": len(upload["data"])}
        caption = str(params.get("caption") or "")
        message = self._store(chat, "bot", document=document, caption=caption or None)
        self.sent.append({"token": bot.token, "chat_id": params["chat_id"], "text": caption,
                          "document": document, "message_id": message["message_id"],
                          "at": time.monotonic()})
        return {k: v for k, v in message.items() if k not in ("by", "deleted")}

    def _m_editMessageReplyMarkup(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        message = self._own_message(bot, params)
        message["reply_markup"] = _markup(params.get("reply_markup"))
        return {k: v for k, v in message.items() if k not in ("by", "deleted")}

    def _m_editMessageText(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        message = self._own_message(bot, params)
        check_text(str(params.get("text") or ""), params.get("parse_mode"))
        message["text"] = params.get("text")
        message["reply_markup"] = _markup(params.get("reply_markup"))
        return {k: v for k, v in message.items() if k not in ("by", "deleted")}

    def _m_answerCallbackQuery(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise Refused(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _m_sendChatAction(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        return True

    def _m_leaveChat(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        chat = bot.chats.get(_chat_id(params))
        if chat is None or chat.left or chat.type == "private":
            raise Refused(400, "Bad Request: chat not found")
        chat.left = True
        return True

    def _m_deleteMessage(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        chat = bot.chats.get(_chat_id(params))
        message = chat.messages.get(int(params.get("message_id") or 0)) if chat else None
        if message is None or message["deleted"]:
            raise Refused(400, "Bad Request: message to delete not found")
        if time.time() - message["date"] > DELETE_WINDOW:
            raise Refused(400, "Bad Request: message can't be deleted")
        message["deleted"] = True
        return True

    def _m_deleteMessages(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        ids = params.get("message_ids") or []
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise Refused(400, "Bad Request: message_ids must be 1 to 100 identifiers")
        for message_id in ids:
            try:
                self._m_deleteMessage(bot, {"chat_id": params.get("chat_id"), "message_id": message_id})
            except Refused:
                continue  # Telegram skips what it cannot delete
        return True

    def _m_getFile(self, bot: FakeBot, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise Refused(400, "Bad Request: invalid file_id")
        size = len(self.files[file_id])
        if size > FILE_LIMIT:
            raise Refused(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": file_id[:12], "file_size": size,
                "file_path": f"documents/{file_id}"}

    # --- internals ----------------------------------------------------------------------

    def _chat(self, token: str, chat_id: int | str, chat_type: str = "private") -> FakeChat:
        bot = self.bot(token)
        if chat_id not in bot.chats:
            bot.chats[chat_id] = FakeChat(int(chat_id) if isinstance(chat_id, int) else 0, chat_type)
        return bot.chats[chat_id]

    def _store(self, chat: FakeChat, by: str, **content: Any) -> dict[str, Any]:
        message = {"message_id": chat.next_id, "date": int(time.time()),
                   "chat": {"id": chat.id, "type": chat.type}, "by": by, "deleted": False,
                   **{k: v for k, v in content.items() if v is not None}}
        chat.messages[chat.next_id] = message
        chat.next_id += 1
        return message

    def _with_button(self, chat: FakeChat, data: str) -> dict[str, Any]:
        for message in reversed(list(chat.messages.values())):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            if any(b.get("callback_data") == data for row in rows for b in row):
                return message
        raise KeyError(f"no message with the button {data!r}")

    def _own_message(self, bot: FakeBot, params: dict[str, Any]) -> dict[str, Any]:
        chat = bot.chats.get(_chat_id(params))
        message = chat.messages.get(int(params.get("message_id") or 0)) if chat else None
        if message is None or message["deleted"] or message["by"] != "bot":
            raise Refused(400, "Bad Request: message to edit not found")
        return message

    def _deliver(self, bot: FakeBot) -> None:
        """Post queued updates to the webhook in order; retry a failed one a few times."""
        failures = 0
        while True:
            with self.lock:
                if not bot.webhook or not bot.queue or failures >= 5:
                    bot.delivering = False
                    return
                update, hook = bot.queue[0], dict(bot.webhook)
            status = _post(hook["url"], update, hook.get("secret"))
            with self.lock:
                self.webhook_log.append(status)
                if 200 <= status < 300:
                    if bot.queue and bot.queue[0] is update:
                        bot.queue.pop(0)
                    failures = 0
                else:
                    failures += 1
            if failures:
                time.sleep(0.1 * failures)


def _post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(  # noqa: S310 - the test's own loopback webhook
        url, data=json.dumps(update).encode("utf-8"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _form_data(content_type: str, raw: bytes) -> dict[str, Any]:
    """A multipart/form-data body (sendDocument) as parameters; a file becomes a dict."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise ValueError("not multipart")
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if not isinstance(name, str) or not isinstance(data, bytes):
            continue
        if part.get_filename() is not None:
            params[name] = {"file_name": part.get_filename(), "mime_type": part.get_content_type(),
                            "data": data}
            continue
        text = data.decode("utf-8")
        try:
            params[name] = json.loads(text)  # as Telegram reads "8001" as a number
        except ValueError:
            params[name] = text
    return params


def _chat_id(params: dict[str, Any]) -> int | str:
    value = params.get("chat_id")
    return value if isinstance(value, int | str) else 0


def _user(chat_id: int, lang: str) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": lang}


def _markup(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    markup = json.loads(value) if isinstance(value, str) else value
    for row in (markup or {}).get("inline_keyboard") or []:
        for button in row:
            if len(str(button.get("callback_data", "")).encode("utf-8")) > 64:
                raise Refused(400, "Bad Request: BUTTON_DATA_INVALID")
    return dict(markup) if markup else None


def check_text(text: str, parse_mode: Any) -> None:
    """Telegram's checks: the HTML must parse, and 1 to 4,096 characters must remain."""
    visible = _parse_html(text) if parse_mode == "HTML" else text
    length = len(visible.encode("utf-16-le")) // 2
    if not visible.strip():
        raise Refused(400, "Bad Request: message text is empty")
    if length > MAX_TEXT:
        raise Refused(400, "Bad Request: message is too long")


def _parse_html(text: str) -> str:
    out, pos = [], 0
    for match in re.finditer(r"<(/?)([a-zA-Z-]+)(\s[^<>]*)?>|&(#\d+|#x[0-9a-fA-F]+|[a-z]+);|[<>&]", text):
        out.append(text[pos:match.start()])
        pos = match.end()
        if match.group(2) is not None:
            if match.group(2).lower() not in TAGS:
                raise Refused(400, f"Bad Request: can't parse entities: unsupported start tag "
                                   f"\"{match.group(2)}\"")
        elif match.group(4) is not None:
            entity = match.group(4)
            if entity not in ("lt", "gt", "amp", "quot") and not entity.startswith("#"):
                raise Refused(400, "Bad Request: can't parse entities: unknown entity")
            out.append("x")
        else:
            raise Refused(400, f"Bad Request: can't parse entities: unescaped {match.group(0)!r}")
    out.append(text[pos:])
    return "".join(out)


def _default_text(status: int) -> str:
    return {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden: bot was blocked by the user",
            429: "Too Many Requests: retry after 1", 500: "Internal Server Error",
            502: "Bad Gateway"}.get(status, "Error")


CONTROL_OPS = ("user_message", "user_press", "user_file", "user_blocks", "visible", "buttons")


def _handler_for(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the fake prints nothing (tests and the demo terminal stay clean)."""

        def do_GET(self) -> None:
            match = re.match(r"^/file/bot([^/]+)/documents/(\S+)$", self.path)
            data = fake.files.get(match.group(2)) if match else None
            if data is None:
                return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                kind = self.headers.get("Content-Type") or ""
                params = (_form_data(kind, raw) if kind.startswith("multipart/form-data")
                          else json.loads(raw or b"{}"))
            except ValueError:
                return self._reply(400, {"ok": False, "error_code": 400,
                                         "description": "Bad Request: body is not JSON"})
            if self.path.startswith("/_fake/"):
                return self._control(self.path[len("/_fake/"):], params)
            match = re.match(r"^/bot([^/]+)/([A-Za-z]+)$", self.path)
            if match is None:
                return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            try:
                result = fake.api(match.group(1), match.group(2), params)
            except Refused as exc:
                if exc.status == 0:
                    self.close_connection = True
                    return None
                body: dict[str, Any] = {"ok": False, "error_code": exc.status,
                                        "description": exc.description}
                if exc.retry_after is not None:
                    body["parameters"] = {"retry_after": exc.retry_after}
                return self._reply(exc.status, body)
            except (KeyError, TypeError, ValueError) as exc:
                return self._reply(400, {"ok": False, "error_code": 400,
                                         "description": f"Bad Request: {type(exc).__name__}"})
            return self._reply(200, {"ok": True, "result": result})

        def _control(self, op: str, params: dict[str, Any]) -> None:
            if op == "ping":
                return self._reply(200, {"ok": True})
            if op not in CONTROL_OPS:
                return self._reply(404, {"ok": False})
            if op == "user_file":
                params["data"] = base64.b64decode(params.get("data", ""))
            try:
                result = getattr(fake, op)(**params)
            except (Refused, KeyError, TypeError) as exc:
                return self._reply(400, {"ok": False, "description": str(exc)})
            return self._reply(200, {"ok": True, "result": result})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class Remote:
    """Drives a fake that runs in another process, through ``/_fake/``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _op(self, op: str, **params: Any) -> Any:
        request = urllib.request.Request(  # noqa: S310 - a loopback fake
            f"{self.url}/_fake/{op}", data=json.dumps(params).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return json.loads(response.read()).get("result")

    def alive(self) -> bool:
        try:
            self._op("ping")
        except OSError:
            return False
        return True

    def user_message(self, token: str, chat_id: int, text: str, lang: str = "ru") -> Any:
        return self._op("user_message", token=token, chat_id=chat_id, text=text, lang=lang)

    def user_press(self, token: str, chat_id: int, data: str, lang: str = "ru") -> Any:
        return self._op("user_press", token=token, chat_id=chat_id, data=data, lang=lang)

    def user_file(self, token: str, chat_id: int, data: bytes, name: str, mime: str) -> Any:
        return self._op("user_file", token=token, chat_id=chat_id, name=name, mime=mime,
                        data=base64.b64encode(data).decode("ascii"))

    def visible(self, token: str, chat_id: int) -> list[dict[str, Any]]:
        return list(self._op("visible", token=token, chat_id=chat_id) or [])

    def buttons(self, token: str, chat_id: int) -> list[tuple[str, str]]:
        return [tuple(b) for b in self._op("buttons", token=token, chat_id=chat_id) or []]  # type: ignore[misc]


def main(argv: list[str] | None = None) -> None:
    """``python -m haven.telegram.fake [--port N] [--url-file PATH]``: serve until stopped."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description="A fake Telegram Bot API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--url-file", default="")
    args = parser.parse_args(argv)
    fake = FakeTelegram(port=args.port)
    if args.url_file:
        # Whole or not at all: the demo waits for this file and reads it at once.
        part = Path(args.url_file + ".part")
        part.write_text(fake.url + "\n", encoding="utf-8")
        part.replace(args.url_file)
    print(f"Fake Telegram Bot API on {fake.url}", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":
    main()
