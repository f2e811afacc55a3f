"""Double-entry posting, balances, and their verification.

Every movement of money is booked as two balanced halves in one transaction:

* the money side: a holding (bank, cash, wallet) against income by channel,
  an expense by purpose, or the exchange account;
* the fund side: the fund against the organization's allocation account.

So holdings, income, expenses and funds are all plain sums of entries, each
transaction sums to zero in every currency, and in every currency the holdings
add up to the funds. Entries are never changed; :func:`reversal_legs` undoes a
transaction with a new one. The cached :class:`Balance` rows are updated in the
same database transaction as the entries and checked by :func:`verify`.

Callers are the actions layer (:mod:`haven.funds.actions`), which checks rights
and writes the audit entry in the same transaction.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction as db_transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Member, Organization

from . import bulk, money
from .errors import FundsError
from .models import (
    Account,
    AccountKind,
    Balance,
    Channel,
    Donation,
    Entry,
    FundSettings,
    Purpose,
    Transaction,
    TxKind,
)

Key = tuple[int, str]  # (account id, currency)


class LedgerError(FundsError):
    """A posting the books cannot take; the message says what to do instead."""


class Unbalanced(LedgerError):
    pass


class WouldGoNegative(LedgerError):
    pass


@dataclass(frozen=True)
class Leg:
    """One side of a transaction before it is written: debit positive, credit negative."""

    account: Account
    currency: str
    amount: int


@dataclass
class Chart:
    """An organization's accounts, by role."""

    income: dict[str, Account] = field(default_factory=dict)  # by channel
    expense: dict[str, Account] = field(default_factory=dict)  # by purpose
    funds: dict[int, Account] = field(default_factory=dict)
    holdings: dict[int, Account] = field(default_factory=dict)
    exchange: Account | None = None
    allocation: Account | None = None

    def fund(self, pk: int | None) -> Account:
        if pk is None or pk not in self.funds:
            raise LedgerError(_("Choose one of your organization's funds."))
        return self.funds[pk]

    def holding(self, pk: int | None) -> Account:
        if pk is None or pk not in self.holdings:
            raise LedgerError(_("Choose one of your organization's holdings."))
        return self.holdings[pk]


def _system_accounts(org: Organization) -> list[Account]:
    made = [Account(organization=org, kind=AccountKind.INCOME, code=c) for c in Channel.values]
    made += [Account(organization=org, kind=AccountKind.EXPENSE, code=p) for p in Purpose.values]
    made += [Account(organization=org, kind=AccountKind.EXCHANGE, code="exchange"),
             Account(organization=org, kind=AccountKind.ALLOCATION, code="allocation")]
    return made


def _starter_accounts(org: Organization) -> list[Account]:
    """A fund and three holdings, so a new organization can record a donation at once."""
    names = [(AccountKind.FUND, _("General fund")), (AccountKind.HOLDING, _("Bank account")),
             (AccountKind.HOLDING, _("Cash")), (AccountKind.HOLDING, _("Crypto wallet"))]
    return [Account(organization=org, kind=kind, name=name) for kind, name in names]


def chart(org: Organization) -> Chart:
    """The organization's accounts; creates the system accounts on first use."""
    accounts = list(Account.objects.filter(organization=org))
    if not any(a.kind == AccountKind.ALLOCATION for a in accounts):
        starters = [] if any(a.kind == AccountKind.FUND for a in accounts) else _starter_accounts(org)
        Account.objects.bulk_create(_system_accounts(org) + starters, ignore_conflicts=True)
        accounts = list(Account.objects.filter(organization=org))
    found = Chart()
    for account in accounts:
        if account.kind == AccountKind.INCOME:
            found.income[account.code] = account
        elif account.kind == AccountKind.EXPENSE:
            found.expense[account.code] = account
        elif account.kind == AccountKind.FUND:
            found.funds[account.pk] = account
        elif account.kind == AccountKind.HOLDING:
            found.holdings[account.pk] = account
        elif account.kind == AccountKind.EXCHANGE:
            found.exchange = account
        else:
            found.allocation = account
    return found


def fund_settings(org: Organization | int) -> FundSettings:
    org_id = org if isinstance(org, int) else org.pk
    row, _created = FundSettings.objects.get_or_create(organization_id=org_id)
    return row


# --- building transactions ----------------------------------------------------


