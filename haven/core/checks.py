"""System checks for Haven's configuration (ids haven.E001..., haven.W001...)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_configuration(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if settings.PRODUCTION and not settings.ALLOWED_HOSTS:
        problems.append(Error(
            "HAVEN_ALLOWED_HOSTS is empty in production.",
            hint="Set HAVEN_ALLOWED_HOSTS to the host names Haven is served under, comma-separated.",
            id="haven.E001",
        ))
    for name in ("SECRET_KEY", "HAVEN_PEPPER", "HAVEN_TOKEN_KEY"):
        value = getattr(settings, name)
        if len(value) < 32:
            problems.append(Error(
                f"{name} is shorter than 32 characters.",
                hint="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
                id="haven.E002",
            ))
    pepper = settings.HAVEN_PEPPER.decode("utf-8", "replace")
    if pepper in {settings.SECRET_KEY, settings.HAVEN_TOKEN_KEY.decode("utf-8", "replace")}:
        problems.append(Error(
            "HAVEN_PEPPER must differ from HAVEN_SECRET_KEY and HAVEN_TOKEN_KEY.",
            hint="Use three independent random values.",
            id="haven.E003",
        ))
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        folder = os.path.dirname(str(db["NAME"])) or "."
        if not os.access(folder, os.W_OK):
            problems.append(Error(
                f"The data folder {folder} is not writable.",
                hint="Set HAVEN_DATA (or --data) to a folder this user can write.",
                id="haven.E004",
            ))
    if settings.PRODUCTION and (
        settings.HAVEN_KDF_OPSLIMIT < 2 or settings.HAVEN_KDF_MEMLIMIT < 64 * 1024 * 1024
    ):
        problems.append(Error(
            "HAVEN_KDF_OPSLIMIT/HAVEN_KDF_MEMLIMIT are below the production minimum (2, 64 MiB).",
            hint="Unset them to use the defaults, or raise them.",
            id="haven.E005",
        ))
    if settings.PRODUCTION and "locmem" in settings.CACHES["default"]["BACKEND"]:
        problems.append(Warning(
            "Login throttling counters are kept per process.",
            hint="Set REDIS_URL so every web process shares them.",
            id="haven.W001",
        ))
    return problems + _proxy_problems()


def _proxy_problems() -> list[Any]:
    """HAVEN_TRUSTED_PROXY must name addresses; behind a proxy without it, throttles share a bucket."""
    from haven.core.clients import trusted_proxies

    try:
        trusted_proxies()
    except ValueError:
        return [Error(
            "HAVEN_TRUSTED_PROXY must list IP addresses or networks (e.g. 127.0.0.1,::1).",
            hint="Name the reverse proxy's own address, never a host name or a client range.",
            id="haven.E006",
        )]
    if (settings.PRODUCTION and getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
            and not settings.HAVEN_TRUSTED_PROXY and not settings.HAVEN_ONION):
        return [Warning(
            "Behind a reverse proxy without HAVEN_TRUSTED_PROXY, every client shares one "
            "login and codename throttle.",
            hint="Set HAVEN_TRUSTED_PROXY to the proxy's address, or HAVEN_ONION=1 on an onion service.",
            id="haven.W002",
        )]
    return []
