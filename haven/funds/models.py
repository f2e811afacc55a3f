"""The funds ledger: accounts, transactions and their immutable entries.

Amounts are integers of minor units (``money.CURRENCIES`` gives the decimals),
signed debit-positive: holdings and expenses grow with positive entries, funds
and income with negative ones. Entries and transactions cannot be changed or
deleted (database triggers, see migration 0002); a mistake is corrected by a
reversing transaction.

In clear: dates, amounts, currencies, accounts, purposes, channels, which case
a payout was for. Encrypted with the organization key: donor references,
payees, reasons for reversals, uploaded files waiting for import.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    FUND = "fund", _("Fund")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")
    HOLDING = "holding", _("Holding")
    EXCHANGE = "exchange", _("Currency exchange")
    ALLOCATION = "allocation", _("Allocation to funds")


# Funds and income grow on the credit (negative) side; the display flips their sign.
CREDIT_NORMAL = {AccountKind.FUND, AccountKind.INCOME}


class Channel(models.TextChoices):
    BANK = "bank", _("Bank transfer")
    CARD = "card", _("Card or payment service")
    CASH = "cash", _("Cash")
    CRYPTO = "crypto", _("Cryptocurrency")
    OTHER = "other", _("Other")


class Purpose(models.TextChoices):
    TICKETS = "tickets", _("Tickets")
    DOCUMENTS = "documents", _("Documents")
    HOUSING = "housing", _("Housing")
    MEDICAL = "medical", _("Medical")
    LEGAL = "legal", _("Legal fees")
    OTHER = "other", _("Other")


class TxKind(models.TextChoices):
    DONATION = "donation", _("Donation")
    PAYOUT = "payout", _("Payout")
    EXCHANGE = "exchange", _("Exchange")
    TRANSFER = "transfer", _("Transfer")
    REVERSAL = "reversal", _("Reversal")


def default_thresholds() -> dict[str, int]:
    """About 200 euros in the common currencies; a currency without one always needs approval."""
    return {"EUR": 20_000, "USD": 20_000, "GBP": 20_000, "USDT": 200_000_000,
            "RUB": 2_000_000, "UAH": 800_000}


class FundSettings(models.Model):
    """Per-organization rules for money. Thresholds are per currency, in minor units."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="fund_settings")
    # {"EUR": 20000, ...}; a currency without a threshold always needs approval.
    thresholds = models.JSONField(default=default_thresholds)
    allow_negative = models.BooleanField(default=False)
    suppression_minimum = models.PositiveSmallIntegerField(default=5)
    # Publishing is the organization's decision: off until an administrator or
    # treasurer turns it on (the demo turns it on).
    public_report = models.BooleanField(default=False)


class Account(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    kind = models.CharField(max_length=12, choices=AccountKind.choices)
    # The channel or purpose of a system account; "" for funds and holdings.
    code = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "code"],
                                    condition=~models.Q(code=""), name="funds_account_code"),
            models.UniqueConstraint(fields=["organization", "kind", "name"],
                                    condition=models.Q(code=""), name="funds_account_name"),
        ]
        ordering = ["kind", "name", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.kind == AccountKind.INCOME:
            return str(Channel(self.code).label)
        if self.kind == AccountKind.EXPENSE:
            return str(Purpose(self.code).label)
        return self.name or str(AccountKind(self.kind).label)

    @property
    def sign(self) -> int:
        """+1 or -1: multiply a sum of entries by this to show the account's balance."""
        return -1 if self.kind in CREDIT_NORMAL else 1


class Transaction(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=TxKind.choices)
    date = models.DateField()
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("accounts.Member", null=True, on_delete=models.PROTECT,
                                   related_name="+", db_index=False)
    reverses = models.OneToOneField("self", null=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    # Exchanges: units of the second currency per unit of the first, as agreed.
    rate = models.DecimalField(max_digits=26, decimal_places=10, null=True)
    reason = models.BinaryField(null=True)  # encrypted: why a reversal was made

    def __str__(self) -> str:
        return f"T{self.pk}"


# Entries and donations are written in bulk (100,000 rows of an import at once).
# On PostgreSQL a foreign-key constraint is a trigger per row and made ~70% of the
# import's time, so their references are not constraints in the database: every
# row they point to can never be deleted (DELETE triggers, PROTECT), the ledger
# writes them only with ids of rows it has just written, and ``haven funds
# verify`` checks that each reference resolves and each organization matches.


class Entry(models.Model):
    """One line of a transaction. Immutable: the database refuses UPDATE and DELETE."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries",
                                    db_constraint=False)
    # Covered by the composite indexes below; fewer indexes keep imports fast.
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+", db_index=False, db_constraint=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries",
                                db_index=False, db_constraint=False)
    currency = models.CharField(max_length=5)
    amount = models.BigIntegerField()
    date = models.DateField()  # the transaction's date, here so reports need no join

    class Meta:
        indexes = [
            models.Index(fields=["account", "currency", "date"]),
            models.Index(fields=["organization", "date"]),
        ]


class Balance(models.Model):
    """Cached sum of an account's entries in one currency; ``haven funds verify`` checks it."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(max_length=5)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "currency"],
                                               name="funds_balance_unique")]


class ImportBatch(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    member = models.ForeignKey("accounts.Member", null=True, on_delete=models.SET_NULL,
                               related_name="+")
    created = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10)  # "web" or "cli"
    rows = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)


class Donation(models.Model):
    # The foreign keys go unindexed (the composite index covers the organization):
    # accounts, batches and organizations are never deleted, and imports stay fast.
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+", db_index=False, db_constraint=False)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT,
                                       related_name="donation", db_constraint=False)
    date = models.DateField()
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=5)
    fund = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False,
                             db_constraint=False)
    holding = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+",
                                db_index=False, db_constraint=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    reference = models.BinaryField(null=True)  # encrypted donor reference
    # Keyed hash of the normalised reference under the organization key, so
    # duplicates are found without decrypting every donation.
    reference_hash = models.CharField(max_length=64, blank=True)
    batch = models.ForeignKey(ImportBatch, null=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False, db_constraint=False)

    class Meta:
        indexes = [models.Index(fields=["organization", "date", "amount"])]


class PayoutStatus(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting approval")
    PAID = "paid", _("Paid")
    DECLINED = "declined", _("Declined")


class Payout(models.Model):
    """A request to pay; it reaches the ledger when paid (at once, or on approval)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    # A purged case leaves its payouts in the books, unlinked.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=5)
    fund = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    holding = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    payee = models.BinaryField()  # encrypted
    date = models.DateField()
    status = models.CharField(max_length=10, choices=PayoutStatus.choices)
    requested_by = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey("accounts.Member", null=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True)
    transaction = models.OneToOneField(Transaction, null=True, on_delete=models.PROTECT,
                                       related_name="payout")

    class Meta:
        indexes = [models.Index(fields=["organization", "status", "-requested_at"])]


class ImportDraft(models.Model):
    """An uploaded CSV between the wizard's steps, encrypted; deleted on commit or expiry."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    data = models.BinaryField()  # encrypted file contents
    settings = models.JSONField(default=dict)  # column mapping and defaults, no content