def donation_legs(ch: Chart, fund: Account, holding: Account, channel: str,
                  currency: str, amount: int) -> list[Leg]:
    assert ch.allocation is not None  # noqa: S101 - chart() always makes it
    return [Leg(holding, currency, amount), Leg(ch.income[channel], currency, -amount),
            Leg(ch.allocation, currency, amount), Leg(fund, currency, -amount)]


def payout_legs(ch: Chart, fund: Account, holding: Account, purpose: str,
                currency: str, amount: int) -> list[Leg]:
    assert ch.allocation is not None  # noqa: S101
    return [Leg(ch.expense[purpose], currency, amount), Leg(holding, currency, -amount),
            Leg(fund, currency, amount), Leg(ch.allocation, currency, -amount)]


def exchange_legs(ch: Chart, fund: Account, give: tuple[Account, str, int],
                  get: tuple[Account, str, int]) -> list[Leg]:
    """Sell ``give`` (holding, currency, amount) for ``get``, both inside one fund."""
    assert ch.exchange is not None and ch.allocation is not None  # noqa: S101
    (from_holding, from_cur, from_amt), (to_holding, to_cur, to_amt) = give, get
    return [Leg(from_holding, from_cur, -from_amt), Leg(ch.exchange, from_cur, from_amt),
            Leg(fund, from_cur, from_amt), Leg(ch.allocation, from_cur, -from_amt),
            Leg(ch.exchange, to_cur, -to_amt), Leg(to_holding, to_cur, to_amt),
            Leg(fund, to_cur, -to_amt), Leg(ch.allocation, to_cur, to_amt)]


def transfer_legs(source: Account, target: Account, currency: str, amount: int) -> list[Leg]:
    """Move money between two funds, or between two holdings, in one currency."""
    # A fund gives with a debit, a holding gives with a credit.
    give = amount if source.kind == AccountKind.FUND else -amount
    return [Leg(source, currency, give), Leg(target, currency, -give)]


def reversal_legs(original: Transaction) -> list[Leg]:
    """The entries of ``original`` with their signs turned."""
    entries = original.entries.select_related("account").order_by("pk")
    return [Leg(e.account, e.currency, -e.amount) for e in entries]


def check_legs(org_id: int, legs: Sequence[Leg]) -> None:
    """Refuse a transaction that is empty, malformed or does not balance per currency."""
    if len(legs) < 2:
        raise Unbalanced(_("A transaction needs at least two entries."))
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        money.currency(leg.currency)
        if type(leg.amount) is not int or leg.amount == 0:
            raise LedgerError(_("Each entry needs a whole, non-zero number of minor units."))
        if leg.account.organization_id != org_id:
            raise LedgerError(_("Every account of a transaction must be your organization's."))
        totals[leg.currency] += leg.amount
    for code, total in sorted(totals.items()):
        if total:
            raise Unbalanced(_("The entries in %(code)s do not balance: they are off by "
                               "%(diff)s. Nothing was written.")
                             % {"code": code, "diff": money.plain(total, code)})


# --- posting ------------------------------------------------------------------


def post(org: Organization, kind: str, day: datetime.date, legs: Sequence[Leg], *,
         by: Member | None = None, reverses: Transaction | None = None,
         rate: Decimal | None = None, reason: bytes | None = None) -> Transaction:
    """Write one balanced transaction and update the cached balances.

    Must run inside the caller's database transaction (with its audit entry).
    Raises :class:`LedgerError` and writes nothing when the legs are refused.
    """
    _require_atomic()
    check_legs(org.pk, legs)
    txn = Transaction.objects.create(organization=org, kind=kind, date=day, created_by=by,
                                     reverses=reverses, rate=rate, reason=reason)
    Entry.objects.bulk_create(
        Entry(transaction=txn, organization=org, account=leg.account, currency=leg.currency,
              amount=leg.amount, date=day) for leg in legs)
    apply_deltas(org.pk, _deltas(legs), {leg.account.pk: leg.account for leg in legs})
    return txn


@dataclass(slots=True)
class NewDonation:
    """One donation for :func:`post_donations`; ``amount`` in minor units, positive."""

    day: datetime.date
    fund_id: int
    holding_id: int
    channel: str
    currency: str
    amount: int


