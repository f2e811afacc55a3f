"""Every change to organizations and members goes through these functions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven import vault
from haven.audit import chain
from haven.core.errors import Refusal

from .keys import (
    make_organization,
    pepper_hash,
    recovery_private,
    unwrap_member_key,
    wrap_member_key,
)
from .models import BackupCode, Invite, KeySession, Member, Organization, Role, Team, TeamKey
from .rights import Right, can

BACKUP_CODES = 10


class AccountError(Refusal):
    """A refusal a person can act on; the message says what to do."""


@dataclass(frozen=True)
class IssuedInvite:
    invite: Invite
    token: str

    @property
    def path(self) -> str:
        return f"/invite/?t={self.token}"

    @property
    def url(self) -> str:
        return settings.SITE_URL + self.path


@dataclass(frozen=True)
class CreatedOrganization:
    organization: Organization
    recovery: list[str]
    admin_invite: IssuedInvite


@transaction.atomic
def create_organization(
    slug: str, name: str, admin_username: str, admin_name: str = "",
    shares: int = 1, threshold: int = 1,
) -> CreatedOrganization:
    """Create an organization, its recovery key, and an invite for its first admin."""
    if Organization.objects.filter(slug=slug).exists():
        raise AccountError(_("An organization with this short name already exists."))
    made = make_organization(slug, name, shares, threshold)
    invite = _issue(made.organization, made.org_private_key, None, admin_username,
                    admin_name, Role.ADMIN)
    # The first team, "General", with a key of its own: sealed to the recovery key and,
    # until the first admin accepts, to their link (then to their key).
    team_keys = vault.generate_keypair()
    team = Team.objects.create(organization=made.organization, name=GENERAL,
                               public_key=team_keys.public,
                               recovery_sealed_key=vault.seal(made.recovery_public, team_keys.private))
    Organization.objects.filter(pk=made.organization.pk).update(default_team=team)
    made.organization.default_team = team
    _seal_teams_to_link(invite.invite, {team.pk: team_keys.private})
    chain.record(made.organization.pk, "org.created",
                 detail={"member": invite.invite.member_id, "shares": shares, "threshold": threshold})
    return CreatedOrganization(made.organization, made.recovery, invite)


@transaction.atomic
def invite_member(
    by: Member, org_private: bytes, username: str, display_name: str, role: str,
    ring: vault.KeyRing | None = None, teams: list[Team] | None = None,
) -> IssuedInvite:
    """An admin invites a new member by a one-time link; ``teams`` whose keys the admin
    holds (in ``ring``) travel with the link."""
    _require_admin(by)
    if role not in Role.values:
        raise AccountError(_("Choose one of the listed roles."))
    issued = _issue(by.organization, org_private, by, username, display_name, role)
    chain.record(by.organization_id, "member.invited", actor_id=by.pk,
                 detail={"member": issued.invite.member_id, "role": role})
    if teams and ring is not None and role != Role.VOLUNTEER:
        held = {t.pk: ring.team_private(t.pk) for t in teams
                if t.organization_id == by.organization_id and ring.holds(t.pk)}
        _seal_teams_to_link(issued.invite, held)
        for team_id in sorted(held):
            chain.record(by.organization_id, "team.member_added", actor_id=by.pk,
                         detail={"team": team_id, "member": issued.invite.member_id, "by_link": True})
    return issued


GENERAL = "General"
# The roles an invitation puts in the default team by default (accounts.views).
TEAM_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CASEWORKER)


def _seal_teams_to_link(invite: Invite, team_keys: dict[int, bytes]) -> None:
    """Team keys travel with a link (sealed to its key pair) until it is accepted."""
    TeamKey.objects.bulk_create(
        TeamKey(team_id=team_id, invite=invite,
                sealed_private_key=vault.seal(bytes(invite.public_key), private))
        for team_id, private in team_keys.items())


def _issue(
    org: Organization, org_private: bytes, by: Member | None,
    username: str, display_name: str, role: str,
) -> IssuedInvite:
    username = username.strip()
    if not username or len(username) > 150 or any(ch.isspace() for ch in username):
        raise AccountError(_("A username must be 1 to 150 characters, without spaces."))
    if Member.objects.filter(username__iexact=username).exists():
        raise AccountError(_("This username is taken; choose another."))
    member = Member.objects.create(
        organization=org, username=username, display_name=display_name.strip() or username,
        role=role, is_active=False,
    )
    member.set_unusable_password()
    member.save(update_fields=["password"])
    return _new_link(member, org_private, by, Invite.Kind.INVITE)


def _new_link(member: Member, org_private: bytes, by: Member | None, kind: str) -> IssuedInvite:
    # A new link supersedes the member's earlier ones: their key material goes now.
    wipe_links(Invite.objects.filter(member=member, used_at__isnull=True), expire=True)
    token = secrets.token_urlsafe(32)
    keys = vault.generate_keypair()
    invite = Invite.objects.create(
        organization=member.organization, member=member, kind=kind,
        token_hash=pepper_hash("invite", token),
        public_key=keys.public,
        token_wrapped_key=vault.wrap_with_token(keys.private, token.encode("ascii")),
        sealed_org_key=vault.seal(keys.public, org_private),
        created_by=by,
        expires=timezone.now() + timedelta(days=settings.HAVEN_INVITE_DAYS),
    )
    return IssuedInvite(invite, token)


@transaction.atomic
def rekey_member(by: Member, org_private: bytes, member: Member,
                 ring: vault.KeyRing | None = None) -> IssuedInvite:
    """An admin gives a member who lost the password a link to set a new one.

    The member gets a fresh key pair holding the organization key, so nothing
    encrypted to the organization is lost. Earlier links for the member stop working.
    """
    _require_admin(by)
    if member.organization_id != by.organization_id:
        raise AccountError(_("No such member."))
    if member.pk == by.pk:
        raise AccountError(_("You cannot reset your own password and keys here. Change your "
                             "password on “My account”, or ask another administrator."))
    chain.record(by.organization_id, "member.rekeyed", actor_id=by.pk,
                 detail={"member": member.pk})
    issued = _new_link(member, org_private, by, Invite.Kind.REKEY)
    # The member's teams whose keys the admin holds go with the link; the others need a
    # member of that team to add them again (their old copies are sealed to the lost key).
    if ring is not None:
        teams = TeamKey.objects.filter(member=member).values_list("team_id", flat=True)
        _seal_teams_to_link(issued.invite, {t: ring.team_private(t) for t in teams if ring.holds(t)})
    return issued


def wipe_links(links: QuerySet[Invite], expire: bool = False) -> int:
    """Overwrite the key material of ``links`` (the token-wrapped key and the sealed org key).

    A spent, superseded or expired link must open nothing, even with its token
    and a copy of the database. ``expire`` also ends the links now.
    """
    fields: dict[str, object] = {
        "public_key": b"", "token_wrapped_key": b"", "sealed_org_key": b"",
        "wrapped_private_key": "", "password": "", "sealed_totp": None,
    }
    if expire:
        fields["expires"] = timezone.now()
    TeamKey.objects.filter(invite__in=links).delete()
    return links.update(**fields)


def find_invite(token: str) -> Invite | None:
    """The usable invite for a token, or None (unknown, used or expired alike)."""
    if not token or len(token) > 100:
        return None
    invite = (
        Invite.objects.select_related("member", "organization")
        .filter(token_hash=pepper_hash("invite", token))
        .first()
    )
    return invite if invite is not None and invite.is_usable else None


@dataclass(frozen=True)
class Enrolment:
    """Between the two steps of accepting a link: the new second factor to enrol."""

    secret: str  # the random TOTP secret, hex
    step_key: str  # carried by the second step's form; with the token it opens the secret


def _locked_usable_invite(token: str) -> Invite:
    invite = find_invite(token)
    if invite is None:
        raise AccountError(_("This link is not valid any more. Ask your administrator for a new one."))
    invite = Invite.objects.select_for_update().select_related("member", "organization").get(pk=invite.pk)
    if not invite.is_usable:
        raise AccountError(_("This link was already used. Ask your administrator for a new one."))
    return invite


def _step_secret(token: str, step_key: str) -> bytes:
    return hashlib.sha256(f"{token}\x00{step_key}".encode("ascii")).digest()


def choose_password(token: str, password: str) -> Enrolment:
    """Step 1 of accepting a link: set the password; returns a new random TOTP secret.

    The first time, the organization key moves from the link's key pair to a
    fresh member key pair wrapped under the password, and the link's own key
    material is wiped: from then on the token alone opens nothing. The member's
    account changes only at step 2. Coming back to the link asks for the same
    password again and issues a new secret (the page with the old one is gone).
    """
    with transaction.atomic():
        invite = _locked_usable_invite(token)
        if invite.password_set_at is None:
            link_private = vault.unwrap_with_token(bytes(invite.token_wrapped_key),
                                                   token.encode("ascii"))
            invite.public_key, invite.sealed_org_key, invite.wrapped_private_key = _fresh_keys(
                _org_key_of(invite, token), password)
            for row in TeamKey.objects.filter(invite=invite):  # team keys to the fresh key too
                TeamKey.objects.filter(pk=row.pk).update(sealed_private_key=vault.seal(
                    bytes(invite.public_key), vault.open_sealed(link_private,
                                                                bytes(row.sealed_private_key))))
            invite.token_wrapped_key = b""
            invite.password = make_password(password)
            invite.password_set_at = timezone.now()
        elif not check_password(password, invite.password):
            raise AccountError(_("This is not the password you chose before. Type it again, or ask "
                                 "your administrator for a new link."))
        secret, step_key = secrets.token_bytes(20), secrets.token_urlsafe(16)
        invite.sealed_totp = vault.wrap_with_token(secret, _step_secret(token, step_key))
        invite.save()
    return Enrolment(secret.hex(), step_key)


def pending_secret(token: str, step_key: str) -> str | None:
    """The TOTP secret of step 2 (hex), or None when the link or the step key does not open it."""
    invite = find_invite(token)
    if invite is None or invite.sealed_totp is None:
        return None
    try:
        return vault.unwrap_with_token(bytes(invite.sealed_totp), _step_secret(token, step_key)).hex()
    except vault.VaultError:
        return None


def confirm_second_factor(token: str, step_key: str, code: str) -> tuple[Member, list[str]]:
    """Step 2: check a code of the new second factor; the member is set up. Returns backup codes."""
    with transaction.atomic():
        invite = _locked_usable_invite(token)
        secret = pending_secret(token, step_key)
        if secret is None:
            raise AccountError(_("This page is out of date. Open your link again and type your password."))
        member = invite.member
        TOTPDevice.objects.filter(user=member).delete()
        device = TOTPDevice.objects.create(user=member, name="authenticator", key=secret, confirmed=True)
        if not device.verify_token(code.replace(" ", "")):
            raise AccountError(_(
                "The code from the authenticator app is wrong; check the clock "
                "of your phone and try the current code."
            ))
        _move_keys(invite, member)
        Invite.objects.filter(pk=invite.pk).update(used_at=timezone.now())
        wipe_links(Invite.objects.filter(pk=invite.pk))
        codes = _new_backup_codes(member)
        chain.record(member.organization_id, "member.joined", actor_id=member.pk,
                     detail={"link": invite.kind})
    return member, codes


@dataclass(frozen=True)
class Accepted:
    member: Member
    backup_codes: list[str]
    totp_secret: str  # hex


def accept_invite(token: str, password: str) -> Accepted:
    """Both steps at once, computing the code as the member's app would (demo, benchmarks, tests)."""
    enrolment = choose_password(token, password)
    code = f"{totp(bytes.fromhex(enrolment.secret)):06d}"
    member, codes = confirm_second_factor(token, enrolment.step_key, code)
    return Accepted(member, codes, enrolment.secret)


