"""A member's addresses and choices: every write of them is here (the views only call).

A Telegram chat is linked with a one-time code the member sends to the
organization's bot; the code is kept as a keyed hash only and lives 15 minutes.
A chat serves one member: a second member's code sent from a linked chat links
nothing, and that member's page says so. Addresses are sealed under the server
key ``NOTIFY_ADDRESS`` bound to the member and kind; none is ever logged.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Member
from haven.accounts.rights import Right, can
from haven.audit.models import AuditHead
from haven.core.errors import Refusal
from haven.core.keys import pepper_hash, server_box
from haven.vault import VaultError
from haven.vault.purposes import NOTIFY_ADDRESS, Lookup

from .audience import may_approve_payouts
from .models import Address, Cursor, Destination, Digest, Kind, LinkCode, Pending, Preference, State

CODE_LIFETIME = timedelta(minutes=15)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed from a screen
CODE_LENGTH = 10
MAX_PENDING = 999  # a count that only grows while an address is blocked


class NotifyError(Refusal):
    """Bad input for the notification settings; nothing was changed."""


def _bound(member_id: int, kind: str) -> str:
    return f"member:{member_id}:{kind}"


def seal_address(member_id: int, kind: str, value: Any) -> bytes:
    return server_box(NOTIFY_ADDRESS).seal(_bound(member_id, kind), value)


def open_address(dest: Destination) -> Any:
    """The clear address (for the worker, or for the member's own page); None if unreadable."""
    try:
        return server_box(NOTIFY_ADDRESS).unseal(_bound(dest.member_id, dest.kind), bytes(dest.sealed))
    except VaultError:
        return None


def _clean_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def looks_like_code(code: str) -> bool:
    cleaned = _clean_code(code)
    return len(cleaned) == CODE_LENGTH and all(c in CODE_ALPHABET for c in cleaned)


def code_hash(code: str) -> str:
    return pepper_hash(Lookup.NOTIFY_LINK_CODE, _clean_code(code))


def new_link_code(member: Member) -> str:
    """A fresh one-time code for ``member`` (the previous one stops working)."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
    LinkCode.objects.update_or_create(member=member, defaults={
        "code_hash": code_hash(code), "expires": timezone.now() + CODE_LIFETIME, "refused_at": None})
    return code


@dataclass(frozen=True)
class LinkResult:
    linked: bool
    taken: bool = False  # the chat already serves another member


def link_telegram(organization_id: int, code: str, chat_key: str, bot_pk: int,
                  chat_id: int) -> LinkResult | None:
    """The bot received ``code`` from a chat. None when the code is unknown or expired."""
    cleaned = _clean_code(code)
    if not looks_like_code(cleaned):
        return None
    with transaction.atomic():
        row = LinkCode.objects.select_for_update().filter(
            code_hash=code_hash(cleaned), expires__gt=timezone.now(),
            member__organization_id=organization_id, member__is_active=True).select_related(
            "member").first()
        if row is None:
            return None
        member = row.member
        other = Destination.objects.filter(organization_id=organization_id, kind=Address.TELEGRAM,
                                           lookup=chat_key).exclude(member=member).exists()
        if other:
            LinkCode.objects.filter(pk=row.pk).update(refused_at=timezone.now())
            return LinkResult(linked=False, taken=True)
        LinkCode.objects.filter(pk=row.pk).delete()
        sealed = seal_address(member.pk, Address.TELEGRAM, {"bot": bot_pk, "chat": chat_id})
        try:
            with transaction.atomic():
                Destination.objects.update_or_create(member=member, kind=Address.TELEGRAM, defaults={
                    "organization_id": organization_id, "lookup": chat_key, "sealed": sealed,
                    "state": State.ACTIVE, "problem_at": None})
        except IntegrityError:  # linked by another member a moment ago
            return LinkResult(linked=False, taken=True)
        _default_preference(member)
    return LinkResult(linked=True)


def stop_chat(organization_id: int, chat_key: str) -> bool:
    """/stop in the bot: the chat's link goes, with what waited for it. False if none."""
    deleted, _kinds = Destination.objects.filter(organization_id=organization_id, kind=Address.TELEGRAM,
                                                 lookup=chat_key).delete()
    return bool(deleted)


def chat_blocked(organization_id: int, chat_key: str, blocked: bool) -> None:
    """The member blocked (or unblocked) the bot: pause (or resume) that address."""
    query = Destination.objects.filter(organization_id=organization_id, kind=Address.TELEGRAM,
                                       lookup=chat_key)
    if blocked:
        query.filter(state=State.ACTIVE).update(state=State.BLOCKED, problem_at=timezone.now())
    else:
        query.filter(state=State.BLOCKED).update(state=State.ACTIVE, problem_at=None)


def unlink(member: Member, kind: str) -> bool:
    """One click on the page: the address and what waited for it go."""
    deleted, _kinds = Destination.objects.filter(member=member, kind=kind).delete()
    if kind == Address.TELEGRAM:
        LinkCode.objects.filter(member=member).delete()
    return bool(deleted)


def set_email(member: Member, address: str) -> Destination:
    address = (address or "").strip()
    try:
        validate_email(address)
    except ValidationError:  # Django's own message names no next step
        raise NotifyError(_("Type a whole e-mail address, such as name@example.org.")) from None
    if len(address) > 254 or "\n" in address or "\r" in address:
        raise NotifyError(_("Type a whole e-mail address, such as name@example.org."))
    with transaction.atomic():
        dest, _made = Destination.objects.update_or_create(member=member, kind=Address.EMAIL, defaults={
            "organization_id": member.organization_id, "lookup": "",
            "sealed": seal_address(member.pk, Address.EMAIL, address),
            "state": State.ACTIVE, "problem_at": None})
        _default_preference(member)
    return dest


def _default_preference(member: Member) -> None:
    """A first address: default choices, and the collector starts reading from now on."""
    Preference.objects.get_or_create(member=member, defaults={"kinds": default_kinds(member)})
    head = AuditHead.objects.filter(organization_id=member.organization_id).values_list(
        "seq", flat=True).first() or 0
    Cursor.objects.get_or_create(organization_id=member.organization_id, defaults={"audit_seq": head})


def offered_kinds(member: Member) -> list[Kind]:
    kinds = [Kind.NEW_CASE, Kind.ASSIGNED, Kind.REPLY, Kind.DEADLINE]
    if not can(member, Right.CASE_READ):
        kinds = []
    if may_approve_payouts(member):
        kinds.append(Kind.PAYOUT)
    return kinds


def default_kinds(member: Member) -> list[str]:
    return [k.value for k in offered_kinds(member) if k != Kind.NEW_CASE]


def preference(member: Member) -> Preference:
    found = Preference.objects.filter(member=member).first()
    return found or Preference(member=member, kinds=default_kinds(member))


def save_preference(member: Member, *, kinds: list[str], quiet_from: int | None, quiet_to: int | None,
                    digest: str, digest_hour: int, lang: str) -> Preference:
    offered = {k.value for k in offered_kinds(member)}
    if not set(kinds) <= offered or digest not in Digest.values:
        raise NotifyError(_("Choose from the listed options."))
    if (quiet_from is None) != (quiet_to is None):
        raise NotifyError(_("Give both ends of the quiet hours, or neither."))
    hours = [h for h in (quiet_from, quiet_to, digest_hour) if h is not None]
    if any(not 0 <= h <= 23 for h in hours) or (quiet_from is not None and quiet_from == quiet_to):
        raise NotifyError(_("Quiet hours need two different hours between 0 and 23."))
    with transaction.atomic():
        pref, _made = Preference.objects.update_or_create(member=member, defaults={
            "kinds": sorted(set(kinds)), "quiet_from": quiet_from, "quiet_to": quiet_to,
            "digest": digest, "digest_hour": digest_hour, "lang": lang[:8]})
        # Kinds no longer wanted stop waiting too.
        Pending.objects.filter(destination__member=member).exclude(kind__in=pref.kinds).delete()
    return pref


def refused_link(member: Member) -> bool:
    """True if the member's code was sent from a chat that serves another member."""
    return LinkCode.objects.filter(member=member, refused_at__isnull=False).exists()


def add_pending(dest_id: int, kind: str, count: int, first_at: Any = None) -> None:
    """Count ``count`` more of ``kind`` for an address (inside the caller's transaction)."""
    if count <= 0:
        return
    updated = Pending.objects.filter(destination_id=dest_id, kind=kind).update(
        count=Least(F("count") + count, MAX_PENDING))
    if not updated:
        Pending.objects.create(destination_id=dest_id, kind=kind, count=min(count, MAX_PENDING),
                               first_at=first_at or timezone.now())
