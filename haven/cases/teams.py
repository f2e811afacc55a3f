"""Teams: who they are, which intake categories they take, who is in them.

Re-exported by :mod:`haven.cases.actions` (the actions' one entry point). Each function
checks the right (``team.manage``), writes the change and its audit entry in one
transaction. Membership is holding the team's key (``TeamKey``), so adding a member
needs a member who holds it (``ring``): an administrator cannot read a team's cases by
adding themself. Every change of who can read what is an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from haven import vault
from haven.accounts.models import Member, Organization, Role, Team, TeamKey
from haven.accounts.rights import Right, require
from haven.audit import chain
from haven.core.errors import Refusal

from . import categories as category_list

MAX_NAME = 100


class TeamError(Refusal):
    """A refusal about teams; the message says what to do."""


def _org_teams(member: Member) -> QuerySet[Team]:
    return Team.objects.filter(organization_id=member.organization_id)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise TeamError(_("Give the team a name."))
    if len(name) > MAX_NAME:
        raise TeamError(_("A team's name is at most %(n)d characters; shorten it.") % {"n": MAX_NAME})
    return name


def _clean_categories(member: Member, wanted: Iterable[str], team: Team | None) -> list[str]:
    known = category_list.all_categories()
    clean = sorted({c.strip() for c in wanted if c and c.strip()})
    for code in clean:
        if code not in known:
            raise TeamError(_("Choose categories from the list."))
    others = _org_teams(member)
    if team is not None:
        others = others.exclude(pk=team.pk)
    for other in others:
        taken = set(other.categories or []) & set(clean)
        if taken:
            raise TeamError(_("The category “%(category)s” already goes to the team "
                              "“%(team)s”; take it off there first.")
                            % {"category": sorted(taken)[0], "team": other.name})
    return clean


def _recovery_public(org: Organization) -> bytes:
    if not org.recovery_public_key:
        raise TeamError(_("Before the first new team, the organization's recovery key must be "
                          "entered once, so that it opens the new team too: run "
                          "“haven teams-recovery %(slug)s” on the server.") % {"slug": org.slug})
    return bytes(org.recovery_public_key)


def new_team(org: Organization, name: str, categories: list[str],
             holders: Iterable[Member] = ()) -> tuple[Team, bytes]:
    """A team with a fresh key sealed to the recovery key and to ``holders``; returns the
    team and its private key. No right is checked: for organization set-up and tools."""
    keys = vault.generate_keypair()
    team = Team.objects.create(organization=org, name=name, categories=categories,
                               public_key=keys.public,
                               recovery_sealed_key=vault.seal(_recovery_public(org), keys.private))
    for holder in holders:
        if holder.public_key:
            TeamKey.objects.create(team=team, member=holder,
                                   sealed_private_key=vault.seal(bytes(holder.public_key), keys.private))
    return team, keys.private


def create_team(member: Member, ring: vault.OrgVault, name: str,
                categories: Iterable[str] = ()) -> Team:
    """An administrator makes a team; they hold its key (and add the others)."""
    require(member, Right.TEAM_MANAGE)
    name = _clean_name(name)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=member.organization_id)
        clean = _clean_categories(member, categories, None)
        if Team.objects.filter(organization=org, name__iexact=name).exists():
            raise TeamError(_("A team with this name exists already; choose another name."))
        try:
            with transaction.atomic():
                team, _private = new_team(org, name, clean, [member])
        except IntegrityError as exc:
            raise TeamError(_("A team with this name exists already; choose another name.")) from exc
        chain.record(org.pk, "team.created", actor_id=member.pk,
                     detail={"team": team.pk, "categories": clean})
        chain.record(org.pk, "team.member_added", actor_id=member.pk,
                     detail={"team": team.pk, "member": member.pk})
    return team


def update_team(member: Member, team: Team, name: str, categories: Iterable[str]) -> None:
    require(member, Right.TEAM_MANAGE)
    _same_org(member, team)
    name = _clean_name(name)
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=member.organization_id)
        clean = _clean_categories(member, categories, team)
        if Team.objects.filter(organization_id=team.organization_id, name__iexact=name) \
                .exclude(pk=team.pk).exists():
            raise TeamError(_("A team with this name exists already; choose another name."))
        Team.objects.filter(pk=team.pk).update(name=name, categories=clean)
        team.name, team.categories = name, clean
        chain.record(member.organization_id, "team.updated", actor_id=member.pk,
                     detail={"team": team.pk, "categories": clean})


MAX_CAP = 500


def set_auto_assign(member: Member, team: Team, enabled: bool, cap: int) -> bool:
    """Switch fair assignment (haven.cases.fair) on or off for ``team`` and set the most
    open cases a member is given; returns whether anything changed."""
    require(member, Right.TEAM_MANAGE)
    _same_org(member, team)
    if not 1 <= cap <= MAX_CAP:
        raise TeamError(_("The cap is the most open cases one member is given automatically: "
                          "a whole number from 1 to %(max)d.") % {"max": MAX_CAP})
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        if (locked.auto_assign, locked.assign_cap) == (enabled, cap):
            return False
        Team.objects.filter(pk=team.pk).update(auto_assign=enabled, assign_cap=cap)
        team.auto_assign, team.assign_cap = enabled, cap
        chain.record(member.organization_id, "team.auto_assign", actor_id=member.pk,
                     detail={"team": team.pk, "enabled": enabled, "cap": cap})
    return True


def set_default_team(member: Member, team: Team | None) -> None:
    """Where intake of a category no team takes goes."""
    require(member, Right.TEAM_MANAGE)
    if team is not None:
        _same_org(member, team)
    with transaction.atomic():
        Organization.objects.filter(pk=member.organization_id).update(default_team=team)
        chain.record(member.organization_id, "team.default", actor_id=member.pk,
                     detail={"team": team.pk if team else None})


def add_team_member(member: Member, ring: vault.OrgVault, team: Team, other: Member) -> None:
    """Seal the team's key to ``other``'s key: only someone holding it can."""
    require(member, Right.TEAM_MANAGE)
    _same_org(member, team)
    if other.organization_id != member.organization_id or not other.is_active:
        raise TeamError(_("Choose an active member of your organization."))
    if other.role == Role.VOLUNTEER:
        raise TeamError(_("Volunteers see only the cases assigned to them and are in no team; "
                          "assign them cases instead."))
    if not other.public_key:
        raise TeamError(_("This member has not finished joining yet; add them once they have."))
    if not isinstance(ring, vault.KeyRing) or not ring.holds(team.pk):
        raise TeamError(_("Only a member of the team “%(team)s” can add someone to it: ask one "
                          "of them. An administrator outside it cannot.") % {"team": team.name})
    sealed = vault.seal(bytes(other.public_key), ring.team_private(team.pk))
    with transaction.atomic():
        if TeamKey.objects.filter(team=team, member=other).exists():
            return
        TeamKey.objects.create(team=team, member=other, sealed_private_key=sealed)
        chain.record(member.organization_id, "team.member_added", actor_id=member.pk,
                     detail={"team": team.pk, "member": other.pk})


def remove_team_member(member: Member, team: Team, other: Member) -> None:
    """Take ``other`` out of the team: their key copy goes, their sessions lose the key at
    their next request. The team's key itself is not changed (docs/threat-model.md)."""
    require(member, Right.TEAM_MANAGE)
    _same_org(member, team)
    with transaction.atomic():
        gone = TeamKey.objects.filter(team=team, member=other).delete()[0]
        if gone:
            chain.record(member.organization_id, "team.member_removed", actor_id=member.pk,
                         detail={"team": team.pk, "member": other.pk})


def teams_of(member: Member) -> list[Team]:
    return list(Team.objects.filter(keys__member=member).order_by("name"))


def team_for_category(org: Organization, category: str) -> Team | None:
    """The team intake of ``category`` goes to: the one that takes it, else the default."""
    for team in Team.objects.filter(organization=org).only("pk", "categories", "public_key"):
        if category in (team.categories or []):
            return team
    if org.default_team_id is not None:
        return Team.objects.filter(pk=org.default_team_id).first()
    return Team.objects.filter(organization=org).order_by("pk").first()


def _same_org(member: Member, team: Team) -> None:
    if team.organization_id != member.organization_id:
        raise TeamError(_("No such team."))
