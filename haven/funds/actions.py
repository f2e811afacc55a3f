"""Every change to the books goes through a function here.

Each checks the member's role and organization, writes the ledger transaction
and its audit entry in one database transaction, and raises
:class:`~haven.funds.errors.FundsError` (nothing written) when it refuses.
Audit details hold ids, kinds, currencies and amounts, never names or text.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Member
from haven.audit import chain
from haven.cases.models import Case
from haven.vault import OrgVault
from haven.vault.purposes import Lookup

from . import bulk, ledger, money
from .access import require_approve, require_configure, require_manage, same_org
from .errors import FundsError
from .models import (
    Account,
    AccountKind,
    Channel,
    Donation,
    FundSettings,
    ImportBatch,
    Payout,
    PayoutStatus,
    Purpose,
    Transaction,
    TxKind,
)

if TYPE_CHECKING:
    from .importing import Row

MAX_TEXT = 200
IMPORT_CHUNK = 10_000
Progress = Callable[[int, int], None]


def _audit(member: Member, action: str, case_id: int | None = None, **detail: Any) -> None:
    chain.record(member.organization_id, action, actor_id=member.pk, case_id=case_id,
                 detail=detail)


def _clean(text: str, what: str, *, required: bool) -> str:
    text = " ".join((text or "").replace("\x00", "").split())
    if required and not text:
        raise FundsError(_("The %(what)s is empty; fill it in.") % {"what": what})
    if len(text) > MAX_TEXT:
        raise FundsError(_("The %(what)s is longer than %(max)d characters; shorten it.")
                         % {"what": what, "max": MAX_TEXT})
    return text


def check_day(day: datetime.date) -> datetime.date:
    """Refuse dates in the future or implausibly old ones."""
    if day > timezone.localdate() + datetime.timedelta(days=1):
        raise FundsError(_("The date %(day)s is in the future; money is booked when it moves.")
                         % {"day": day.isoformat()})
    if day.year < 2000:
        raise FundsError(_("The date %(day)s is too far back; check the year.")
                         % {"day": day.isoformat()})
    return day


def _positive(amount: int, currency: str, what: str) -> str:
    code = money.currency(currency)
    if type(amount) is not int or amount <= 0:
        raise FundsError(_("The %(what)s must be more than zero.") % {"what": what})
    return code


def normalize_reference(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def reference_hash(vault: OrgVault, text: str) -> str:
    """Keyed hash of a donor reference, for finding duplicates without decrypting."""
    normal = normalize_reference(text)
    return vault.keyed(Lookup.DONOR_REF, normal) if normal else ""


# --- donations ----------------------------------------------------------------


def record_donation(member: Member, vault: OrgVault, *, day: datetime.date, amount: int,
                    currency: str, fund_id: int, holding_id: int, channel: str,
                    reference: str = "") -> Donation:
    """Book a donation received into a holding, for a fund, through a channel."""
    require_manage(member)
    code = _positive(amount, currency, _("donation"))
    check_day(day)
    if channel not in Channel.values:
        raise FundsError(_("Choose one of the listed channels."))
    reference = _clean(reference, _("donor reference"), required=False)
    org = member.organization
    ch = ledger.chart(org)
    fund, holding = ch.fund(fund_id), ch.holding(holding_id)
    with transaction.atomic():
        txn = ledger.post(org, TxKind.DONATION, day,
                          ledger.donation_legs(ch, fund, holding, channel, code, amount), by=member)
        donation = Donation.objects.create(
            organization=org, transaction=txn, date=day, amount=amount, currency=code,
            fund=fund, holding=holding, channel=channel,
            reference=vault.encrypt_text(reference) if reference else None,
            reference_hash=reference_hash(vault, reference))
        _audit(member, "funds.donation", transaction=txn.pk, fund=fund.pk, currency=code,
               amount=amount, channel=channel)
    return donation


def import_donations(member: Member, vault: OrgVault, rows: Sequence[Row], *, holding_id: int,
                     source: str, skipped: int = 0,
                     progress: Progress | None = None) -> ImportBatch:
    """Book checked import rows all or nothing (see :mod:`haven.funds.importing`)."""
    require_manage(member)
    if not rows:
        raise FundsError(_("There is nothing to import: every row was left out."))
    org = member.organization
    ch = ledger.chart(org)
    holding = ch.holding(holding_id)
    new = [ledger.NewDonation(r.day, r.fund_id, holding.pk, r.channel, r.currency, r.amount)
           for r in rows]
    # Encrypt before taking the write lock, so other members wait less.
    secrets = [(vault.encrypt_text(r.reference) if r.reference else None, r.ref_hash)
               for r in rows]
    with transaction.atomic():
        batch = ImportBatch.objects.create(organization=org, member=member, source=source,
                                           rows=len(rows), skipped=skipped)
        for start in range(0, len(new), IMPORT_CHUNK):
            part = new[start:start + IMPORT_CHUNK]
            ids = ledger.post_donations(org, ch, part, by=member)
            _insert_donations(org.pk, batch.pk, ids, part, secrets[start:start + IMPORT_CHUNK])
            if progress:
                progress(start + len(part), len(new))
        per_currency = Counter(r.currency for r in new)
        _audit(member, "funds.import", batch=batch.pk, rows=len(rows), skipped=skipped,
               holding=holding.pk, source=source, currencies=dict(sorted(per_currency.items())))
    return batch


def _insert_donations(org_id: int, batch_id: int, ids: Sequence[int],
                      rows: Sequence[ledger.NewDonation],
                      secrets: Sequence[tuple[bytes | None, str]]) -> None:
    bulk.insert_rows(
        Donation, ["organization", "transaction", "date", "amount", "currency", "fund",
                   "holding", "channel", "reference", "reference_hash", "batch"],
        ((org_id, pk, day, r.amount, r.currency, r.fund_id, r.holding_id, r.channel, ref,
          ref_hash, batch_id)
         for pk, day, r, (ref, ref_hash) in zip(ids, bulk.db_dates([r.day for r in rows]), rows,
                                                secrets, strict=True)))


# --- payouts ------------------------------------------------------------------


def needs_approval(settings_row: FundSettings, amount: int, currency: str) -> bool:
    """Above the currency's threshold, or in a currency without one: a second member approves."""
    threshold = settings_row.thresholds.get(currency)
    return threshold is None or amount > int(threshold)


