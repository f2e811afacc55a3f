"""Partners: who this organization works with, and the partner card that introduces it.

A partner on this server is asked from a list of the server's other organizations
and accepts on its own partners page; its keys are read from its rows here. A
partner on another Haven server is added by exchanging partner cards: a short text
(``haven-card:`` and base64url of compact JSON) naming the organization, its server's
public address and its two public keys. A card proves nothing by itself (anyone can
write one), so each administrator compares the card's fingerprint with the one the
other administrator reads out over another channel (a call, Signal), as Signal's
safety numbers, before the partner becomes active. Each side adds the other's card;
until it does, the inbox refuses what the other side sends.

The writes are in :mod:`haven.network.actions` ("Partners"); this module holds the
card format, its checks and the queries other parts read (:func:`active_partners`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from haven.accounts.models import Organization
from haven.core.errors import Refusal
from haven.vault.signing import fingerprint

from .keys import signing_key
from .models import Partner
from .transport import LOOPBACK

CARD_PREFIX = "haven-card:"
CARD_VERSION = 1
MAX_CARD = 4096  # characters of a pasted or uploaded card; a real one is about 400
KEY_BYTES = 32
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")


class PartnerError(Refusal):
    """A refusal about partners; the message says what to do."""


@dataclass(frozen=True)
class Card:
    """What a partner card says: an organization, where it is, its two public keys."""

    name: str
    slug: str
    server: str
    encryption_key: bytes  # X25519: referrals are sealed to it
    signing_key: bytes  # Ed25519: its envelopes and figures are signed with it

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.encryption_key, self.signing_key)

    def text(self) -> str:
        body = {"v": CARD_VERSION, "name": self.name, "slug": self.slug, "server": self.server,
                "encryption_key": _b64(self.encryption_key), "signing_key": _b64(self.signing_key)}
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return CARD_PREFIX + base64.urlsafe_b64encode(raw.encode("utf-8")).decode().rstrip("=")


def active_partners(org: Organization | int | None) -> QuerySet[Partner]:
    """The organization's partners it works with now: referrals go only to these, figures
    are collected only from these. ``None``: every organization's (the worker's round)."""
    partners = Partner.objects.filter(state=Partner.State.ACTIVE).order_by("name", "pk")
    if org is None:
        return partners
    return partners.filter(organization_id=org if isinstance(org, int) else org.pk)


def partners_of(org: Organization) -> QuerySet[Partner]:
    """Every partner row of the organization, as its partners page lists them."""
    return Partner.objects.filter(organization=org).select_related("local").order_by("name", "pk")


def site_url() -> str:
    return str(settings.SITE_URL).rstrip("/")


def site_url_is_set() -> bool:
    """False when this server's public address fell back to the local default: a card
    made here then names an address no other server can reach."""
    return bool(getattr(settings, "SITE_URL_CONFIGURED", True))


def our_card(org: Organization) -> Card:
    return Card(name=org.name, slug=org.slug, server=site_url(),
                encryption_key=bytes(org.public_key),
                signing_key=bytes(signing_key(org).public_key))


def partner_fingerprint(partner: Partner) -> str:
    return fingerprint(bytes(partner.encryption_key), bytes(partner.signing_key))


def candidates(org: Organization) -> QuerySet[Organization]:
    """The other organizations on this server that may be asked: none this organization
    already asked, was asked by or works with (an ended partnership may be asked again)."""
    current = Partner.objects.filter(organization=org).exclude(state=Partner.State.ENDED)
    taken = current.filter(local__isnull=False).values("local_id")
    keys = [bytes(k) for k in current.values_list("signing_key", flat=True)]
    return (Organization.objects.exclude(pk=org.pk).exclude(pk__in=taken)
            .exclude(signing_key__public_key__in=keys).order_by("name", "slug"))


def existing_partner(org: Organization, card: Card) -> Partner | None:
    """The organization's partner row with either of the card's keys, if any."""
    return (Partner.objects.filter(organization=org, signing_key=card.signing_key).first()
            or Partner.objects.filter(organization=org, encryption_key=card.encryption_key).first())


def check_card(org: Organization, card: Card) -> Partner | None:
    """Refuse a card this organization cannot add; return the ended partnership it renews."""
    if card.encryption_key == bytes(org.public_key) \
            or card.signing_key == bytes(signing_key(org).public_key):
        raise PartnerError(_("This is your own organization's card. Paste the card your "
                             "partner's administrator sent you."))
    if card.server == site_url():
        raise PartnerError(_("This card names this very server (%(server)s). An organization "
                             "on this server is asked under “Add a partner on this server” "
                             "instead.") % {"server": card.server})
    found = existing_partner(org, card)
    if found is not None and found.state != Partner.State.ENDED:
        raise PartnerError(_("“%(name)s” is already in your list of partners with these keys "
                             "(%(state)s). Nothing was changed.")
                           % {"name": found.name, "state": found.get_state_display()})
    return found


def read_card(text: str) -> Card:
    """Parse a pasted or uploaded card. Whitespace (a card wrapped by a mail program or a
    chat) is ignored; everything else must be exactly as made."""
    compact = "".join((text or "").split())
    if not compact:
        raise PartnerError(_("Paste the partner's card, or upload the file they sent you."))
    if len(compact) > MAX_CARD:
        raise PartnerError(_("This is far longer than a partner card. Paste only the text that "
                             "starts with “haven-card:”."))
    if not compact.lower().startswith(CARD_PREFIX):
        raise PartnerError(_("This is not a partner card: a card starts with “haven-card:”. "
                             "Ask the partner's administrator to send theirs again."))
    body = compact[len(CARD_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise PartnerError(_("This partner card is damaged (cut short or changed). Ask the "
                             "partner's administrator to send it again, as a file if "
                             "possible.")) from None
    return _card_from(data)


def _card_from(data: Any) -> Card:
    damaged = PartnerError(_("This partner card is damaged or incomplete. Ask the partner's "
                             "administrator to send it again, as a file if possible."))
    if not isinstance(data, dict):
        raise damaged
    if data.get("v") != CARD_VERSION:
        raise PartnerError(_("This partner card was made by a Haven version this server does "
                             "not read. Update Haven on the older server, then exchange cards "
                             "again."))
    name, slug, server = (data.get(k) for k in ("name", "slug", "server"))
    if not (isinstance(name, str) and name.strip() and len(name) <= 200
            and isinstance(slug, str) and SLUG.match(slug) and isinstance(server, str)):
        raise damaged
    encryption, signing = _key(data.get("encryption_key")), _key(data.get("signing_key"))
    if encryption is None or signing is None:
        raise damaged
    return Card(name=" ".join(name.split()), slug=slug, server=clean_server(server),
                encryption_key=encryption, signing_key=signing)


def _key(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def clean_server(server: str) -> str:
    """A partner server's address as its card gives it: https, or http only on this
    machine's loopback (a test or a demo), with no path, query or credentials."""
    refused = PartnerError(_(
        "The card gives its server's address as “%(server)s”, which is not a web address "
        "this server can send to. A partner's address must start with https:// (plain "
        "http:// is allowed only for 127.0.0.1 or localhost, for tests). Ask the partner's "
        "administrator to set their server's public address (HAVEN_SITE_URL) and to send "
        "a new card.") % {"server": server[:100]})
    try:
        parts = urlsplit(server.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise refused from None
    if (parts.scheme not in ("http", "https") or not host or parts.username or parts.password
            or parts.query or parts.fragment or parts.path not in ("", "/")):
        raise refused
    if parts.scheme == "http" and not _loopback(host):
        raise refused
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _loopback(host: str) -> bool:
    """The loopback names the transport sends plain http to (and nothing else)."""
    return host.lower() in LOOPBACK


def _b64(key: bytes) -> str:
    return base64.b64encode(bytes(key)).decode()