def post_donations(org: Organization, ch: Chart, rows: Sequence[NewDonation], *,
                   by: Member | None = None) -> list[int]:
    """Write many donations at once (imports); returns their transaction ids in order.

    The same four entries as :func:`donation_legs` per donation, balanced by
    construction, written with :mod:`haven.funds.bulk` so 100,000 donations
    take seconds, not minutes. Cached balances are updated once for the lot.
    """
    _require_atomic()
    assert ch.allocation is not None  # noqa: S101 - chart() always makes it
    alloc, income = ch.allocation.pk, {code: a.pk for code, a in ch.income.items()}
    for row in rows:
        _check_donation(ch, row)
    ids = bulk.reserve_ids(Transaction, len(rows))
    created, by_id = bulk.db_datetime(timezone.now()), by.pk if by else None
    days = bulk.db_dates([row.day for row in rows])
    bulk.insert_rows(Transaction, ["id", "organization", "kind", "date", "created", "created_by"],
                     ((pk, org.pk, TxKind.DONATION, day, created, by_id)
                      for pk, day in zip(ids, days, strict=True)))
    bulk.insert_rows(
        Entry, ["transaction", "organization", "account", "currency", "amount", "date"],
        ((pk, org.pk, account, r.currency, sign * r.amount, day)
         for pk, day, r in zip(ids, days, rows, strict=True)
         for account, sign in ((r.holding_id, 1), (income[r.channel], -1), (alloc, 1),
                               (r.fund_id, -1))))
    per_kind: dict[tuple[int, int, str, str], int] = defaultdict(int)
    for r in rows:
        per_kind[(r.holding_id, r.fund_id, r.channel, r.currency)] += r.amount
    deltas: dict[Key, int] = defaultdict(int)
    for (holding_id, fund_id, channel, currency), total in per_kind.items():
        for account, sign in ((holding_id, 1), (income[channel], -1), (alloc, 1), (fund_id, -1)):
            deltas[(account, currency)] += sign * total
    apply_deltas(org.pk, deltas, _by_id(ch))
    return ids


def _check_donation(ch: Chart, row: NewDonation) -> None:
    if type(row.amount) is not int or row.amount <= 0:
        raise LedgerError(_("A donation must be a positive amount."))
    if row.currency not in money.CURRENCIES:
        money.currency(row.currency)  # raises with the message
    if row.fund_id not in ch.funds or row.holding_id not in ch.holdings:
        ch.fund(row.fund_id)
        ch.holding(row.holding_id)
    if row.channel not in ch.income:
        raise LedgerError(_("Choose one of the listed channels."))


def _by_id(ch: Chart) -> dict[int, Account]:
    every = [*ch.income.values(), *ch.expense.values(), *ch.funds.values(),
             *ch.holdings.values(), ch.exchange, ch.allocation]
    return {a.pk: a for a in every if a is not None}


def _deltas(legs: Iterable[Leg]) -> dict[Key, int]:
    sums: dict[Key, int] = defaultdict(int)
    for leg in legs:
        sums[(leg.account.pk, leg.currency)] += leg.amount
    return sums


# Money that is either there or not: a fund (what donors gave for a purpose) and a
# holding (a bank account, a cash box, a wallet) cannot give more than they hold,
# unless the organization allows it (an advance, an overdraft).
SPENDABLE = (AccountKind.FUND, AccountKind.HOLDING)


def short_of(account: Account, currency: str, have: int, need: int) -> str:
    """The refusal a treasurer reads when ``account`` holds ``have`` and ``need`` is asked."""
    values = {"account": account.label, "code": currency,
              "have": money.format_amount(have, currency),
              "need": money.format_amount(need, currency)}
    if account.kind == AccountKind.HOLDING:
        return _("%(account)s holds only %(have)s %(code)s; this needs %(need)s. Record the "
                 "money coming in or a transfer from another holding first, or pay from "
                 "another holding.") % values
    return _("%(account)s holds only %(have)s %(code)s; this needs %(need)s. Record the "
             "donation first, or let an administrator allow negative balances.") % values


def apply_deltas(org_id: int, deltas: dict[Key, int], accounts: dict[int, Account]) -> None:
    """Add ``deltas`` to the cached balances; refuse to take a fund or a holding below zero.

    The balance rows are locked in a fixed order, so two payouts from one fund
    cannot both pass the check on the same money.
    """
    Balance.objects.bulk_create(
        [Balance(organization_id=org_id, account_id=pk, currency=cur) for pk, cur in deltas],
        ignore_conflicts=True)
    wanted = Q()
    for pk, cur in deltas:
        wanted |= Q(account_id=pk, currency=cur)
    rows = Balance.objects.select_for_update().filter(wanted).order_by("pk")
    allow_negative: bool | None = None
    for row in rows:
        delta = deltas[(row.account_id, row.currency)]
        account = accounts[row.account_id]
        after = account.sign * (row.amount + delta)
        if account.kind in SPENDABLE and account.sign * delta < 0 and after < 0:
            if allow_negative is None:
                allow_negative = fund_settings(org_id).allow_negative
            if not allow_negative:
                raise WouldGoNegative(short_of(account, row.currency,
                                               account.sign * row.amount, abs(delta)))
        if delta:
            Balance.objects.filter(pk=row.pk).update(amount=F("amount") + delta)