def request_payout(member: Member, vault: OrgVault, *, purpose: str, amount: int,
                   currency: str, fund_id: int, holding_id: int, payee: str,
                   day: datetime.date, case: Case | None = None) -> Payout:
    """Pay at once when within the threshold; otherwise wait for a second member."""
    require_manage(member)
    code = _positive(amount, currency, _("payout"))
    check_day(day)
    if purpose not in Purpose.values:
        raise FundsError(_("Choose one of the listed purposes."))
    if case is not None:
        same_org(member, case.organization_id)
    payee = _clean(payee, _("payee"), required=True)
    org = member.organization
    ch = ledger.chart(org)
    fund, holding = ch.fund(fund_id), ch.holding(holding_id)
    waits = needs_approval(ledger.fund_settings(org), amount, code)
    with transaction.atomic():
        payout = Payout.objects.create(
            organization=org, case=case, purpose=purpose, amount=amount, currency=code,
            fund=fund, holding=holding, payee=vault.encrypt_text(payee), date=day,
            status=PayoutStatus.AWAITING if waits else PayoutStatus.PAID, requested_by=member)
        if waits:
            _check_available(fund, holding, code, amount)
        else:
            _pay(payout, ch, day, by=member)
        _audit(member, "funds.payout.requested" if waits else "funds.payout.paid",
               case_id=case.pk if case else None, payout=payout.pk, purpose=purpose,
               currency=code, amount=amount, fund=fund.pk,
               transaction=payout.transaction_id)
    return payout


