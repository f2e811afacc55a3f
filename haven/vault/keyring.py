"""A member's keys for one request: the organization's, and the teams' they hold.

Case content is under each case's own key pair (sealed to its team, to named
members and to the recovery key: see docs/threat-model.md, "Teams"). A
:class:`KeyRing` opens a case's key from the sealed copies the member may hold
(:meth:`KeyRing.open_case`); the result is a :class:`CaseVault`, an
:class:`~haven.vault.org.OrgVault` of the case's key, so records are read and
written the same way as before. The organization key stays for what is
organization-wide (funds, settings, saved replies, fingerprints).
"""

from __future__ import annotations

from collections.abc import Iterable

from .box import open_sealed
from .errors import VaultError
from .org import OrgVault


class CaseVault(OrgVault):
    """The vault of one case's key (or, for a case made before teams, of its team's key)."""

    def __init__(self, private_key: bytes, case_id: int) -> None:
        super().__init__(private_key)
        self.case_id = case_id


class NoKey(VaultError):
    """The member holds no key that opens this case or team."""


class KeyRing(OrgVault):
    """The organization key (as an OrgVault) plus the member's own key and team keys."""

    def __init__(self, org_private: bytes, member_private: bytes | None = None,
                 team_keys: dict[int, bytes] | None = None, member_id: int | None = None) -> None:
        super().__init__(org_private)
        self.member_id = member_id
        self._member_private = bytes(member_private) if member_private else None
        self._team_keys = dict(team_keys or {})
        self._teams: dict[int, OrgVault] = {}
        self._cases: dict[int, CaseVault] = {}

    @property
    def team_keys(self) -> dict[int, bytes]:
        return dict(self._team_keys)

    @property
    def team_ids(self) -> frozenset[int]:
        return frozenset(self._team_keys)

    @property
    def member_private(self) -> bytes | None:
        return self._member_private

    def holds(self, team_id: int | None) -> bool:
        return team_id is not None and team_id in self._team_keys

    def team_vault(self, team_id: int | None) -> OrgVault:
        """The vault of a team's key (its search index, its cases made before teams)."""
        if team_id is None or team_id not in self._team_keys:
            raise NoKey("the member holds no key of this team")
        if team_id not in self._teams:
            self._teams[team_id] = OrgVault(self._team_keys[team_id])
        return self._teams[team_id]

    def team_private(self, team_id: int) -> bytes:
        return self.team_vault(team_id).private_key

    def forget_case(self, case_id: int) -> None:
        self._cases.pop(case_id, None)

    def cached_case(self, case_id: int) -> CaseVault | None:
        return self._cases.get(case_id)

    def open_case(self, case_id: int, team_id: int | None,
                  sealed: Iterable[tuple[int | None, bool, bytes]], legacy: bool) -> CaseVault:
        """The vault of a case, from its sealed keys: (team id or None, sealed to this
        member?, sealed private key). ``legacy``: a case made before teams, under its team's
        key. Raise :class:`NoKey` when nothing the member holds opens it."""
        cached = self._cases.get(case_id)
        if cached is not None:
            return cached
        if legacy:
            vault = CaseVault(self.team_vault(team_id).private_key, case_id)
            self._cases[case_id] = vault
            return vault
        for sealed_team, to_member, blob in sealed:
            if to_member and self._member_private:
                key = self._member_private
            elif sealed_team is not None and sealed_team in self._team_keys:
                key = self._team_keys[sealed_team]
            else:
                continue
            try:
                private = open_sealed(key, blob)
            except VaultError:
                continue
            vault = CaseVault(private, case_id)
            self._cases[case_id] = vault
            return vault
        raise NoKey("the member holds no key of this case")
