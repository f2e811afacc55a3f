"""Who is asking, for throttling only: a peppered hash of the client's address, never the address.

Behind a reverse proxy every request comes from the proxy, so the address is
read from ``X-Forwarded-For`` — but only when the request really comes from a
proxy named in ``HAVEN_TRUSTED_PROXY``; anyone else could write that header.
On an onion service (``HAVEN_ONION``) every client is 127.0.0.1 and there is
no address at all: callers then throttle per account or per codename only, so
one attacker cannot lock everybody out.

Counters are atomic (``cache.add`` then ``cache.incr``; Redis INCR in
production) and are meant to be incremented *before* the expensive check, so
concurrent requests cannot overshoot a limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from haven.core.keys import pepper_hash
from haven.vault.purposes import Lookup

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(values: Iterable[str] | None = None) -> list[Network]:
    """The configured proxies as networks; raises ValueError on an entry that is not an IP."""
    entries = settings.HAVEN_TRUSTED_PROXY if values is None else values
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
             proxies: list[Network]) -> bool:
    return address is not None and any(address in net for net in proxies)


def client_address(request: HttpRequest) -> str | None:
    """The client's address, or None on an onion service (where it means nothing).

    ``X-Forwarded-For`` is read right to left, skipping trusted proxies; the
    first other entry is the client. Entries left of it were written by the
    client and are ignored.
    """
    if settings.HAVEN_ONION:
        return None
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = trusted_proxies()
    if not _trusted(_ip(remote), proxies):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = _ip(entry)
        if address is None:
            break  # garbage: fall back to the proxy itself rather than trust it
        if not _trusted(address, proxies):
            return str(address)
    return remote


def client_hash(request: HttpRequest, scope: str) -> str | None:
    """A cache key for this client in this hour under ``scope``; None when there is no client identity."""
    address = client_address(request)
    if address is None:
        return None
    hour = timezone.now().strftime("%Y%m%d%H")
    return f"{scope}:" + pepper_hash(Lookup.LOGIN_CLIENT, f"{hour}|{address}")


def hit(key: str, window_s: int) -> int:
    """Add one to the counter ``key`` (created for ``window_s`` seconds) and return the new value."""
    for _attempt in range(3):
        cache.add(key, 0, window_s)
        try:
            return int(cache.incr(key))
        except ValueError:
            continue  # expired between add and incr
    return 1


def count(key: str) -> int:
    return int(cache.get(key, 0))


def attempt(key: str | None, window_s: int, limit: int) -> bool:
    """Count one attempt of a client (``key`` from :func:`client_hash`) before it is
    checked; False, and not counted, when the client is over ``limit``. None (an
    onion service: no client identity) is never limited here."""
    if key is None:
        return True
    if hit(key, window_s) > limit:
        undo(key)
        return False
    return True


def undo(key: str | None) -> None:
    """Take back one :func:`hit` (a request that turned out fine); None does nothing."""
    if key is None:
        return
    try:
        cache.decr(key)
    except ValueError:
        pass