def _pay(payout: Payout, ch: ledger.Chart, day: datetime.date, *, by: Member) -> None:
    legs = ledger.payout_legs(ch, payout.fund, payout.holding, payout.purpose, payout.currency,
                              payout.amount)
    txn = ledger.post(payout.organization, TxKind.PAYOUT, day, legs, by=by)
    payout.transaction = txn
    Payout.objects.filter(pk=payout.pk).update(transaction=txn)


def _check_available(fund: Account, holding: Account, currency: str, amount: int) -> None:
    """Refuse early a request the fund or the holding could not pay today (checked again
    when paid)."""
    if ledger.fund_settings(fund.organization_id).allow_negative:
        return
    for account in (fund, holding):
        have = account.sign * sum(account.balances.filter(currency=currency)
                                  .values_list("amount", flat=True))
        if have < amount:
            raise ledger.WouldGoNegative(ledger.short_of(account, currency, have, amount))


def approve_payout(member: Member, payout: Payout) -> Payout:
    """A treasurer or coordinator other than the requester approves; the money moves now."""
    same_org(member, payout.organization_id)
    require_approve(member)
    if payout.requested_by_id == member.pk:
        raise FundsError(_("You asked for this payout, so a different treasurer or "
                           "coordinator has to approve it."))
    with transaction.atomic():
        locked = Payout.objects.select_for_update().select_related(
            "fund", "holding", "organization").get(pk=payout.pk)
        if locked.status != PayoutStatus.AWAITING:
            raise FundsError(_("This payout was already decided; reload the list."))
        today = timezone.localdate()
        _pay(locked, ledger.chart(locked.organization), today, by=member)
        Payout.objects.filter(pk=locked.pk).update(
            status=PayoutStatus.PAID, decided_by=member, decided_at=timezone.now())
        _audit(member, "funds.payout.approved", case_id=locked.case_id, payout=locked.pk,
               transaction=locked.transaction_id, currency=locked.currency,
               amount=locked.amount)
    locked.refresh_from_db()
    return locked


def decline_payout(member: Member, payout: Payout) -> Payout:
    """Any member who manages funds may decline (or withdraw) a waiting request."""
    same_org(member, payout.organization_id)
    require_manage(member)
    with transaction.atomic():
        done = Payout.objects.filter(pk=payout.pk, status=PayoutStatus.AWAITING).update(
            status=PayoutStatus.DECLINED, decided_by=member, decided_at=timezone.now())
        if not done:
            raise FundsError(_("This payout was already decided; reload the list."))
        _audit(member, "funds.payout.declined", case_id=payout.case_id, payout=payout.pk)
    payout.refresh_from_db()
    return payout


# --- exchanges, transfers, reversals ----------------------------------------------


def exchange(member: Member, *, day: datetime.date, fund_id: int,
             give: tuple[int, str, int], get: tuple[int, str, int]) -> Transaction:
    """Sell ``give`` = (holding id, currency, amount) for ``get``, inside one fund.

    Both amounts are what actually left and arrived; the rate is derived from
    them and stored with the transaction. Nothing is ever converted implicitly.
    """
    require_manage(member)
    check_day(day)
    from_code = _positive(give[2], give[1], _("amount sold"))
    to_code = _positive(get[2], get[1], _("amount bought"))
    if from_code == to_code:
        raise FundsError(_("An exchange needs two different currencies."))
    org = member.organization
    ch = ledger.chart(org)
    fund = ch.fund(fund_id)
    sold, bought = (ch.holding(give[0]), from_code, give[2]), (ch.holding(get[0]), to_code, get[2])
    rate = money.rate(give[2], from_code, get[2], to_code)
    with transaction.atomic():
        txn = ledger.post(org, TxKind.EXCHANGE, day, ledger.exchange_legs(ch, fund, sold, bought),
                          by=member, rate=rate)
        _audit(member, "funds.exchange", transaction=txn.pk, fund=fund.pk, sold=from_code,
               sold_amount=give[2], bought=to_code, bought_amount=get[2], rate=str(rate))
    return txn


