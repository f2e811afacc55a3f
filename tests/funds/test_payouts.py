from __future__ import annotations

import pytest
from django.http import Http404

from haven.audit.models import AuditEntry
from haven.funds import actions, ledger
from haven.funds.case import payouts_for_case
from haven.funds.errors import FundsError, NotAllowed
from haven.funds.models import PayoutStatus, Transaction
from tests.cases.conftest import make_case
from tests.conftest import Persona, add_member
from tests.funds.conftest import donate, fund_balance, pay, set_thresholds, vault


def test_a_payout_within_the_threshold_is_booked_at_once(tina: Persona) -> None:
    donate(tina, 50_000)
    set_thresholds(tina, EUR=20_000)
    payout = pay(tina, 20_000)
    assert payout.status == PayoutStatus.PAID and payout.transaction is not None
    assert fund_balance(tina) == 30_000


def test_a_payout_above_the_threshold_waits_for_approval(tina: Persona, cora: Persona) -> None:
    donate(tina, 50_000)
    set_thresholds(tina, EUR=20_000)
    payout = pay(tina, 20_001)
    assert payout.status == PayoutStatus.AWAITING and payout.transaction is None
    assert fund_balance(tina) == 50_000
    approved = actions.approve_payout(cora.member, payout)
    assert approved.status == PayoutStatus.PAID and approved.decided_by == cora.member
    assert fund_balance(tina) == 29_999
    assert AuditEntry.objects.filter(action="funds.payout.approved", actor_id=cora.member.pk).exists()


def test_a_currency_without_a_threshold_always_needs_approval(tina: Persona) -> None:
    donate(tina, 5_000, "GEL")
    set_thresholds(tina, EUR=20_000)
    assert pay(tina, 1, "GEL").status == PayoutStatus.AWAITING


def test_nobody_approves_their_own_payout(tina: Persona) -> None:
    donate(tina, 50_000)
    set_thresholds(tina, EUR=0)
    payout = pay(tina, 100)
    with pytest.raises(FundsError, match="different"):
        actions.approve_payout(tina.member, payout)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.AWAITING and not Transaction.objects.filter(
        kind="payout").exists()


@pytest.mark.parametrize("role", ["admin", "caseworker", "viewer"])
def test_only_treasurers_and_coordinators_approve(alice: Persona, tina: Persona, role: str) -> None:
    donate(tina, 50_000)
    set_thresholds(tina, EUR=0)
    payout = pay(tina, 100)
    other = alice if role == "admin" else add_member(alice, f"other-{role}", role)
    with pytest.raises(NotAllowed):
        actions.approve_payout(other.member, payout)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.AWAITING


def test_another_organization_cannot_approve(tina: Persona, charlie: Persona) -> None:
    donate(tina, 50_000)
    set_thresholds(tina, EUR=0)
    payout = pay(tina, 100)
    treasurer_elsewhere = add_member(charlie, "theo", "treasurer")
    with pytest.raises(Http404):
        actions.approve_payout(treasurer_elsewhere.member, payout)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.AWAITING


def test_a_payout_is_approved_only_once(tina: Persona, cora: Persona) -> None:
    donate(tina, 50_000)
    set_thresholds(tina, EUR=0)
    payout = pay(tina, 100)
    actions.approve_payout(cora.member, payout)
    with pytest.raises(FundsError, match="already decided"):
        actions.approve_payout(cora.member, payout)
    assert Transaction.objects.filter(kind="payout").count() == 1


def test_approval_checks_the_fund_again(tina: Persona, cora: Persona) -> None:
    donate(tina, 1_000)
    set_thresholds(tina, EUR=500)
    waiting = pay(tina, 800)
    pay(tina, 500)
    with pytest.raises(ledger.WouldGoNegative):
        actions.approve_payout(cora.member, waiting)
    assert fund_balance(tina) == 500


def test_a_request_the_fund_cannot_pay_is_refused_at_once(tina: Persona) -> None:
    donate(tina, 1_000)
    set_thresholds(tina, EUR=0)
    with pytest.raises(ledger.WouldGoNegative):
        pay(tina, 1_001)


def test_a_declined_payout_moves_no_money(tina: Persona, cora: Persona) -> None:
    donate(tina, 5_000)
    set_thresholds(tina, EUR=0)
    payout = pay(tina, 1_000)
    actions.decline_payout(cora.member, payout)
    with pytest.raises(FundsError):
        actions.approve_payout(cora.member, payout)
    assert fund_balance(tina) == 5_000


def test_a_caseworker_cannot_pay_out(tina: Persona, bob: Persona) -> None:
    with pytest.raises(NotAllowed):
        pay(bob, 100)


def test_a_payout_for_a_case_shows_on_the_case(tina: Persona, bob: Persona) -> None:
    case = make_case(tina)
    donate(tina, 50_000)
    pay(tina, 4_200, case=case, payee="Автобус Ростов")
    shown = payouts_for_case(bob.member, bob.vault(), case)
    assert [(p.amount, p.currency, p.payee, p.paid) for p in shown] == [
        ("42.00", "EUR", "Автобус Ростов", True)]
    entry = AuditEntry.objects.get(action="funds.payout.paid")
    assert entry.case_id == case.pk


def test_another_organization_sees_no_payout_of_a_case(tina: Persona, charlie: Persona) -> None:
    case = make_case(tina)
    donate(tina, 50_000)
    pay(tina, 100, case=case)
    assert payouts_for_case(charlie.member, charlie.vault(), case) == []


def test_a_payout_cannot_name_another_organizations_case(tina: Persona, charlie: Persona) -> None:
    foreign = make_case(charlie)
    donate(tina, 50_000)
    with pytest.raises(Http404):
        pay(tina, 100, case=foreign)


def test_the_payee_is_stored_only_encrypted(tina: Persona) -> None:
    donate(tina, 50_000)
    payout = pay(tina, 100, payee="Мария Иванова")
    assert "Мария".encode() not in bytes(payout.payee)
    assert vault(tina).decrypt_text(bytes(payout.payee)) == "Мария Иванова"
