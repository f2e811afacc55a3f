from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from haven.audit.chain import verify as verify_audit
from haven.audit.models import AuditEntry
from haven.funds import actions, ledger, money
from haven.funds.errors import FundsError, NotAllowed
from haven.funds.models import AccountKind, Balance, Entry, Payout, Transaction, TxKind
from tests.conftest import Persona
from tests.funds.conftest import donate, fund, fund_balance, holding, pay, vault


def _entries_balanced() -> bool:
    totals: dict[tuple[int, str], int] = {}
    for txn, cur, amount in Entry.objects.values_list("transaction_id", "currency", "amount"):
        totals[(txn, cur)] = totals.get((txn, cur), 0) + amount
    return all(v == 0 for v in totals.values())


def test_a_donation_is_four_balanced_entries(tina: Persona) -> None:
    donation = donate(tina, 12_345, "EUR", channel="card")
    entries = list(donation.transaction.entries.select_related("account"))
    assert sorted((e.account.kind, e.amount) for e in entries) == sorted([
        (AccountKind.HOLDING, 12_345), (AccountKind.INCOME, -12_345),
        (AccountKind.ALLOCATION, 12_345), (AccountKind.FUND, -12_345)])
    assert _entries_balanced()
    assert fund_balance(tina) == 12_345
    assert not ledger.verify(tina.org.pk)


def test_an_unbalanced_transaction_is_refused_and_nothing_is_written(tina: Persona) -> None:
    ch = ledger.chart(tina.org)
    legs = ledger.donation_legs(ch, ch.fund(fund(tina)), ch.holding(holding(tina)), "bank",
                                "EUR", 500)
    legs[0] = ledger.Leg(legs[0].account, "EUR", 501)
    before = Entry.objects.count()
    with pytest.raises(ledger.Unbalanced, match="EUR"), transaction.atomic():
        ledger.post(tina.org, TxKind.DONATION, timezone.localdate(), legs)
    assert Entry.objects.count() == before
    assert not Transaction.objects.exists()


def test_entries_in_two_currencies_must_balance_in_each(tina: Persona) -> None:
    ch = ledger.chart(tina.org)
    bank = ch.holding(holding(tina))
    assert ch.exchange is not None
    legs = [ledger.Leg(bank, "EUR", -100), ledger.Leg(ch.exchange, "USD", 100)]
    with pytest.raises(ledger.Unbalanced), transaction.atomic():
        ledger.post(tina.org, TxKind.EXCHANGE, timezone.localdate(), legs)


@pytest.mark.parametrize("bad", [1.5, 0, True])
def test_amounts_must_be_whole_minor_units(tina: Persona, bad: object) -> None:
    ch = ledger.chart(tina.org)
    bank, f = ch.holding(holding(tina)), ch.fund(fund(tina))
    legs = [ledger.Leg(bank, "EUR", bad), ledger.Leg(f, "EUR", bad)]  # type: ignore[arg-type]
    with pytest.raises(ledger.LedgerError), transaction.atomic():
        ledger.post(tina.org, TxKind.TRANSFER, timezone.localdate(), legs)


def test_an_unknown_currency_is_refused(tina: Persona) -> None:
    with pytest.raises(money.UnknownCurrency):
        donate(tina, 100, "XYZ")
    assert not Entry.objects.exists()


def test_a_negative_or_zero_donation_is_refused(tina: Persona) -> None:
    for amount in (-100, 0):
        with pytest.raises(FundsError, match="more than zero"):
            donate(tina, amount)
    assert not Entry.objects.exists()


def test_a_donation_in_the_future_is_refused(tina: Persona) -> None:
    with pytest.raises(FundsError, match="future"):
        donate(tina, day=timezone.localdate() + datetime.timedelta(days=5))


def test_the_database_refuses_to_change_or_delete_entries(tina: Persona) -> None:
    entry = donate(tina).transaction.entries.first()
    assert entry is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=entry.transaction_id).update(date="2001-01-01")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE funds_entry SET amount = 0")
    entry.refresh_from_db()
    assert entry.amount != 1 and Entry.objects.count() == 4


def test_a_reversal_restores_every_balance(tina: Persona) -> None:
    donate(tina, 50_000)
    before = ledger.entry_sums(tina.org.pk)
    payout = pay(tina, 7_000)
    assert payout.transaction is not None
    actions.reverse(tina.member, vault(tina), payout.transaction, "wrong family")
    after = ledger.entry_sums(tina.org.pk)
    assert {k: v for k, v in after.items() if v} == {k: v for k, v in before.items() if v}
    assert not ledger.verify(tina.org.pk)


