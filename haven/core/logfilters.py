"""Keep what requesters and members typed out of the server log.

Django's own loggers copy the request into the log in three ways: an exception's
message ("Field 'id' expected a number but got '<what was typed>'", a broken
file's bytes) in the traceback of a 500; the message of a suspicious request
(``DisallowedHost`` quotes the Host header); and, under ``runserver``, the query
string of every request line. :class:`WithoutInput` sits on the log handler, so
it sees the records of every ``django.*`` logger, children included (a filter on
the ``django.security`` logger itself would miss ``django.security.TooManyFieldsSent``):

- Any record with a traceback (``django.request`` for a 500, ``haven.worker``
  for a failed task): the traceback keeps its frames (file, line, code) and the
  exceptions' class names; every exception message is withheld.
- ``django.security.*``: one line naming the check that refused the request; no
  message, no traceback (a refused request is not a server fault).
- ``django.server``: the request line without its query string.

The ``request`` object Django attaches to these records is removed, so no other
handler or formatter can print its body, headers or cookies.
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType

QUERY = re.compile(r"\?\S*")  # "GET /kb/search/?q=... HTTP/1.1" -> "GET /kb/search/ HTTP/1.1"
WITHHELD = "(message withheld: it may hold what was sent)"


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return list(reversed(seen))


def frames_only(exc: BaseException | None, tb: TracebackType | None) -> str:
    """A traceback with every frame and exception type, and no exception message."""
    parts = []
    for link in _chain(exc):
        frames = traceback.format_tb(link.__traceback__ if link is not exc else tb)
        parts.append("Traceback (most recent call last):\n" + "".join(frames)
                     + f"{type(link).__module__}.{type(link).__qualname__}: {WITHHELD}\n")
    return "\nwhich led to:\n".join(parts).rstrip("\n")


class WithoutInput(logging.Filter):
    """Rewrite records so they carry no input (see the module); the record itself still goes out."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if name == "django.security" or name.startswith("django.security."):
            record.msg, record.args = "%s: request refused", (name.rpartition(".")[2],)
            record.exc_info, record.exc_text = None, None
        elif name == "django.server" and record.args and isinstance(record.args, tuple):
            record.args = (QUERY.sub("", str(record.args[0])), *record.args[1:])
        if record.exc_info:  # a 500, or a worker task that failed: frames, never messages
            _type, exc, tb = record.exc_info
            record.exc_text = frames_only(exc, tb)
            record.exc_info = None
        if name.startswith(("django.", "haven.")):
            record.stack_info = None
            record.__dict__.pop("request", None)
        return True
