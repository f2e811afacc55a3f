"""Who may do what: one table from role to rights, read by every package.

A coordinator can read this table to know what each role may do. Pages check a
right with :func:`haven.accounts.pages.member_view` (404 otherwise: no hint that
the page exists); actions check it with :func:`require` and refuse with
:class:`NotAllowed`. Rights that are given to a person rather than a role (the
knowledge reviewer right, ``Member.can_review_knowledge``) are not in the table.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

from haven.core.errors import Refusal

from .models import Member, Role


class Right(StrEnum):
    CASE_READ = "case.read"
    CASE_WORK = "case.work"  # notes, replies, status, own assignment, deadlines, tags
    CASE_MANAGE = "case.manage"  # assign anyone, burn, audit, saved replies, retention
    FUNDS_READ = "funds.read"  # balances, reports
    FUNDS_MANAGE = "funds.manage"  # donations, imports, payout requests
    FUNDS_APPROVE = "funds.approve"  # approve another member's payout
    FUNDS_CONFIGURE = "funds.configure"  # funds, channels, the approval threshold
    KNOWLEDGE_EDIT = "knowledge.edit"  # articles and channel posts
    ORG_ADMIN = "org.admin"  # members, roles, bot, intake settings, organization
    TEAM_MANAGE = "team.manage"  # teams, their categories, who is in them (adding needs the key)


R = Right
RIGHTS: dict[str, frozenset[Right]] = {
    Role.ADMIN: frozenset({R.CASE_READ, R.CASE_WORK, R.CASE_MANAGE, R.FUNDS_READ, R.FUNDS_MANAGE,
                           R.FUNDS_CONFIGURE, R.KNOWLEDGE_EDIT, R.ORG_ADMIN,
                           R.TEAM_MANAGE}),
    Role.COORDINATOR: frozenset({R.CASE_READ, R.CASE_WORK, R.CASE_MANAGE, R.FUNDS_READ,
                                 R.FUNDS_MANAGE, R.FUNDS_APPROVE, R.KNOWLEDGE_EDIT}),
    Role.CASEWORKER: frozenset({R.CASE_READ, R.CASE_WORK}),
    Role.TREASURER: frozenset({R.CASE_READ, R.FUNDS_READ, R.FUNDS_MANAGE, R.FUNDS_APPROVE,
                               R.FUNDS_CONFIGURE}),
    Role.VIEWER: frozenset({R.CASE_READ, R.FUNDS_READ}),
    # Reads and works only the cases assigned to them (haven.cases.keys.readable_cases).
    Role.VOLUNTEER: frozenset({R.CASE_READ, R.CASE_WORK}),
}


class NotAllowed(Refusal):
    """The member's role does not allow this action."""

    def __init__(self, right: str = "", message: Any = None) -> None:
        super().__init__(str(message or _("Your role does not allow this; ask a coordinator.")))
        self.right = right


def can(member: Member | Any, right: Right) -> bool:
    """True if ``member`` is an active member whose role has ``right`` (False for anyone else)."""
    return (isinstance(member, Member) and member.is_active
            and right in RIGHTS.get(member.role, frozenset()))


def require(member: Member, right: Right, message: Any = None) -> None:
    if not can(member, right):
        raise NotAllowed(right, message)