def _require_atomic() -> None:
    if not db_transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger postings must run inside the transaction of the action")


# --- reading and verifying ----------------------------------------------------


def entry_sums(org_id: int | None = None, kinds: Sequence[str] | None = None) -> dict[Key, int]:
    """Sum of entries per (account, currency), computed from the entries themselves."""
    query = Entry.objects.all()
    if org_id is not None:
        query = query.filter(organization_id=org_id)
    if kinds is not None:
        # By account id, so the (account, currency, date) index finds the rows.
        accounts = Account.objects.filter(kind__in=kinds)
        if org_id is not None:
            accounts = accounts.filter(organization_id=org_id)
        query = query.filter(account_id__in=list(accounts.values_list("pk", flat=True)))
    rows = query.values_list("account_id", "currency").annotate(total=Sum("amount"))
    return {(pk, cur): int(total) for pk, cur, total in rows}


def cached_sums(org_id: int | None = None, kinds: Sequence[str] | None = None) -> dict[Key, int]:
    query = Balance.objects.all()
    if org_id is not None:
        query = query.filter(organization_id=org_id)
    if kinds is not None:
        query = query.filter(account__kind__in=kinds)
    return {(pk, cur): amount for pk, cur, amount in
            query.values_list("account_id", "currency", "amount")}


def sum_before(account: Account, currency: str, day: datetime.date) -> int:
    """Sum of an account's entries dated before ``day``, from the entries."""
    total = Entry.objects.filter(account=account, currency=currency, date__lt=day).aggregate(
        t=Sum("amount"))["t"]
    return int(total or 0)


@dataclass(frozen=True)
class Problem:
    org_id: int
    text: str

    def __str__(self) -> str:
        return self.text


def verify(org_id: int | None = None) -> list[Problem]:
    """Every cached balance against its entries, every transaction's balance, every reference."""
    problems = _reference_problems(org_id)
    entries, cached = entry_sums(org_id), cached_sums(org_id)
    owners = dict(Account.objects.values_list("pk", "organization_id"))
    for key in sorted(set(entries) | set(cached)):
        have, want = cached.get(key, 0), entries.get(key, 0)
        if have != want:
            problems.append(Problem(owners.get(key[0], 0), (
                f"account {key[0]} {key[1]}: cached balance {have} but entries sum to {want}")))
    query = Entry.objects.all() if org_id is None else Entry.objects.filter(organization_id=org_id)
    off = (query.values("transaction_id", "currency", "organization_id")
           .annotate(total=Sum("amount")).exclude(total=0))
    for row in off:
        problems.append(Problem(row["organization_id"], (
            f"transaction {row['transaction_id']} {row['currency']}: entries sum to "
            f"{row['total']}, not 0")))
    return problems


def _reference_problems(org_id: int | None, limit: int = 20) -> list[Problem]:
    """What foreign-key constraints would catch (entries and donations have none)."""
    entries, donations = Entry.objects.all(), Donation.objects.all()
    if org_id is not None:
        entries, donations = entries.filter(organization_id=org_id), donations.filter(
            organization_id=org_id)
    transactions, accounts = Transaction.objects.values("pk"), Account.objects.values("pk")
    checks = [
        (entries.exclude(transaction_id__in=transactions), "entry {} has no transaction"),
        (entries.exclude(account_id__in=accounts), "entry {} has no account"),
        (entries.exclude(organization_id=F("account__organization_id")),
         "entry {} is booked on another organization's account"),
        (entries.exclude(organization_id=F("transaction__organization_id")),
         "entry {} belongs to another organization's transaction"),
        (donations.exclude(transaction_id__in=transactions), "donation {} has no transaction"),
        (donations.filter(~Q(organization_id=F("transaction__organization_id"))
                          | ~Q(organization_id=F("fund__organization_id"))
                          | ~Q(organization_id=F("holding__organization_id"))),
         "donation {} mixes organizations"),
    ]
    problems = []
    for query, text in checks:
        for pk, owner in query.values_list("pk", "organization_id")[:limit]:
            problems.append(Problem(owner, text.format(pk)))
    return problems
