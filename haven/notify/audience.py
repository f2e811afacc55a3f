"""Which cases a member may hear about: those they may read (their teams' cases, a
restricted case only if named on it, a volunteer's own), never another team's."""

from __future__ import annotations

from django.db.models import QuerySet

from haven.accounts.models import Member
from haven.accounts.rights import Right, can
from haven.cases.keys import readable_cases
from haven.cases.models import Case


def hearable_cases(member: Member) -> QuerySet[Case]:
    """The cases ``member`` may be told about (an unindexed, unheld, unerased queue)."""
    if not member.is_active or not can(member, Right.CASE_READ):
        return Case.objects.none()
    return readable_cases(member).filter(held=False, erased=False)


def may_approve_payouts(member: Member) -> bool:
    return member.is_active and can(member, Right.FUNDS_APPROVE)