def test_a_transaction_is_reversed_once_and_reversals_are_not_reversed(tina: Persona) -> None:
    txn = donate(tina).transaction
    reversal = actions.reverse(tina.member, vault(tina), txn, "typo")
    with pytest.raises(FundsError, match="already"):
        actions.reverse(tina.member, vault(tina), txn, "again")
    with pytest.raises(FundsError, match="cannot itself"):
        actions.reverse(tina.member, vault(tina), reversal, "undo")
    assert vault(tina).decrypt_text(bytes(reversal.reason or b"")) == "typo"


def test_a_reversal_needs_a_reason_and_the_right_role(alice: Persona, bob: Persona,
                                                       tina: Persona) -> None:
    txn = donate(tina).transaction
    with pytest.raises(FundsError):
        actions.reverse(tina.member, vault(tina), txn, "   ")
    with pytest.raises(NotAllowed):
        actions.reverse(bob.member, bob.vault(), txn, "mine")
    assert not Transaction.objects.filter(reverses=txn).exists()


def test_a_fund_cannot_go_negative_unless_allowed(tina: Persona) -> None:
    donate(tina, 1_000)
    with pytest.raises(ledger.WouldGoNegative, match="holds only"):
        pay(tina, 1_001)
    assert fund_balance(tina) == 1_000
    settings_row = ledger.fund_settings(tina.org)
    settings_row.allow_negative = True
    settings_row.save()
    pay(tina, 1_500)
    assert fund_balance(tina) == -500


def test_a_holding_cannot_pay_more_than_it_has_unless_allowed(tina: Persona) -> None:
    donate(tina, 5_000)  # into the bank account
    cash = holding(tina, "Cash")
    with pytest.raises(ledger.WouldGoNegative, match=r"Cash holds only 0\.00 EUR; this needs 30\.00") \
            as refused:
        actions.request_payout(tina.member, vault(tina), purpose="tickets", amount=3_000,
                               currency="EUR", fund_id=fund(tina), holding_id=cash, payee="Bus",
                               day=timezone.localdate())
    assert "another holding" in str(refused.value)
    assert fund_balance(tina) == 5_000 and not Payout.objects.exists()
    # Moving the money into the cash box first makes the same payout go through.
    actions.transfer(tina.member, day=timezone.localdate(), source_id=holding(tina),
                     target_id=cash, currency="EUR", amount=3_000)
    actions.request_payout(tina.member, vault(tina), purpose="tickets", amount=3_000,
                           currency="EUR", fund_id=fund(tina), holding_id=cash, payee="Bus",
                           day=timezone.localdate())
    assert fund_balance(tina) == 2_000 and ledger.entry_sums(tina.org.pk).get((cash, "EUR"), 0) == 0
    settings_row = ledger.fund_settings(tina.org)
    settings_row.allow_negative = True
    settings_row.save()
    actions.request_payout(tina.member, vault(tina), purpose="tickets", amount=1_000,
                           currency="EUR", fund_id=fund(tina), holding_id=cash, payee="Bus",
                           day=timezone.localdate())
    assert ledger.entry_sums(tina.org.pk)[(cash, "EUR")] == -1_000


def test_reversing_a_spent_donation_is_refused(tina: Persona) -> None:
    txn = donate(tina, 1_000).transaction
    pay(tina, 800)
    with pytest.raises(ledger.WouldGoNegative):
        actions.reverse(tina.member, vault(tina), txn, "bounced")
    assert fund_balance(tina) == 200


def test_an_exchange_books_both_sides_and_the_rate(tina: Persona) -> None:
    donate(tina, 10_000, "EUR")
    bank = holding(tina)
    txn = actions.exchange(tina.member, day=timezone.localdate(), fund_id=fund(tina),
                           give=(bank, "EUR", 10_000), get=(holding(tina, "Cash"), "USD", 10_850))
    assert str(txn.rate) == "1.0850000000"
    assert fund_balance(tina, "EUR") == 0 and fund_balance(tina, "USD") == 10_850
    assert _entries_balanced() and not ledger.verify()