def _move_keys(invite: Invite, member: Member) -> None:
    """The keys and password chosen at step 1 become the member's."""
    member.password = invite.password
    member.public_key = bytes(invite.public_key)
    member.sealed_org_key = bytes(invite.sealed_org_key)
    member.wrapped_private_key = invite.wrapped_private_key
    member.is_active = True
    member.failed_logins = 0
    member.locked_until = None
    member.save()
    KeySession.objects.filter(member=member).delete()
    if TeamKey.objects.filter(invite=invite).exists() or invite.kind == Invite.Kind.REKEY:
        # Copies sealed to the member's earlier key open nothing any more.
        TeamKey.objects.filter(member=member).delete()
    TeamKey.objects.filter(invite=invite).update(member=member, invite=None)


def _org_key_of(invite: Invite, token: str) -> bytes:
    """The organization's private key, opened with the link's token."""
    invite_private = vault.unwrap_with_token(bytes(invite.token_wrapped_key), token.encode("ascii"))
    return vault.open_sealed(invite_private, bytes(invite.sealed_org_key))


def _fresh_keys(org_private: bytes, password: str) -> tuple[bytes, bytes, str]:
    """A new member key pair: (public key, org key sealed to it, private key wrapped under ``password``).

    The link's key pair never becomes the member's: the link opens nothing once
    it is spent (its key material is wiped in the same transaction).
    """
    keys = vault.generate_keypair()
    wrapped = wrap_member_key(keys.private, password)
    return keys.public, vault.seal(keys.public, org_private), wrapped


