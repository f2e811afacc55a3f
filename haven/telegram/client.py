"""A small synchronous client for the Telegram Bot API.

Why not python-telegram-bot (the architecture's suggestion): version 22 is
asyncio-only, while Haven calls the API from synchronous Django views, from the
worker's threads and from ``haven chat``; running an event loop per call (or
per thread) to use a dozen plain HTTPS methods adds a large dependency and its
update-dispatch framework, none of which Haven needs: Haven records updates
itself (to process each once) and paces sends itself (across workers, through
the database). What Haven needs is here, on the standard library: JSON calls
over one kept-alive connection per client (a TLS handshake per message would
cap a bot far below Telegram's 30 messages a second), certificate checks,
timeouts, Telegram's error codes with ``retry_after``, and file downloads with a
size limit. The base URL is a parameter, so tests and the demo point it at the
fake Bot API (:mod:`haven.telegram.fake`).

Nothing here logs; errors never include the token (it is part of every path).
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

OFFICIAL = "https://api.telegram.org"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses larger files
IDLE_RECONNECT = 30.0  # a connection idle longer may have been closed by the other side


def api_base() -> str:
    """The Bot API's base URL: the setting, else the official server."""
    return (getattr(settings, "HAVEN_TELEGRAM_API_URL", "") or OFFICIAL).rstrip("/")


class ApiError(Exception):
    """A failed call. ``status`` 0 means the network failed (no answer)."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description[:160]
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status in (0, 429) or self.status >= 500

    @property
    def code(self) -> str:
        """A short label for the desk and the logs: the status and Telegram's words, no content."""
        return f"telegram {self.status or 'network'}: {self.description}"[:200]


class BotApi:
    """One bot's calls over one kept-alive connection. Not shared between threads."""

    def __init__(self, token: str, base_url: str | None = None, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url or api_base())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the Bot API address must be an http(s) URL")
        if parts.scheme == "http" and settings.PRODUCTION and parts.hostname not in LOOPBACK:
            # The token travels in every request path: only a local Bot API server may go unencrypted.
            raise ValueError("the Bot API address must use https unless it is on this machine")
        self._token = token
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._last_used = 0.0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             timeout: float | None = None) -> Any:
        """Call ``method``; return its ``result`` or raise :class:`ApiError`."""
        body = json.dumps(params or {}, ensure_ascii=False).encode("utf-8")
        status, raw = self._request("POST", f"/bot{self._token}/{method}", body,
                                    timeout or self.timeout, retry_idempotent=method.startswith("get"))
        return _result(status, raw)

    def send_file(self, method: str, params: dict[str, Any], field: str, name: str, data: bytes,
                  mime: str, *, timeout: float = 60.0) -> Any:
        """Call ``method`` with ``params`` and one file, as multipart/form-data (sendDocument).

        Never repeated here (whether it arrived is unknown), like any send.
        """
        boundary = secrets.token_hex(16)
        body = _multipart(boundary, params, field, name, data, mime)
        status, raw = self._request("POST", f"/bot{self._token}/{method}", body, timeout,
                                    retry_idempotent=False,
                                    content_type=f"multipart/form-data; boundary={boundary}")
        return _result(status, raw)

    def download(self, file_path: str, max_bytes: int = DOWNLOAD_LIMIT) -> bytes:
        """Fetch a file named by getFile; refuse more than ``max_bytes``."""
        if ".." in file_path.split("/") or file_path.startswith("/"):
            raise ApiError(400, "bad file path")
        status, raw = self._request("GET", f"/file/bot{self._token}/{file_path}", None,
                                    max(self.timeout, 60.0), retry_idempotent=True,
                                    max_bytes=max_bytes)
        if status != 200:
            raise ApiError(status, "file download failed")
        return raw

    # --- the connection ---------------------------------------------------------------

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is not None and time.monotonic() - self._last_used > IDLE_RECONNECT:
            self.close()
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        self._conn.timeout = timeout
        if self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        return self._conn

    def _request(self, verb: str, path: str, body: bytes | None, timeout: float, *,
                 retry_idempotent: bool, max_bytes: int = 4 * 1024 * 1024,
                 content_type: str = "application/json") -> tuple[int, bytes]:
        reused = self._conn is not None
        try:
            return self._once(verb, self._prefix + path, body, timeout, max_bytes, content_type)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            # A kept-alive connection the server had closed fails at once; a call that
            # changes nothing may be repeated on a fresh one. A send is not repeated
            # here: whether it arrived is unknown, so the outbox decides.
            if reused and retry_idempotent and isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
                try:
                    return self._once(verb, self._prefix + path, body, timeout, max_bytes,
                                      content_type)
                except (OSError, http.client.HTTPException) as again:
                    self.close()
                    raise ApiError(0, type(again).__name__) from None
            raise ApiError(0, type(exc).__name__) from None

    def _once(self, verb: str, path: str, body: bytes | None, timeout: float,
              max_bytes: int, content_type: str = "application/json") -> tuple[int, bytes]:
        conn = self._connection(timeout)
        headers = {"Connection": "keep-alive"}
        if body is not None:
            headers["Content-Type"] = content_type
        conn.request(verb, path, body=body, headers=headers)
        response = conn.getresponse()
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > max_bytes:
            self.close()
            raise ApiError(413, "the file is larger than allowed")
        raw = response.read(max_bytes + 1)
        if len(raw) > max_bytes:
            self.close()
            raise ApiError(413, "the file is larger than allowed")
        if response.will_close:
            self.close()
        self._last_used = time.monotonic()
        return response.status, raw


def _multipart(boundary: str, params: dict[str, Any], field: str, name: str, data: bytes,
               mime: str) -> bytes:
    """A multipart/form-data body: each parameter (JSON for non-strings), then the file."""
    quoted = re.sub(r'["\\\r\n]', "_", name).encode("utf-8")
    out = bytearray()
    for key, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n"
                f"{text}\r\n").encode()
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"".encode()
            + quoted + f"\"\r\nContent-Type: {mime}\r\n\r\n".encode() + data + b"\r\n")
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _result(status: int, raw: bytes) -> Any:
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(status if status >= 400 else 502, "the answer is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(502, "the answer is not a JSON object")
    if data.get("ok") is True:
        return data.get("result")
    params = data.get("parameters")
    retry = params.get("retry_after") if isinstance(params, dict) else None
    code = data.get("error_code")
    return _raise(code if isinstance(code, int) else status, str(data.get("description") or ""), retry)


def _raise(code: int, description: str, retry: Any) -> Any:
    retry_after = float(retry) if isinstance(retry, int | float) and retry >= 0 else None
    if code == 429 and retry_after is None:
        retry_after = 1.0
    raise ApiError(code, description, retry_after)


_local = threading.local()


def api_for(token: str) -> BotApi:
    """This thread's client for ``token`` (connections are not shared between threads)."""
    clients: dict[tuple[str, str], BotApi] = getattr(_local, "clients", None) or {}
    _local.clients = clients
    key = (token, api_base())
    if key not in clients:
        clients[key] = BotApi(token, key[1])
    return clients[key]