def transfer(member: Member, *, day: datetime.date, source_id: int, target_id: int,
             currency: str, amount: int) -> Transaction:
    """Move money between two funds, or between two holdings, in one currency."""
    require_manage(member)
    check_day(day)
    code = _positive(amount, currency, _("amount"))
    ch = ledger.chart(member.organization)
    accounts = {**ch.funds, **ch.holdings}
    source, target = accounts.get(source_id), accounts.get(target_id)
    if source is None or target is None or source.kind != target.kind or source == target:
        raise FundsError(_("Choose two different funds, or two different holdings."))
    with transaction.atomic():
        txn = ledger.post(member.organization, TxKind.TRANSFER, day,
                          ledger.transfer_legs(source, target, code, amount), by=member)
        _audit(member, "funds.transfer", transaction=txn.pk, source=source.pk,
               target=target.pk, currency=code, amount=amount)
    return txn


def reverse(member: Member, vault: OrgVault, original: Transaction, reason: str) -> Transaction:
    """Undo a transaction with a new one of opposite entries, dated today."""
    same_org(member, original.organization_id)
    require_manage(member)
    reason = _clean(reason, _("reason"), required=True)
    if original.kind == TxKind.REVERSAL:
        raise FundsError(_("A reversal cannot itself be reversed; record the transaction "
                           "again instead."))
    case_id = Payout.objects.filter(transaction=original).values_list("case_id", flat=True).first()
    try:
        with transaction.atomic():
            if Transaction.objects.filter(reverses=original).exists():
                raise FundsError(_("This transaction was already reversed."))
            txn = ledger.post(original.organization, TxKind.REVERSAL, timezone.localdate(),
                              ledger.reversal_legs(original), by=member, reverses=original,
                              reason=vault.encrypt_text(reason))
            _audit(member, "funds.reversal", case_id=case_id, transaction=txn.pk,
                   reverses=original.pk, kind=original.kind)
    except IntegrityError as exc:  # a second reversal raced this one
        raise FundsError(_("This transaction was already reversed.")) from exc
    return txn


def record_export(member: Member, start: datetime.date, end: datetime.date) -> None:
    """The accountant's export takes the books out of Haven: say who and which period."""
    require_manage(member)
    with transaction.atomic():
        _audit(member, "funds.export", start=start.isoformat(), end=end.isoformat())


# --- settings and accounts ----------------------------------------------------


def update_settings(member: Member, *, thresholds: dict[str, int], allow_negative: bool,
                    suppression_minimum: int, public_report: bool) -> FundSettings:
    require_configure(member)
    clean = {money.currency(code): int(v) for code, v in thresholds.items()}
    if any(v < 0 for v in clean.values()):
        raise FundsError(_("A threshold cannot be negative."))
    if not 2 <= suppression_minimum <= 100:
        raise FundsError(_("The smallest count shown must be between 2 and 100."))
    with transaction.atomic():
        row = ledger.fund_settings(member.organization)
        row.thresholds, row.allow_negative = dict(sorted(clean.items())), allow_negative
        row.suppression_minimum, row.public_report = suppression_minimum, public_report
        row.save()
        _audit(member, "funds.settings", thresholds=row.thresholds, allow_negative=allow_negative,
               suppression_minimum=suppression_minimum, public_report=public_report)
    return row


def add_account(member: Member, kind: str, name: str) -> Account:
    """A new fund or holding; names are in clear (not personal data), unique per kind."""
    require_manage(member)
    if kind not in (AccountKind.FUND, AccountKind.HOLDING):
        raise FundsError(_("Choose a fund or a holding."))
    name = _clean(name, _("name"), required=True)[:100]
    ledger.chart(member.organization)
    if Account.objects.filter(organization=member.organization, kind=kind,
                              name__iexact=name).exists():
        raise FundsError(_("There is already one called “%(name)s”; choose another name.")
                         % {"name": name})
    try:
        with transaction.atomic():
            account = Account.objects.create(organization=member.organization, kind=kind,
                                             name=name)
            _audit(member, "funds.account", account=account.pk, kind=kind)
    except IntegrityError as exc:
        raise FundsError(_("There is already one called “%(name)s”; choose another name.")
                         % {"name": name}) from exc
    return account
