"""Which cases a member may hear about: the one place to change when teams arrive.

Today every member who may read cases reads all of the organization's cases, so
a member hears of any of them. When teams land this becomes
``haven.cases.keys.readable_cases(member)`` and nothing else in notify changes.
"""

from __future__ import annotations

from django.db.models import QuerySet

from haven.accounts.models import Member
from haven.accounts.rights import Right, can
from haven.cases.models import Case


def hearable_cases(member: Member) -> QuerySet[Case]:
    """The cases ``member`` may be told about (an unindexed, unheld, unerased queue)."""
    if not member.is_active or not can(member, Right.CASE_READ):
        return Case.objects.none()
    return Case.objects.filter(organization_id=member.organization_id, held=False, erased=False)


def may_approve_payouts(member: Member) -> bool:
    return member.is_active and can(member, Right.FUNDS_APPROVE)
