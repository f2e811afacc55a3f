"""Who may do what with cases: the rights of the one table, and the access-checked lookup."""

from __future__ import annotations

from django.http import Http404

from haven.accounts.models import Member
from haven.accounts.rights import NotAllowed, Right, can, require

from .keys import readable_cases
from .models import Case

__all__ = ["MANAGE", "READ", "WORK", "NotAllowed", "access_case_by_number", "can", "require"]

# The cases' rights, named as the cases code has always named them; the table is
# haven.accounts.rights.RIGHTS.
READ = Right.CASE_READ
WORK = Right.CASE_WORK  # notes, replies, status, own assignment, deadlines, tags
MANAGE = Right.CASE_MANAGE  # assign anyone, burn, audit, saved replies, retention


def access_case_by_number(member: Member, number: int) -> Case:
    """The member's organization's case if the member may read it (their team's, or sealed
    to them), or 404 whether it exists elsewhere, in another team, or not at all."""
    if not can(member, READ):
        raise Http404
    case = readable_cases(member).filter(number=number).first()
    if case is None:
        raise Http404
    return case
