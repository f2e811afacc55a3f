"""Who may do what with money: the funds rights of haven.accounts.rights, in words.

Administrators, treasurers and coordinators manage funds; viewers read
balances; caseworkers see only what was paid for a case, on the case page.
Payouts above the threshold are approved by a treasurer or coordinator other
than the member who asked. Anything of another organization is a 404.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _

from haven.accounts.models import Member
from haven.accounts.rights import Right, can

from .errors import NotAllowed
from .models import ImportDraft, Payout, Transaction


def can_read(member: Member) -> bool:
    return can(member, Right.FUNDS_READ)


def can_manage(member: Member) -> bool:
    return can(member, Right.FUNDS_MANAGE)


def can_approve(member: Member) -> bool:
    return can(member, Right.FUNDS_APPROVE)


def can_configure(member: Member) -> bool:
    return can(member, Right.FUNDS_CONFIGURE)


def require_manage(member: Member) -> None:
    if not can_manage(member):
        raise NotAllowed(Right.FUNDS_MANAGE,
                         _("Only an administrator, treasurer or coordinator can do this."))


def require_configure(member: Member) -> None:
    if not can_configure(member):
        raise NotAllowed(Right.FUNDS_CONFIGURE,
                         _("Only an administrator or treasurer can change the funds settings."))


def require_approve(member: Member) -> None:
    if not can_approve(member):
        raise NotAllowed(Right.FUNDS_APPROVE, _("Only a treasurer or coordinator can approve a payout."))


def same_org(member: Member, org_id: int) -> None:
    """404 for anything of another organization: no hint that it exists."""
    if member.organization_id != org_id:
        raise Http404


def access_payout(member: Member, pk: int) -> Payout:
    if not can_manage(member):
        raise Http404
    payout = Payout.objects.filter(pk=pk, organization_id=member.organization_id).first()
    if payout is None:
        raise Http404
    return payout


def access_transaction(member: Member, pk: int) -> Transaction:
    if not can_manage(member):
        raise Http404
    txn = Transaction.objects.filter(pk=pk, organization_id=member.organization_id).first()
    if txn is None:
        raise Http404
    return txn


def access_draft(member: Member, pk: int) -> ImportDraft:
    """An import waiting in the wizard: only the member who uploaded it sees it."""
    if not can_manage(member):
        raise Http404
    draft = ImportDraft.objects.filter(pk=pk, organization_id=member.organization_id,
                                       member=member).first()
    if draft is None:
        raise Http404
    return draft
