"""Throttling codename attempts without storing who made them.

Two limits, both in the cache and never in the database:

- per client (a peppered hash of the address and the hour, haven.core.clients),
  counted atomically before the lookup; there is none on an onion service,
  where every client is 127.0.0.1 and one bucket would lock every requester out;
- per codename: the same words tried again and again wait exponentially longer
  (2, 4, 8 … seconds after the first few), which slows that codename only.

At 84 bits guessing gains nothing anyway, so this mainly caps work.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from haven.accounts.models import Organization
from haven.core import clients
from haven.core.keys import pepper_hash
from haven.vault.purposes import Lookup

from . import codename as codenames

WINDOW_S = 15 * 60
FREE_TRIES = 3  # the same words, before the delays start


def limit() -> int:
    return int(getattr(settings, "HAVEN_CODENAME_ATTEMPTS", 20))


def _client_key(request: HttpRequest) -> str | None:
    return clients.client_hash(request, "intake-codename")


def begin(request: HttpRequest) -> bool:
    """Count this attempt for the client; False when the client is over its limit."""
    return clients.attempt(_client_key(request), WINDOW_S, limit())


def succeeded(request: HttpRequest) -> None:
    """The codename was right: the attempt does not count against the client."""
    clients.undo(_client_key(request))


def _codename_key(org: Organization, codename: str) -> str:
    words = codenames.normalise(codename)
    return "intake-codename-tries:" + pepper_hash(Lookup.CODENAME_TRIES, f"{org.pk}|{words}")


def codename_wait(org: Organization, codename: str) -> int:
    """Seconds these words must still wait before they may be tried again (0: go ahead)."""
    until = cache.get(_codename_key(org, codename) + ":until")
    if until is None:
        return 0
    return max(0, int((until - timezone.now()).total_seconds()) + 1)


def failed(org: Organization, codename: str) -> None:
    """Wrong words: after FREE_TRIES, each further try of them doubles the wait."""
    key = _codename_key(org, codename)
    tries = clients.hit(key, WINDOW_S)
    if tries > FREE_TRIES:
        delay = min(2 ** (tries - FREE_TRIES), WINDOW_S)
        cache.set(key + ":until", timezone.now() + timedelta(seconds=delay), delay)
