"""Which cases a member may read, and the keys that open them.

A case has its own key pair (``Case.public_key``): what arrives with no member
present is sealed to it, what a member writes is encrypted under its record key.
Its private key is sealed to its team (``CaseKey.team``), to named members
(restricted and volunteer-assigned cases) and to the organization's recovery key.
A case made before teams has no key of its own and opens with its team's key
(the migrated "General" team's key is the organization key). See
docs/threat-model.md, "Teams".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from haven.accounts.models import Member, Role, TeamKey
from haven.accounts.rights import Right, can
from haven.vault import CaseVault, KeyRing, NoKey, OrgVault

from .models import Case, CaseKey

__all__ = ["case_public_key", "case_vault", "open_cases", "readable_cases", "readable_q"]


def team_ids_of(member: Member) -> list[int]:
    """The teams ``member`` is in now (holds a key of)."""
    if member.role == Role.VOLUNTEER:
        return []
    return list(TeamKey.objects.filter(member=member).values_list("team_id", flat=True))


def readable_q(member: Member) -> Q:
    """A filter on Case: the cases ``member`` may read. Their teams' unrestricted cases,
    and every case whose key is sealed to them (restricted, assigned to a volunteer)."""
    if not (isinstance(member, Member) and can(member, Right.CASE_READ)):
        return Q(pk__in=[])
    own = list(CaseKey.objects.filter(member=member, case__organization_id=member.organization_id)
               .values_list("case_id", flat=True))
    teams = team_ids_of(member)
    query = Q(pk__in=own) if own else Q(pk__in=[])
    if teams:
        team_q = Q(team_id__in=teams, restricted=False)
        query = team_q | query if own else team_q
    return query


def readable_cases(member: Member) -> QuerySet[Case]:
    """The member's organization's cases that the member may read (queues, search, charts)."""
    return Case.objects.filter(Q(organization_id=member.organization_id) & readable_q(member))


def case_public_key(case: Case) -> bytes:
    """What intake seals a case's new records to: its own key, or for a case made before
    teams its team's (the organization's) key."""
    if case.public_key:
        return bytes(case.public_key)
    if case.team is not None:
        return bytes(case.team.public_key)
    return bytes(case.organization.public_key)


def _member_id(ring: OrgVault) -> int | None:
    return getattr(ring, "member_id", None)


def _sealed_rows(ring: KeyRing, case_ids: list[int]) -> dict[int, list[tuple[int | None, bool, bytes]]]:
    member_id = _member_id(ring)
    query = Q(team_id__in=list(ring.team_ids))
    if member_id is not None:
        query |= Q(member_id=member_id)
    rows: dict[int, list[tuple[int | None, bool, bytes]]] = {}
    for case_id, team_id, to_member, sealed in (
            CaseKey.objects.filter(query, case_id__in=case_ids)
            .values_list("case_id", "team_id", "member_id", "sealed_private_key")):
        rows.setdefault(case_id, []).append((team_id, to_member is not None, bytes(sealed)))
    return rows


def try_case_vault(ring: OrgVault, case: Case) -> CaseVault | None:
    """The vault of ``case`` for the holder of ``ring``, or None when nothing opens it."""
    if isinstance(ring, CaseVault):
        return ring if ring.case_id == case.pk else None
    if not isinstance(ring, KeyRing):
        # A bare organization vault (tools, older callers): opens only cases made before
        # teams under a team whose key is still the organization key.
        if case.public_key or (case.team is not None
                               and bytes(case.team.public_key) != ring.public_key):
            return None
        return CaseVault(ring.private_key, case.pk)
    cached = ring.cached_case(case.pk)
    if cached is not None:
        return cached
    try:
        if not case.public_key:
            return ring.open_case(case.pk, case.team_id, [], legacy=True)
        return ring.open_case(case.pk, case.team_id, _sealed_rows(ring, [case.pk]).get(case.pk, []),
                              legacy=False)
    except NoKey:
        return None


def case_vault(ring: OrgVault | Any, case: Case) -> CaseVault:
    """The vault of ``case``; Http404 when the member holds no key for it (as for a case
    of another organization)."""
    vault = try_case_vault(ring, case)
    if vault is None:
        raise Http404
    return vault


def open_cases(ring: OrgVault, cases: Iterable[Case]) -> dict[int, CaseVault]:
    """The vaults of the cases the ring opens, with one query for the page."""
    cases = list(cases)
    if not isinstance(ring, KeyRing):
        found = {}
        for case in cases:
            vault = try_case_vault(ring, case)
            if vault is not None:
                found[case.pk] = vault
        return found
    own = [c.pk for c in cases if c.public_key and ring.cached_case(c.pk) is None]
    rows = _sealed_rows(ring, own) if own else {}
    found = {}
    for case in cases:
        try:
            if not case.public_key:
                found[case.pk] = ring.open_case(case.pk, case.team_id, [], legacy=True)
            else:
                found[case.pk] = ring.open_case(case.pk, case.team_id, rows.get(case.pk, []),
                                                legacy=False)
        except NoKey:
            continue
    return found
