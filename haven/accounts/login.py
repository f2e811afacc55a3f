"""Login: password and second factor, throttled without storing addresses.

Two throttles: per account (in the database, so it holds across processes;
ten failures lock the account for a while) and per client (a keyed hash of the
client's address that lives only in the cache for a short while, see
haven.core.clients). On an onion service there is no client address, so only
the per-account lock applies: one attacker cannot lock every member out.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from haven import vault
from haven.audit import chain
from haven.core import clients

from .keys import MemberKeys, pepper_hash, unlock_member, upgrade_member_key
from .models import Member
from .services import check_second_factor

CLIENT_WINDOW_S = 15 * 60
# Why a login was refused, as the audit chain records it (the person is told less).
PASSWORD, SECOND_FACTOR, THROTTLED = "password", "second_factor", "throttled"
# Compared against when the username is unknown, so both cases take as long.
_DUMMY_HASH = make_password("haven-timing-equaliser")


class LoginRefused(Exception):
    """The login did not succeed; the message is safe to show."""


def client_key(request: HttpRequest) -> str | None:
    """A keyed hash of the client's address for this hour, or None on an onion service."""
    return clients.client_hash(request, "login-client")


def _username_key(username: str) -> str:
    return "login-user:" + pepper_hash(vault.purposes.Lookup.LOGIN_USERNAME, username.lower())


def login(request: HttpRequest, username: str, password: str, code: str) -> tuple[Member, MemberKeys]:
    """Check all three; return the member and unwrapped keys or raise LoginRefused."""
    ckey = client_key(request)
    # Counted before the expensive check (atomic), taken back on success.
    if not clients.attempt(ckey, CLIENT_WINDOW_S, settings.HAVEN_CLIENT_ATTEMPTS):
        raise LoginRefused(_("Too many attempts from this connection. Wait 15 minutes and try again."))
    member = Member.objects.select_related("organization").filter(
        username__iexact=username.strip(), is_active=True
    ).first()
    refuse_if_locked(member, username)
    if member is None or not member.check_password(password):
        if member is None:
            check_password(password, _DUMMY_HASH)
        count_failure(member, username, PASSWORD)
    if not check_second_factor(member, code):
        count_failure(member, username, SECOND_FACTOR)
    try:
        keys = unlock_member(member, password)
    except vault.VaultError:
        count_failure(member, username, PASSWORD)
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(failed_logins=0, locked_until=None)
        upgrade_member_key(member, password, keys)
        chain.record(member.organization_id, "login.ok", actor_id=member.pk)
    clients.undo(ckey)
    return member, keys


def _record_failure(member: Member | None, reason: str) -> None:
    """A refused login of a member goes into the organization's chain, with the reason's class.

    Never the address, the typed password or code. A username that names no
    member belongs to no organization, so it is recorded nowhere.
    """
    if member is not None:
        with transaction.atomic():
            chain.record(member.organization_id, "login.failed", actor_id=member.pk,
                         detail={"reason": reason})


def refuse_if_locked(member: Member | None, username: str) -> None:
    now = timezone.now()
    until = member.locked_until if member is not None else cache.get(_username_key(username))
    if until is not None and until > now:
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        _record_failure(member, THROTTLED)
        raise LoginRefused(ngettext(
            "This account is locked after too many failed attempts. Try again in %(n)d minute.",
            "This account is locked after too many failed attempts. Try again in %(n)d minutes.",
            minutes,
        ) % {"n": minutes})


def count_failure(member: Member | None, username: str, reason: str) -> NoReturn:
    """Count a failure against the account (the client's attempt is already counted)."""
    _record_failure(member, reason)
    limit = settings.HAVEN_LOGIN_LOCK_AFTER
    lock = timedelta(minutes=settings.HAVEN_LOGIN_LOCK_MINUTES)
    if member is not None:
        Member.objects.filter(pk=member.pk).update(failed_logins=F("failed_logins") + 1)
        member.refresh_from_db(fields=["failed_logins"])
        if member.failed_logins >= limit:
            Member.objects.filter(pk=member.pk).update(
                locked_until=timezone.now() + lock, failed_logins=0
            )
    else:
        # Unknown usernames lock the same way, so a lock says nothing about existence.
        ukey = _username_key(username) + ":n"
        if clients.hit(ukey, CLIENT_WINDOW_S) >= limit:
            cache.set(_username_key(username), timezone.now() + lock, int(lock.total_seconds()))
            cache.delete(ukey)
    raise LoginRefused(_("Wrong username, password or code."))
