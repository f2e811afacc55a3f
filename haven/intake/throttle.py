"""Throttling codename attempts without storing who made them.

Failed attempts are counted in the cache under a keyed hash of the client's
address and the hour (the same scheme as login), never in the database. The
limit is generous because everyone arriving through Tor or one proxy shares an
address; at 80 bits, guessing gains nothing anyway, so this mainly caps work.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from haven.accounts.login import client_key

WINDOW_S = 15 * 60


def limit() -> int:
    return int(getattr(settings, "HAVEN_CODENAME_ATTEMPTS", 20))


def _key(request: HttpRequest) -> str:
    return "intake-codename:" + client_key(request)


def blocked(request: HttpRequest) -> bool:
    return int(cache.get(_key(request), 0)) >= limit()


def failed(request: HttpRequest) -> None:
    key = _key(request)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, WINDOW_S)