def _new_backup_codes(member: Member) -> list[str]:
    BackupCode.objects.filter(member=member).delete()
    codes = [f"{secrets.randbelow(10**10):010d}" for _ in range(BACKUP_CODES)]
    BackupCode.objects.bulk_create(
        BackupCode(member=member, code_hash=pepper_hash("backup-code", c)) for c in codes
    )
    return [f"{c[:5]}-{c[5:]}" for c in codes]


@transaction.atomic
def regenerate_backup_codes(member: Member) -> list[str]:
    codes = _new_backup_codes(member)
    chain.record(member.organization_id, "member.backup_codes", actor_id=member.pk)
    return codes


def check_second_factor(member: Member, code: str) -> bool:
    """True if ``code`` is the current TOTP code or an unused backup code (then spent)."""
    code = code.strip().replace(" ", "")
    if code.isdigit() and len(code) == 6:
        return any(d.verify_token(code) for d in TOTPDevice.objects.filter(user=member, confirmed=True))
    digits = code.replace("-", "")
    if not (digits.isdigit() and len(digits) == 10):
        return False
    spent = BackupCode.objects.filter(
        member=member, code_hash=pepper_hash("backup-code", digits), used_at__isnull=True
    ).update(used_at=timezone.now())
    return spent == 1


@transaction.atomic
def change_password(member: Member, old: str, new: str) -> None:
    """Re-wrap the member's private key under the new password."""
    if not member.check_password(old):
        raise AccountError(_("The current password is wrong."))
    try:
        member_private = unwrap_member_key(member.wrapped_private_key, old)
    except vault.WrongPassword as exc:
        raise AccountError(_("The current password is wrong.")) from exc
    member.set_password(new)
    member.wrapped_private_key = wrap_member_key(member_private, new)
    member.save(update_fields=["password", "wrapped_private_key"])
    chain.record(member.organization_id, "password.changed", actor_id=member.pk)


