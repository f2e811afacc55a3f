"""Who may do what with cases, checked in one place."""

from __future__ import annotations

from django.http import Http404

from haven.accounts.models import Member, Role

from .models import Case

READ = "read"
WORK = "work"  # notes, replies, status, own assignment, deadlines, tags
MANAGE = "manage"  # assign anyone, burn, audit, saved replies, retention

RIGHTS: dict[str, set[str]] = {
    Role.ADMIN: {READ, WORK, MANAGE},
    Role.COORDINATOR: {READ, WORK, MANAGE},
    Role.CASEWORKER: {READ, WORK},
    Role.TREASURER: {READ},
    Role.VIEWER: {READ},
}


class NotAllowed(Exception):
    """The member's role does not allow this action."""


def can(member: Member, right: str) -> bool:
    return member.is_active and right in RIGHTS.get(member.role, set())


def require(member: Member, right: str) -> None:
    if not can(member, right):
        raise NotAllowed(right)


def access_case_by_number(member: Member, number: int) -> Case:
    """The member's organization's case, or 404 whether it exists elsewhere or not."""
    if not can(member, READ):
        raise Http404
    case = Case.objects.filter(organization_id=member.organization_id, number=number).first()
    if case is None:
        raise Http404
    return case
