"""Collecting partners' published figures for the network page.

A partner on this server: its publications are read from the database. A partner on
another server: ``GET <server_url>/network/figures/<slug>.json`` over HTTPS (plain HTTP
only to this machine), 10 s timeouts, at most :data:`SIZE_LIMIT` bytes, no redirects.
Either way every month is checked the same: the signature with the partner's key from
its card, and the body must name the partner and the month it is listed under. Only
verified months are kept; a refused month or an unreachable server leaves the last good
copy in place and the reason on the page. Nothing is logged but counts.
"""

from __future__ import annotations

import http.client
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _lazy

from haven.vault.signing import BadSignature, verify

from . import actions, figures
from .models import Partner, Publication
from .transport import LOOPBACK

log = logging.getLogger(__name__)

TIMEOUT = 10.0
SIZE_LIMIT = 2 * 1024 * 1024  # about 24 months of figures is a few tens of kilobytes
PARALLEL = 8


class Unreachable(Exception):
    """The partner's server did not answer with its figures; ``str()`` is a reason code."""


# Why a partner's figures were not taken, in words (the codes are stored, not the words).
REASONS: dict[str, Promise] = {
    "address": _lazy("The partner's server address is not a web address."),
    "https": _lazy("The partner's server address must start with https://."),
    "status": _lazy("The partner's server did not give its figures (it answered an error)."),
    "no_answer": _lazy("The partner's server did not answer."),
    "too_large": _lazy("The partner's server answered with too much data."),
    "not_json": _lazy("The partner's server did not answer with figures."),
    "format": _lazy("The figures are not in a form this server reads."),
    "signature": _lazy("The signature does not match the partner's key: figures refused."),
    "other_org": _lazy("The figures name another organization: refused."),
    "other_month": _lazy("The figures name another month than the one listed: refused."),
    "epsilon": _lazy("The stated ε is out of range: refused."),
    "cells": _lazy("A figure under 5 was published: refused."),
}


def reason(code: str) -> str:
    """A stored reason code in words (``status:503`` reads as an error answer)."""
    label = REASONS.get(code.split(":", 1)[0])
    return str(label) if label is not None else code


@dataclass
class Outcome:
    partner: Partner
    kept: int = 0
    refused: int = 0
    error: str = ""
    reasons: list[str] = field(default_factory=list)


def figures_url(partner: Partner) -> str:
    base = partner.server_url.rstrip("/")
    return f"{base}/network/figures/{quote(partner.remote_slug)}.json"


def fetch(url: str, timeout: float = TIMEOUT, limit: int = SIZE_LIMIT) -> bytes:
    """The body of a GET of ``url``: HTTPS, or HTTP to this machine only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable("address")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise Unreachable("https")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("GET", path, headers={"Accept": "application/json",
                                           "User-Agent": "Haven network figures"})
        response = conn.getresponse()
        if response.status != 200:
            raise Unreachable(f"status:{response.status}")
        data = response.read(limit + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise Unreachable("no_answer") from exc
    finally:
        conn.close()
    if len(data) > limit:
        raise Unreachable("too_large")
    return data


def local_listing(partner: Partner) -> list[dict[str, Any]]:
    """A same-server partner's publications, as its public JSON lists them."""
    rows = Publication.objects.filter(organization_id=partner.local_id or 0).order_by("month")
    return [{"month": figures.month_key(r.month), "body": figures.b64(bytes(r.body)),
             "signature": figures.b64(bytes(r.signature))} for r in rows]


def remote_listing(partner: Partner) -> list[dict[str, Any]]:
    raw = fetch(figures_url(partner))
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unreachable("not_json") from exc
    items = data.get("publications") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise Unreachable("format")
    return items


def check(partner: Partner, items: list[Any]) -> tuple[list[tuple[date, bytes, bytes, dict]], list[str]]:
    """The months whose signature verifies with the partner's key and whose body names the
    partner and the month; the reasons the others were refused."""
    good, reasons = [], []
    key = bytes(partner.signing_key)
    for item in items:
        try:
            if not isinstance(item, dict):
                raise figures.BadFigures("format")
            month = figures.parse_month(item.get("month", ""))
            if month is None:
                raise figures.BadFigures("other_month")
            body, signature = figures.unb64(item.get("body")), figures.unb64(item.get("signature"))
            try:
                verify(key, body, signature)
            except BadSignature as exc:
                raise figures.BadFigures("signature") from exc
            data = figures.read_body(body, slug=partner.remote_slug, month=month)
        except figures.BadFigures as exc:
            reasons.append(str(exc))
            continue
        good.append((month, body, signature, data))
    return good, reasons


def collect(partners: list[Partner]) -> list[Outcome]:
    """Collect every partner's figures: remote ones fetched in parallel (no database in the
    threads), then each checked and kept."""
    remote = [p for p in partners if not p.is_local]
    fetched: dict[int, list[Any] | Unreachable] = {}

    def get(partner: Partner) -> tuple[int, list[Any] | Unreachable]:
        try:
            return partner.pk, remote_listing(partner)
        except Unreachable as exc:
            return partner.pk, exc

    if remote:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(remote))) as pool:
            fetched = dict(pool.map(get, remote))
    outcomes = []
    for partner in partners:
        outcome = Outcome(partner)
        listing = local_listing(partner) if partner.is_local else fetched[partner.pk]
        if isinstance(listing, Unreachable):
            outcome.error = str(listing)
        else:
            good, outcome.reasons = check(partner, listing)
            outcome.refused = len(outcome.reasons)
            if outcome.reasons:
                outcome.error = outcome.reasons[0]
            outcome.kept = len(good)
            actions.keep_collected(partner, good, outcome.error, outcome.refused)
            outcomes.append(outcome)
            continue
        actions.keep_collected(partner, [], outcome.error, 0)
        outcomes.append(outcome)
    log.info("figures collected: %d partners, %d months kept, %d refused, %d unreachable",
             len(outcomes), sum(o.kept for o in outcomes), sum(o.refused for o in outcomes),
             sum(1 for o in outcomes if o.error and not o.refused))
    return outcomes