@transaction.atomic
def lock_organization(by: Member) -> int:
    """End every session of the organization now. Returns how many ended."""
    _require_admin(by)
    ended, _detail = KeySession.objects.filter(member__organization=by.organization).delete()
    Organization.objects.filter(pk=by.organization_id).update(locked_at=timezone.now())
    chain.record(by.organization_id, "org.locked", actor_id=by.pk, detail={"sessions": ended})
    return ended


@transaction.atomic
def set_role(by: Member, member: Member, role: str) -> None:
    """Change a member's role; the organization always keeps an active administrator."""
    _require_admin(by)
    if role not in Role.values or member.organization_id != by.organization_id:
        raise AccountError(_("Choose one of the listed roles."))
    target = _lock_for_admin_change(by, member)
    old = target.role
    if old == Role.ADMIN and role != Role.ADMIN and target.is_active:
        _keep_an_admin(by, target)
    Member.objects.filter(pk=target.pk).update(role=role)
    member.role = role
    chain.record(by.organization_id, "member.role", actor_id=by.pk,
                 detail={"member": member.pk, "old": old, "new": role})


@transaction.atomic
def set_knowledge_reviewer(by: Member, member: Member, allowed: bool) -> None:
    """Give or withdraw the right to mark knowledge articles reviewed (audited)."""
    _require_admin(by)
    if member.organization_id != by.organization_id:
        raise AccountError(_("Only an administrator of the organization can do this."))
    member.can_review_knowledge = allowed
    member.save(update_fields=["can_review_knowledge"])
    chain.record(by.organization_id, "member.kb_reviewer", actor_id=by.pk,
                 detail={"member": member.pk, "allowed": allowed})


