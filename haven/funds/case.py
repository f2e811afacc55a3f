"""What was paid for a case, for the desk's case page.

Include ``funds/case_payouts.html`` with ``payouts`` (from
:func:`payouts_for_case`) and ``case`` in the context.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from haven.accounts.models import Member
from haven.cases.access import READ, can
from haven.cases.models import Case
from haven.vault import OrgVault

from . import money
from .access import can_manage
from .models import Payout, PayoutStatus, Purpose


@dataclass(frozen=True)
class CasePayout:
    pk: int
    date: datetime.date
    purpose: str
    amount: str  # formatted, with the currency's decimals
    currency: str
    status: str
    status_label: str
    payee: str
    reversed: bool

    @property
    def paid(self) -> bool:
        return self.status == PayoutStatus.PAID and not self.reversed


def payouts_for_case(member: Member, vault: OrgVault, case: Case) -> list[CasePayout]:
    """The case's payouts, newest first; empty for a member who may not read the case.

    The payee is decrypted: whoever reads the case page already reads the case
    (and that reading is audited by the desk).
    """
    if not can(member, READ) or case.organization_id != member.organization_id:
        return []
    rows = (Payout.objects.filter(organization_id=member.organization_id, case=case)
            .select_related("transaction__reversed_by").order_by("-requested_at", "-pk"))
    found = []
    for p in rows:
        reversed_ = p.transaction is not None and hasattr(p.transaction, "reversed_by")
        found.append(CasePayout(
            pk=p.pk, date=p.date, purpose=str(Purpose(p.purpose).label),
            amount=money.format_amount(p.amount, p.currency), currency=p.currency,
            status=p.status, status_label=str(PayoutStatus(p.status).label),
            payee=vault.decrypt_text(bytes(p.payee)), reversed=reversed_))
    return found


def may_pay_out(member: Member) -> bool:
    """Whether to show the "Pay out for this case" link."""
    return can_manage(member)
