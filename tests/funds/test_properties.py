"""Property-based tests: any sequence of valid actions keeps the books sound.

Each Hypothesis example runs inside a savepoint that is rolled back, so the
examples do not see each other's bookings.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from haven.accounts.models import Role
from haven.funds import actions, ledger
from haven.funds.errors import FundsError
from haven.funds.models import AccountKind, Entry, PayoutStatus, Purpose, Transaction
from tests.conftest import Persona, add_member
from tests.funds.conftest import fund, holding, set_thresholds, vault

CURRENCIES = ["EUR", "USD", "UAH", "USDT"]
SETTINGS = settings(max_examples=20, stateful_step_count=12, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
amounts = st.integers(min_value=1, max_value=5_000_000)


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def unbalanced_transactions() -> list[object]:
    return list(Entry.objects.values("transaction_id", "currency").annotate(total=Sum("amount"))
                .exclude(total=0))


def spendable_sums(org_id: int) -> dict[tuple[int, str], int]:
    """What each fund and each holding has, in each currency (funds' credits made positive)."""
    funds = {k: -v for k, v in ledger.entry_sums(org_id, [AccountKind.FUND]).items() if v}
    holdings = {k: v for k, v in ledger.entry_sums(org_id, [AccountKind.HOLDING]).items() if v}
    return {**funds, **holdings}


class Books(RuleBasedStateMachine):
    """Donations, payouts, approvals, exchanges, transfers and reversals in any order."""

    tina: Persona
    cora: Persona
    txns = Bundle("txns")
    waiting = Bundle("waiting")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.funds = [fund(self.tina), fund(self.tina, "Evacuation")]
        self.bank, self.cash = holding(self.tina), holding(self.tina, "Cash")
        self.expected: dict[tuple[int, str], int] = defaultdict(int)
        self.effects: dict[int, dict[tuple[int, str], int]] = {}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _book(self, txn: Transaction | None, effect: dict[tuple[int, str], int]) -> None:
        for key, delta in effect.items():
            self.expected[key] += delta
        if txn is not None:
            self.effects[txn.pk] = effect

    def _can_take(self, effect: dict[tuple[int, str], int]) -> bool:
        return all(self.expected[k] + d >= 0 for k, d in effect.items() if d < 0)

    @rule(target=txns, which=st.integers(0, 1), currency=st.sampled_from(CURRENCIES),
          amount=amounts, channel=st.sampled_from(["bank", "card", "cash", "crypto", "other"]))
    def donate(self, which: int, currency: str, amount: int, channel: str) -> int:
        donation = actions.record_donation(
            self.tina.member, vault(self.tina), day=timezone.localdate(), amount=amount,
            currency=currency, fund_id=self.funds[which], holding_id=self.bank, channel=channel)
        self._book(donation.transaction, {(self.funds[which], currency): amount,
                                          (self.bank, currency): amount})
        return donation.transaction_id

    @rule(target=txns, which=st.integers(0, 1), currency=st.sampled_from(CURRENCIES),
          amount=amounts, purpose=st.sampled_from(Purpose.values))
    def pay(self, which: int, currency: str, amount: int, purpose: str) -> int:
        effect = {(self.funds[which], currency): -amount, (self.cash, currency): -amount}
        set_thresholds(self.tina, **{currency: 10**12})
        try:
            payout = actions.request_payout(
                self.tina.member, vault(self.tina), purpose=purpose, amount=amount,
                currency=currency, fund_id=self.funds[which], holding_id=self.cash,
                payee="carrier", day=timezone.localdate())
        except ledger.WouldGoNegative:
            assert not self._can_take(effect)
            return -1
        assert self._can_take(effect) and payout.transaction is not None
        self._book(payout.transaction, effect)
        return payout.transaction.pk

    @rule(target=waiting, which=st.integers(0, 1), amount=amounts)
    def ask(self, which: int, amount: int) -> int:
        set_thresholds(self.tina, EUR=0)
        try:
            payout = actions.request_payout(
                self.tina.member, vault(self.tina), purpose="housing", amount=amount,
                currency="EUR", fund_id=self.funds[which], holding_id=self.bank,
                payee="landlord", day=timezone.localdate())
        except ledger.WouldGoNegative:
            return -1
        assert payout.status == PayoutStatus.AWAITING
        return payout.pk

    @rule(target=txns, payout_id=consumes(waiting))
    def approve(self, payout_id: int) -> int:
        if payout_id < 0:
            return -1
        payout = actions.Payout.objects.get(pk=payout_id)
        effect = {(payout.fund_id, "EUR"): -payout.amount, (self.bank, "EUR"): -payout.amount}
        try:
            paid = actions.approve_payout(self.cora.member, payout)
        except ledger.WouldGoNegative:
            assert not self._can_take(effect)
            return -1
        assert paid.transaction is not None
        self._book(paid.transaction, effect)
        return paid.transaction.pk

    @rule(target=txns, which=st.integers(0, 1), give=st.sampled_from(CURRENCIES),
          get=st.sampled_from(CURRENCIES), sold=amounts, bought=amounts)
    def exchange(self, which: int, give: str, get: str, sold: int, bought: int) -> int:
        if give == get:
            return -1
        f = self.funds[which]
        effect = {(f, give): -sold, (f, get): bought, (self.bank, give): -sold,
                  (self.cash, get): bought}
        try:
            txn = actions.exchange(self.tina.member, day=timezone.localdate(), fund_id=f,
                                   give=(self.bank, give, sold), get=(self.cash, get, bought))
        except ledger.WouldGoNegative:
            assert not self._can_take(effect)
            return -1
        self._book(txn, effect)
        return txn.pk

    @rule(target=txns, currency=st.sampled_from(CURRENCIES), amount=amounts)
    def transfer(self, currency: str, amount: int) -> int:
        source, target = self.funds
        effect = {(source, currency): -amount, (target, currency): amount}
        try:
            txn = actions.transfer(self.tina.member, day=timezone.localdate(), source_id=source,
                                   target_id=target, currency=currency, amount=amount)
        except ledger.WouldGoNegative:
            assert not self._can_take(effect)
            return -1
        self._book(txn, effect)
        return txn.pk

    @rule(txn_id=txns)
    def reverse(self, txn_id: int) -> None:
        if txn_id < 0 or Transaction.objects.filter(reverses_id=txn_id).exists():
            return
        original = Transaction.objects.get(pk=txn_id)
        effect = {k: -d for k, d in self.effects[txn_id].items()}
        before = ledger.entry_sums(self.tina.org.pk)
        try:
            actions.reverse(self.tina.member, vault(self.tina), original, "mistake")
        except ledger.WouldGoNegative:
            assert not self._can_take(effect)
            return
        self._book(None, effect)
        # Every account moved by exactly the opposite of the original's entries.
        after = ledger.entry_sums(self.tina.org.pk)
        for e in original.entries.all():
            key = (e.account_id, e.currency)
            before[key] = before.get(key, 0) - e.amount
        assert {k: v for k, v in after.items() if v} == {k: v for k, v in before.items() if v}

    @invariant()
    def every_transaction_balances(self) -> None:
        assert unbalanced_transactions() == []

    @invariant()
    def every_balance_is_the_sum_of_its_entries(self) -> None:
        assert ledger.verify(self.tina.org.pk) == []

    @invariant()
    def funds_and_holdings_match_the_model_and_never_go_negative(self) -> None:
        assert spendable_sums(self.tina.org.pk) == {k: v for k, v in self.expected.items() if v}
        assert all(v >= 0 for v in self.expected.values())

    @invariant()
    def holdings_add_up_to_the_funds(self) -> None:
        sums = ledger.entry_sums(self.tina.org.pk, [AccountKind.HOLDING, AccountKind.FUND])
        per_currency: dict[str, int] = defaultdict(int)
        for (_account, code), total in sums.items():
            per_currency[code] += total  # holdings are debits, funds credits
        assert all(v == 0 for v in per_currency.values()), per_currency


def test_any_sequence_of_valid_actions_keeps_the_books_sound(tina: Persona,
                                                             cora: Persona) -> None:
    Books.tina, Books.cora = tina, cora
    fund(tina, "Evacuation")
    run_state_machine_as_test(Books, settings=SETTINGS)


@SETTINGS
@given(amounts=st.lists(amounts, min_size=1, max_size=5), kind=st.sampled_from(
    ["donation", "payout", "exchange"]), data=st.data())
def test_a_reversal_restores_every_balance(tina: Persona, amounts: list[int], kind: str,
                                          data: st.DataObject) -> None:
    with rolled_back():
        for amount in amounts:
            actions.record_donation(tina.member, vault(tina), day=timezone.localdate(),
                                    amount=amount, currency="EUR", fund_id=fund(tina),
                                    holding_id=holding(tina), channel="bank")
        before = {k: v for k, v in ledger.entry_sums(tina.org.pk).items() if v}
        share = data.draw(st.integers(1, sum(amounts)))
        txn = _one(tina, kind, share)
        actions.reverse(tina.member, vault(tina), txn, "undo")
        after = {k: v for k, v in ledger.entry_sums(tina.org.pk).items() if v}
        assert after == before
        assert ledger.verify(tina.org.pk) == []


def _one(tina: Persona, kind: str, amount: int) -> Transaction:
    day = timezone.localdate()
    if kind == "donation":
        return actions.record_donation(tina.member, vault(tina), day=day, amount=amount,
                                       currency="UAH", fund_id=fund(tina),
                                       holding_id=holding(tina), channel="cash").transaction
    if kind == "payout":
        set_thresholds(tina, EUR=10**12)
        payout = actions.request_payout(tina.member, vault(tina), purpose="tickets",
                                        amount=amount, currency="EUR", fund_id=fund(tina),
                                        holding_id=holding(tina), payee="bus",
                                        day=day)
        assert payout.transaction is not None
        return payout.transaction
    return actions.exchange(tina.member, day=day, fund_id=fund(tina),
                            give=(holding(tina), "EUR", amount),
                            get=(holding(tina), "USD", amount + 1))


# --- approval rules -------------------------------------------------------------


@pytest.fixture
def everyone(alice: Persona, tina: Persona, cora: Persona, bob: Persona, vera: Persona,
             charlie: Persona) -> dict[str, Persona]:
    return {"alice": alice, "tina": tina, "cora": cora, "bob": bob, "vera": vera,
            "tom": add_member(alice, "tom", Role.TREASURER), "charlie": charlie,
            "theo": add_member(charlie, "theo", Role.TREASURER),
            "cody": add_member(charlie, "cody", Role.COORDINATOR)}


@SETTINGS
@given(requester=st.sampled_from(["alice", "tina", "cora", "tom"]),
       approver=st.sampled_from(["alice", "tina", "cora", "bob", "vera", "tom", "charlie",
                                 "theo", "cody"]),
       amount=st.integers(1, 10_000), when=st.dates(datetime.date(2024, 1, 1),
                                                    datetime.date(2025, 12, 31)))
def test_approval_rules_cannot_be_bypassed(everyone: dict[str, Persona], requester: str,
                                           approver: str, amount: int,
                                           when: datetime.date) -> None:
    asking, deciding = everyone[requester], everyone[approver]
    allowed = (approver != requester and deciding.org == asking.org
               and deciding.member.role in (Role.TREASURER, Role.COORDINATOR))
    with rolled_back():
        actions.record_donation(asking.member, vault(asking), day=when, amount=10_000,
                                currency="EUR", fund_id=fund(asking), holding_id=holding(asking),
                                channel="bank")
        set_thresholds(asking, EUR=0)
        payout = actions.request_payout(asking.member, vault(asking), purpose="documents",
                                        amount=amount, currency="EUR", fund_id=fund(asking),
                                        holding_id=holding(asking), payee="notary", day=when)
        try:
            actions.approve_payout(deciding.member, payout)
        except (FundsError, Http404):
            approved = False
        else:
            approved = True
        payout.refresh_from_db()
        assert approved is allowed
        assert (payout.status == PayoutStatus.PAID) is allowed
        assert Transaction.objects.filter(kind="payout").exists() is allowed