@transaction.atomic
def deactivate(by: Member, member: Member) -> None:
    """Remove a member's access: keys, sessions, second factor."""
    _require_admin(by)
    if member.pk == by.pk:
        raise AccountError(_("You cannot deactivate yourself. Ask another administrator to do it."))
    if member.organization_id != by.organization_id:
        raise AccountError(_("No such member."))
    target = _lock_for_admin_change(by, member)
    if target.role == Role.ADMIN and target.is_active:
        _keep_an_admin(by, target)
    member.is_active = False
    member.sealed_org_key = None
    member.wrapped_private_key = ""
    member.set_unusable_password()
    member.save(update_fields=["is_active", "sealed_org_key", "wrapped_private_key", "password"])
    KeySession.objects.filter(member=member).delete()
    TeamKey.objects.filter(member=member).delete()
    Invite.objects.filter(member=member, used_at__isnull=True).delete()
    TOTPDevice.objects.filter(user=member).delete()
    BackupCode.objects.filter(member=member).delete()
    chain.record(by.organization_id, "member.deactivated", actor_id=by.pk,
                 detail={"member": member.pk})


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_time_zone(zone: str) -> str:
    zone = zone.strip()
    if zone not in known_time_zones():
        raise AccountError(_("“%(zone)s” is not a time zone Haven knows. Type a name such as "
                             "Europe/Moscow, Europe/Kyiv or Asia/Tbilisi.") % {"zone": zone[:64]})
    return zone


@transaction.atomic
def set_organization_time_zone(by: Member, zone: str) -> None:
    """The zone the desk shows times in for members who did not choose their own."""
    _require_admin(by)
    zone = _check_time_zone(zone)
    Organization.objects.filter(pk=by.organization_id).update(time_zone=zone)
    chain.record(by.organization_id, "organization.time_zone", actor_id=by.pk,
                 detail={"zone": zone})


@transaction.atomic
def set_member_time_zone(member: Member, zone: str) -> None:
    """A member's own zone; an empty one follows the organization's."""
    zone = _check_time_zone(zone) if zone.strip() else ""
    Member.objects.filter(pk=member.pk).update(time_zone=zone)
    # Only that it changed: the zone a caseworker chose can say where they live.
    chain.record(member.organization_id, "member.time_zone", actor_id=member.pk,
                 detail={"own": bool(zone)})
    member.time_zone = zone


