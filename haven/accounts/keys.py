"""Key handling for organizations and members, on top of :mod:`haven.vault`."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from haven import vault
from haven.core.keys import password_pepper, pepper_hash
from haven.vault import recovery
from haven.vault.kdf import PEPPERED
from haven.vault.purposes import Lookup
from haven.vault.session import pack_ring, unpack_ring

from .models import KeySession, Member, Organization, TeamKey


def kdf_params() -> vault.KdfParams:
    return vault.KdfParams(settings.HAVEN_KDF_OPSLIMIT, settings.HAVEN_KDF_MEMLIMIT)


def wrap_member_key(member_private: bytes, password: str) -> str:
    """A member's private key wrapped under the password: current cost, peppered (version 2)."""
    return vault.wrap_with_password(member_private, password, kdf_params(), password_pepper()).to_text()


def unwrap_member_key(wrapped: str, password: str) -> bytes:
    """The member's private key (any version); raise vault.WrongPassword."""
    return vault.unwrap_with_password(wrapped, password, password_pepper())


@dataclass(frozen=True)
class NewOrganization:
    organization: Organization
    org_private_key: bytes
    recovery: list[str]  # one recovery key, or the k-of-n shares
    recovery_public: bytes = b""


def make_organization(slug: str, name: str, shares: int = 1, threshold: int = 1) -> NewOrganization:
    """Create an organization's key pair and its recovery key (or shares)."""
    org_keys = vault.generate_keypair()
    rec_keys = vault.generate_keypair()
    if shares > 1:
        texts = recovery.split(rec_keys.private, threshold, shares)
    else:
        texts, threshold = [recovery.format_key(rec_keys.private)], 1
    org = Organization.objects.create(
        slug=slug,
        name=name,
        public_key=org_keys.public,
        recovery_sealed_key=vault.seal(rec_keys.public, org_keys.private),
        recovery_threshold=threshold,
        recovery_shares=max(shares, 1),
        recovery_public_key=rec_keys.public,
    )
    return NewOrganization(org, org_keys.private, texts, rec_keys.public)


def recovery_private(org: Organization, texts: list[str]) -> bytes:
    """The recovery private key from the recovery key or its shares."""
    if org.recovery_threshold > 1:
        return recovery.combine(texts)
    if len(texts) != 1:
        raise vault.BadRecoveryKey("this organization has a single recovery key")
    return recovery.parse_key(texts[0])


def open_with_recovery(org: Organization, texts: list[str]) -> bytes:
    """Return the organization's private key from its recovery key or shares."""
    return vault.open_sealed(recovery_private(org, texts), bytes(org.recovery_sealed_key))


@dataclass(frozen=True)
class MemberKeys:
    member_private: bytes
    org_private: bytes
    team_keys: dict[int, bytes] = field(default_factory=dict)  # team id -> team private key

    def ring(self, member_id: int | None = None) -> vault.KeyRing:
        return vault.KeyRing(self.org_private, self.member_private, self.team_keys, member_id)


def unlock_member(member: Member, password: str) -> MemberKeys:
    """Unwrap a member's keys with the password; raise vault.WrongPassword."""
    member_private = unwrap_member_key(member.wrapped_private_key, password)
    org_private = vault.open_sealed(member_private, bytes(member.sealed_org_key or b""))
    return MemberKeys(member_private, org_private, open_team_keys(member, member_private))


def open_team_keys(member: Member, member_private: bytes,
                   have: dict[int, bytes] | None = None) -> dict[int, bytes]:
    """The private keys of the teams ``member`` is in now (their TeamKey rows), opened with
    the member's key; ``have``: keys already open, reused. A team left is not in it."""
    have = have or {}
    keys: dict[int, bytes] = {}
    rows = TeamKey.objects.filter(member=member)
    for team_id, sealed in rows.values_list("team_id", "sealed_private_key"):
        if team_id in have:
            keys[team_id] = have[team_id]
            continue
        try:
            keys[team_id] = vault.open_sealed(member_private, bytes(sealed))
        except vault.VaultError:
            continue  # sealed to a key the member no longer has (a reset): re-added by a holder
    return keys


def current_team_ids(member: Member) -> set[int]:
    return set(TeamKey.objects.filter(member=member).values_list("team_id", flat=True))


def upgrade_member_key(member: Member, password: str, keys: MemberKeys) -> bool:
    """After a successful login: re-wrap a key made before the pepper or at an older cost.

    Returns True when the key was re-wrapped (the password hash is upgraded by
    Django's ``check_password`` itself).
    """
    wrapped = vault.WrappedKey.from_text(member.wrapped_private_key)
    if wrapped.version == PEPPERED and wrapped.params == kdf_params():
        return False
    member.wrapped_private_key = wrap_member_key(keys.member_private, password)
    Member.objects.filter(pk=member.pk).update(wrapped_private_key=member.wrapped_private_key)
    return True


def open_key_session(member: Member, keys: MemberKeys) -> tuple[str, str]:
    """Store the keys under a fresh cookie key. Returns (session id, cookie value)."""
    session_id = secrets.token_urlsafe(32)
    cookie_key = secrets.token_bytes(32)
    blob = pack_ring(cookie_key, keys.member_private, keys.org_private, keys.team_keys)
    KeySession.objects.create(
        id=pepper_hash(Lookup.KEY_SESSION, session_id),
        member=member,
        blob=blob,
        expires=timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE),
    )
    return session_id, base64.urlsafe_b64encode(cookie_key).decode("ascii")


def read_key_session(member: Member, session_id: str, cookie: str) -> MemberKeys | None:
    """Return the keys of a live session, or None when it ended or does not open."""
    row = KeySession.objects.filter(
        id=pepper_hash(Lookup.KEY_SESSION, session_id), member=member, expires__gt=timezone.now()
    ).first()
    if row is None:
        return None
    try:
        cookie_key = base64.urlsafe_b64decode(cookie.encode("ascii"))
        member_private, org_private, teams = unpack_ring(cookie_key, bytes(row.blob))
    except (vault.VaultError, ValueError):
        return None
    now = current_team_ids(member)
    if now != set(teams):
        # Added to a team (its key is sealed to the member) or removed from one (its key
        # goes): the session is re-opened with the teams the member is in now.
        teams = open_team_keys(member, member_private, teams)
        KeySession.objects.filter(pk=row.pk).update(
            blob=pack_ring(cookie_key, member_private, org_private, teams))
    return MemberKeys(member_private, org_private, teams)


def close_key_session(session_id: str) -> None:
    KeySession.objects.filter(id=pepper_hash(Lookup.KEY_SESSION, session_id)).delete()
