"""Reports: balances, the public monthly report, fund statements, the accountant's export.

All figures come from aggregate queries over the entries (or the cached
balances for the overview), never from loading transactions one by one.

Small numbers are suppressed on the public report: a cell made of fewer than
the organization's minimum of payouts shows "<5" and no amount. Suppressed
cells are pooled into "other purposes" per currency, and if that pool is still
below the minimum the smallest visible cell joins it, so no suppressed figure
can be recovered by subtracting the visible ones from the total.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Organization

from . import ledger, money
from .models import Account, AccountKind, Channel, Entry, Payout, Purpose, TxKind

# --- balances -----------------------------------------------------------------


@dataclass
class AccountBalances:
    account: Account
    amounts: dict[str, int]  # currency -> amount, sign as the account is read

    @property
    def items(self) -> list[tuple[str, int]]:
        return sorted(self.amounts.items())


def balances(org: Organization, kind: str, *, from_entries: bool = False) -> list[AccountBalances]:
    """Each account of ``kind`` with its balance per currency (cached, or from entries)."""
    ch = ledger.chart(org)
    if kind == AccountKind.FUND:
        accounts = ch.funds
    elif kind == AccountKind.HOLDING:
        accounts = ch.holdings
    else:
        raise ValueError(kind)
    sums = (ledger.entry_sums if from_entries else ledger.cached_sums)(org.pk, [kind])
    out = {pk: AccountBalances(a, {}) for pk, a in accounts.items()}
    for (pk, code), total in sums.items():
        if total and pk in out:
            out[pk].amounts[code] = out[pk].account.sign * total
    return sorted(out.values(), key=lambda b: b.account.label.casefold())


def totals(rows: list[AccountBalances]) -> list[tuple[str, int]]:
    summed: dict[str, int] = defaultdict(int)
    for row in rows:
        for code, amount in row.amounts.items():
            summed[code] += amount
    return sorted(summed.items())


# --- months -------------------------------------------------------------------


def month_start(text: str | None) -> datetime.date | None:
    """``2025-03`` -> 2025-03-01; None when it does not read as a month."""
    try:
        year, month = (int(p) for p in (text or "").split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        return None


def next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def complete_months(count: int = 12) -> list[datetime.date]:
    """The last ``count`` months that have ended, newest first."""
    current = timezone.localdate().replace(day=1)
    months = []
    for _i in range(count):
        current = (current - datetime.timedelta(days=1)).replace(day=1)
        months.append(current)
    return months


def published_months(org: Organization) -> list[datetime.date]:
    """The ended months worth linking to: none before the organization's first entry."""
    first = Entry.objects.filter(organization=org).order_by("date").values_list("date", flat=True).first()
    if first is None:
        return []
    return [m for m in complete_months() if m >= first.replace(day=1)]


# --- the monthly report -------------------------------------------------------


@dataclass
class Cell:
    key: str  # purpose or channel code, "other" for a pool, "total" for the total
    label: str
    currency: str
    count: int
    amount: int
    suppressed: bool = False


@dataclass
class CurrencyBlock:
    currency: str
    came_in: Cell
    went_out: list[Cell] = field(default_factory=list)  # visible purposes, then the pool
    out_total: Cell | None = None


@dataclass
class MonthReport:
    org: Organization
    month: datetime.date
    minimum: int
    blocks: list[CurrencyBlock]