@transaction.atomic
def restore_access(slug: str, recovery_texts: list[str], admin_username: str) -> IssuedInvite:
    """Use the recovery key (or shares) to issue a new administrator link."""
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise AccountError(_("No organization has this short name."))
    raw = recovery_private(org, recovery_texts)
    org_private = vault.open_sealed(raw, bytes(org.recovery_sealed_key))
    remember_recovery_public(org, raw)
    existing = Member.objects.filter(organization=org, username__iexact=admin_username).first()
    if existing is None:
        issued = _issue(org, org_private, None, admin_username, "", Role.ADMIN)
    else:
        Member.objects.filter(pk=existing.pk).update(role=Role.ADMIN)
        issued = _new_link(existing, org_private, None, Invite.Kind.REKEY)
    # The recovery key opens every team: the new administrator gets them all.
    _seal_teams_to_link(issued.invite, teams_by_recovery(org, raw))
    chain.record(org.pk, "org.recovered", detail={
        "member": issued.invite.member_id, "created": existing is None, "shares_used": len(recovery_texts)})
    return issued


def _require_admin(member: Member) -> None:
    if not can(member, Right.ORG_ADMIN):
        raise AccountError(_("Only an administrator of the organization can do this."))


def _lock_for_admin_change(by: Member, member: Member) -> Member:
    """Lock the target and the organization's administrators, then check ``by`` again.

    The rows are locked in the order of their keys (so two changes cannot wait on
    each other) and read after the lock, as Zulip's ``do_change_user_role`` does: two
    administrators demoting each other at once then cannot both succeed.
    """
    admins = Q(organization_id=by.organization_id, role=Role.ADMIN, is_active=True)
    rows = {m.pk: m for m in Member.objects.select_for_update()
            .filter(admins | Q(pk__in=[member.pk, by.pk])).order_by("pk")}
    if not rows[by.pk].has_role(Role.ADMIN):
        raise AccountError(_("Only an administrator of the organization can do this."))
    return rows[member.pk]


def _keep_an_admin(by: Member, target: Member) -> None:
    """Refuse to take the last active administrator away (rows locked by the caller)."""
    others = Member.objects.filter(organization_id=by.organization_id, role=Role.ADMIN,
                                   is_active=True).exclude(pk=target.pk)
    if not others.exists():
        raise AccountError(_("You are the last administrator; make someone else administrator first."))


def remember_recovery_public(org: Organization, raw: bytes) -> None:
    """Keep the recovery key's public half (organizations made before teams lack it), so new
    teams and restricted cases can be sealed to it."""
    if not org.recovery_public_key:
        org.recovery_public_key = vault.public_of(raw)
        Organization.objects.filter(pk=org.pk).update(recovery_public_key=org.recovery_public_key)


def teams_by_recovery(org: Organization, raw: bytes) -> dict[int, bytes]:
    """Every team's private key, opened with the recovery key."""
    keys = {}
    for team in Team.objects.filter(organization=org):
        if team.recovery_sealed_key:
            keys[team.pk] = vault.open_sealed(raw, bytes(team.recovery_sealed_key))
    return keys


@transaction.atomic
def enable_team_recovery(slug: str, recovery_texts: list[str]) -> Organization:
    """An organization made before teams: check the recovery key opens its key and keep the
    recovery key's public half, so new teams and restricted cases can be sealed to it."""
    org = Organization.objects.select_for_update().filter(slug=slug).first()
    if org is None:
        raise AccountError(_("No organization has this short name."))
    raw = recovery_private(org, recovery_texts)
    vault.open_sealed(raw, bytes(org.recovery_sealed_key))  # raises if it is not this org's
    had = bool(org.recovery_public_key)
    remember_recovery_public(org, raw)
    if not had:
        chain.record(org.pk, "org.team_recovery", detail={"shares_used": len(recovery_texts)})
    return org