def test_an_exchange_needs_two_currencies_and_enough_money(tina: Persona) -> None:
    donate(tina, 1_000, "EUR")
    bank = holding(tina)
    with pytest.raises(FundsError, match="two different"):
        actions.exchange(tina.member, day=timezone.localdate(), fund_id=fund(tina),
                         give=(bank, "EUR", 100), get=(bank, "EUR", 100))
    with pytest.raises(ledger.WouldGoNegative):
        actions.exchange(tina.member, day=timezone.localdate(), fund_id=fund(tina),
                         give=(bank, "EUR", 2_000), get=(bank, "USD", 2_100))


def test_a_transfer_moves_money_between_funds(tina: Persona) -> None:
    donate(tina, 3_000)
    evacuation = fund(tina, "Evacuation")
    actions.transfer(tina.member, day=timezone.localdate(), source_id=fund(tina),
                     target_id=evacuation, currency="EUR", amount=1_000)
    assert fund_balance(tina) == 2_000 and fund_balance(tina, fund_name="Evacuation") == 1_000
    with pytest.raises(FundsError):
        actions.transfer(tina.member, day=timezone.localdate(), source_id=fund(tina),
                         target_id=holding(tina), currency="EUR", amount=1)


def test_holdings_always_add_up_to_the_funds(tina: Persona) -> None:
    donate(tina, 5_000)
    donate(tina, 700, "UAH")
    pay(tina, 1_200)
    sums = ledger.entry_sums(tina.org.pk)
    kinds = dict(ledger.Account.objects.values_list("pk", "kind"))
    for code in ("EUR", "UAH"):
        held = sum(v for (pk, c), v in sums.items() if c == code and kinds[pk] == "holding")
        owed = -sum(v for (pk, c), v in sums.items() if c == code and kinds[pk] == "fund")
        assert held == owed


def test_verify_finds_a_cached_balance_that_drifted(tina: Persona,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    donate(tina, 5_000)
    call_command("funds", "verify")
    assert "every balance" in capsys.readouterr().out
    Balance.objects.filter(account_id=fund(tina)).update(amount=-1)
    assert ledger.verify(tina.org.pk)
    with pytest.raises(SystemExit) as exit_info:
        call_command("funds", "verify", "--org", "first")
    assert exit_info.value.code == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_verify_finds_references_a_constraint_would_have_caught(tina: Persona,
                                                                charlie: Persona) -> None:
    from haven.funds import bulk

    txn = donate(tina, 5_000).transaction
    foreign = ledger.chart(charlie.org).fund(fund(charlie))
    with transaction.atomic():
        bulk.insert_rows(Entry, ["transaction", "organization", "account", "currency", "amount",
                                 "date"],
                         [(txn.pk, tina.org.pk, foreign.pk, "EUR", 1, bulk.db_date(txn.date)),
                          (txn.pk, tina.org.pk, 10**9, "EUR", -1, bulk.db_date(txn.date))])
    found = " ".join(str(p) for p in ledger.verify(tina.org.pk))
    assert "another organization's account" in found and "has no account" in found


def test_accounts_cannot_be_deleted_even_unused(tina: Persona) -> None:
    from django.db.models.deletion import ProtectedError

    unused = holding(tina, "Crypto wallet")  # no entries: only the database stops this
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        ledger.Account.objects.filter(pk=unused).delete()
    assert not isinstance(info.value, ProtectedError)
    assert ledger.Account.objects.filter(pk=unused).exists()


def test_every_ledger_action_writes_an_audit_entry(tina: Persona) -> None:
    donate(tina, 5_000)
    payout = pay(tina, 1_000)
    assert payout.transaction is not None
    actions.reverse(tina.member, vault(tina), payout.transaction, "wrong amount")
    actions.exchange(tina.member, day=timezone.localdate(), fund_id=fund(tina),
                     give=(holding(tina), "EUR", 100), get=(holding(tina), "USD", 110))
    actions.add_account(tina.member, AccountKind.FUND, "Evacuation")
    actions_seen = set(AuditEntry.objects.filter(organization=tina.org)
                       .values_list("action", flat=True))
    assert {"funds.donation", "funds.payout.paid", "funds.reversal", "funds.exchange",
            "funds.account"} <= actions_seen
    details = " ".join(str(d) for d in AuditEntry.objects.values_list("detail", flat=True))
    assert "Bus company" not in details and "wrong amount" not in details
    assert verify_audit(tina.org.pk) is None


def test_a_fund_name_is_unique_whatever_the_case(tina: Persona) -> None:
    actions.add_account(tina.member, AccountKind.FUND, "Evacuation")
    with pytest.raises(FundsError, match="already"):
        actions.add_account(tina.member, AccountKind.FUND, "evacuation")