def month_figures(org_id: int, start: datetime.date, end: datetime.date,
                  ) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(kind, code, currency) -> (count, amount) for income and expenses in [start, end).

    Counts are net of reversals booked in the same period; amounts are read with
    the account's sign (income and expenses both positive).
    """
    rows = (Entry.objects.filter(organization_id=org_id, date__gte=start, date__lt=end,
                                 account__kind__in=[AccountKind.INCOME, AccountKind.EXPENSE])
            .values_list("account__kind", "account__code", "currency")
            .annotate(total=Sum("amount"), debits=Count("id", filter=Q(amount__gt=0)),
                      credits=Count("id", filter=Q(amount__lt=0))))
    figures = {}
    for kind, code, cur, total, debits, credits in rows:
        if kind == AccountKind.INCOME:
            figures[(kind, code, cur)] = (credits - debits, -int(total))
        else:
            figures[(kind, code, cur)] = (debits - credits, int(total))
    return figures


def suppress(cells: list[Cell], minimum: int, currency: str) -> tuple[list[Cell], Cell]:
    """The cells to publish (visible ones, then a pool if any) and the total."""
    visible = sorted((c for c in cells if c.count >= minimum), key=lambda c: (c.count, c.key))
    pool = [c for c in cells if c.count < minimum]
    while pool and sum(c.count for c in pool) < minimum and visible:
        pool.append(visible.pop(0))
    shown = sorted(visible, key=lambda c: c.label.casefold())
    if pool:
        pooled = Cell("other", _("Other purposes together"), currency,
                      sum(c.count for c in pool), sum(c.amount for c in pool))
        pooled.suppressed = pooled.count < minimum
        shown.append(pooled)
    total = Cell("total", _("Total"), currency, sum(c.count for c in cells),
                 sum(c.amount for c in cells))
    total.suppressed = total.count < minimum
    return shown, total


def monthly_report(org: Organization, month: datetime.date, minimum: int) -> MonthReport:
    figures = month_figures(org.pk, month, next_month(month))
    currencies = sorted({cur for _k, _c, cur in figures})
    blocks = []
    for cur in currencies:
        count_in = sum(n for (k, _c, c), (n, _a) in figures.items()
                       if k == AccountKind.INCOME and c == cur)
        amount_in = sum(a for (k, _c, c), (_n, a) in figures.items()
                        if k == AccountKind.INCOME and c == cur)
        came_in = Cell("in", _("Donations"), cur, count_in, amount_in,
                       suppressed=count_in < minimum)
        out = [Cell(code, str(Purpose(code).label), cur, n, a)
               for (k, code, c), (n, a) in figures.items() if k == AccountKind.EXPENSE and c == cur]
        block = CurrencyBlock(cur, came_in)
        if out:
            block.went_out, block.out_total = suppress(out, minimum, cur)
        blocks.append(block)
    return MonthReport(org, month, minimum, blocks)


def shown_count(cell: Cell, minimum: int) -> str:
    return f"<{minimum}" if cell.suppressed else str(cell.count)


def shown_amount(cell: Cell) -> str:
    return "" if cell.suppressed else money.plain(cell.amount, cell.currency)


def report_csv(report: MonthReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "direction", "purpose", "currency", "count", "amount"])
    month = report.month.strftime("%Y-%m")
    for block in report.blocks:
        cell = block.came_in
        writer.writerow([month, "in", "donations", block.currency,
                         shown_count(cell, report.minimum), shown_amount(cell)])
        for cell in [*block.went_out, *([block.out_total] if block.out_total else [])]:
            writer.writerow([month, "out", cell.key, block.currency,
                             shown_count(cell, report.minimum), shown_amount(cell)])
    return out.getvalue()


# --- fund statement -----------------------------------------------------------


@dataclass
class StatementLine:
    day: datetime.date
    transaction_id: int
    kind: str
    detail: str
    amount: int
    balance: int


@dataclass
class Statement:
    fund: Account
    currency: str
    start: datetime.date
    end: datetime.date  # inclusive
    opening: int
    lines: list[StatementLine]
    closing: int


def _details(txn_ids: list[int]) -> dict[int, str]:
    """A short clear-text description per transaction: channel, purpose, case number."""
    found: dict[int, str] = {}
    other = (Entry.objects.filter(transaction_id__in=txn_ids,
                                  account__kind__in=[AccountKind.INCOME, AccountKind.EXPENSE])
             .values_list("transaction_id", "account__kind", "account__code"))
    for txn_id, kind, code in other:
        found[txn_id] = str((Channel if kind == AccountKind.INCOME else Purpose)(code).label)
    for txn_id, number in Payout.objects.filter(transaction_id__in=txn_ids).values_list(
            "transaction_id", "case__number"):
        if number:
            found[txn_id] = _("%(what)s, case #%(n)d") % {"what": found.get(txn_id, ""), "n": number}
    return found


def fund_statement(fund: Account, currency: str, start: datetime.date,
                   end: datetime.date) -> Statement:
    """Opening balance, every movement of the period, closing balance (from entries)."""
    opening = fund.sign * ledger.sum_before(fund, currency, start)
    entries = list(Entry.objects.filter(account=fund, currency=currency, date__gte=start,
                                        date__lte=end)
                   .select_related("transaction").order_by("date", "transaction_id", "pk"))
    details = _details([e.transaction_id for e in entries])
    running, lines = opening, []
    for e in entries:
        running += fund.sign * e.amount
        detail = details.get(e.transaction_id, "")
        if e.transaction.reverses_id:
            detail = _("reverses T%(n)d") % {"n": e.transaction.reverses_id}
        lines.append(StatementLine(e.date, e.transaction_id, str(TxKind(e.transaction.kind).label),
                                   detail, fund.sign * e.amount, running))
    return Statement(fund, currency, start, end, opening, lines, running)


def statement_csv(st: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "transaction", "kind", "detail", "amount", "balance", "currency"])
    writer.writerow([st.start.isoformat(), "", "opening", "", "",
                     money.plain(st.opening, st.currency), st.currency])
    for line in st.lines:
        writer.writerow([line.day.isoformat(), f"T{line.transaction_id}", safe_cell(line.kind),
                         safe_cell(line.detail), money.plain(line.amount, st.currency),
                         money.plain(line.balance, st.currency), st.currency])
    writer.writerow([st.end.isoformat(), "", "closing", "", "",
                     money.plain(st.closing, st.currency), st.currency])
    return out.getvalue()


# --- the accountant's export ----------------------------------------------------

ACCOUNTANT_HEADER = ["date", "transaction", "kind", "reverses", "account_kind", "account",
                     "currency", "debit", "credit", "case", "booked_at"]


def safe_cell(text: str) -> str:
    """Keep spreadsheets from running a name that starts like a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def accountant_rows(org: Organization, start: datetime.date, end: datetime.date,
                    ) -> Iterator[list[str]]:
    """Every entry of the period, one line each: names of people are never included."""
    yield ACCOUNTANT_HEADER
    labels = {a.pk: a.label for a in Account.objects.filter(organization=org)}
    cases = dict(Payout.objects.filter(organization=org, transaction__isnull=False,
                                       case__isnull=False)
                 .values_list("transaction_id", "case__number"))
    entries = (Entry.objects.filter(organization=org, date__gte=start, date__lte=end)
               .order_by("date", "transaction_id", "pk")
               .values_list("date", "transaction_id", "transaction__kind",
                            "transaction__reverses_id", "account__kind", "account_id",
                            "currency", "amount", "transaction__created"))
    for day, txn, kind, reverses, akind, account, cur, amount, created in entries.iterator(
            chunk_size=5000):
        yield [day.isoformat(), f"T{txn}", kind, f"T{reverses}" if reverses else "", akind,
               safe_cell(labels.get(account, "")), cur,
               money.plain(amount, cur) if amount > 0 else "",
               money.plain(-amount, cur) if amount < 0 else "",
               str(cases.get(txn, "")), created.isoformat()]


class Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(Echo(), lineterminator="\n")
    for row in rows:
        yield writer.writerow(row)
