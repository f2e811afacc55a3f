"""Sample money for the demo organization: a few months of donations and payouts.

Called by ``haven demo`` once the demo members exist (see haven/demo/seed.py).
Turns the public report on, so /funds/public/demo/ has something to show.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction

from haven.accounts.models import Member
from haven.vault import OrgVault

from . import actions, ledger, reports
from .models import AccountKind, Donation, Purpose


@transaction.atomic
def seed(member: Member, vault: OrgVault) -> None:
    """Book about three months of plausible activity, once."""
    org = member.organization
    if Donation.objects.filter(organization=org).exists():
        return
    rng = random.Random(42)  # noqa: S311 - sample data, not secrets
    ch = ledger.chart(org)
    evacuation = actions.add_account(member, AccountKind.FUND, "Evacuation fund").pk
    general = next(pk for pk, a in ch.funds.items() if a.name != "Evacuation fund")
    bank = min(ch.holdings)
    actions.update_settings(member, thresholds={"EUR": 20_000, "USD": 20_000},
                            allow_negative=False, suppression_minimum=5, public_report=True)
    for month in reversed(reports.complete_months(3)):
        _month(member, vault, rng, month, (general, evacuation), bank)


def _month(member: Member, vault: OrgVault, rng: random.Random, month: datetime.date,
           funds: tuple[int, int], bank: int) -> None:
    for n in range(rng.randint(12, 20)):
        actions.record_donation(
            member, vault, day=month.replace(day=1 + n % 27), amount=rng.randint(10, 300) * 100,
            currency=rng.choice(["EUR", "EUR", "USD"]), fund_id=funds[n % 2], holding_id=bank,
            channel=rng.choice(["bank", "card", "crypto"]), reference=f"Donor {rng.randint(1, 99)}")
    for n in range(rng.randint(6, 10)):
        purpose = rng.choice([Purpose.TICKETS, Purpose.TICKETS, Purpose.DOCUMENTS, Purpose.HOUSING])
        try:
            actions.request_payout(
                member, vault, purpose=purpose, amount=rng.randint(20, 150) * 100,
                currency="EUR", fund_id=funds[1], holding_id=bank, payee="Carrier",
                day=month.replace(day=2 + n * 2))
        except ledger.WouldGoNegative:
            break
