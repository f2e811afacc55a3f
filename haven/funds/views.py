"""The funds pages for members: balances, donations, payouts, corrections, reports.

Views check the role (404 otherwise, as elsewhere in Haven), read through the
scoped lookups of :mod:`haven.funds.access`, and change nothing themselves:
every change is a call into :mod:`haven.funds.actions`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from haven.accounts.models import Member
from haven.accounts.pages import MemberRequest, member_view
from haven.accounts.rights import Right
from haven.cases.models import Case

from . import access, actions, ledger, money, reports
from .errors import FundsError
from .forms import (
    AccountForm,
    DonationForm,
    ExchangeForm,
    PayoutForm,
    PeriodForm,
    ReverseForm,
    SettingsForm,
    StatementForm,
    TransferForm,
)
from .models import AccountKind, Donation, Payout, PayoutStatus, Transaction, TxKind

View = Callable[..., HttpResponseBase]
RECENT = 50


def _page(request: MemberRequest, template: str, context: dict[str, Any],
          form: Any = None) -> HttpResponse:
    status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(request, f"funds/{template}", {**context, "form": form}, status=status)


# --- overview -------------------------------------------------------------------


@member_view(Right.FUNDS_READ)
def overview(request: MemberRequest) -> HttpResponse:
    member = request.user
    org = member.organization
    funds = reports.balances(org, AccountKind.FUND)
    holdings = reports.balances(org, AccountKind.HOLDING)
    awaiting = Payout.objects.filter(organization=org, status=PayoutStatus.AWAITING).count()
    return render(request, "funds/overview.html", {
        "funds": funds, "fund_totals": reports.totals(funds), "holdings": holdings,
        "awaiting": awaiting, "can_manage": access.can_manage(member),
        "can_configure": access.can_configure(member), "account_form": AccountForm(),
        "settings": ledger.fund_settings(org), "org": org})


@member_view(Right.FUNDS_MANAGE)
@require_POST
def account_new(request: MemberRequest) -> HttpResponse:
    form = AccountForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the new fund or holding a name."))
        return redirect("funds:overview")
    try:
        account = actions.add_account(request.user, form.cleaned_data["kind"],
                                      form.cleaned_data["name"])
    except FundsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("“%(name)s” was created.") % {"name": account.label})
    return redirect("funds:overview")


# --- donations ------------------------------------------------------------------


@member_view(Right.FUNDS_MANAGE)
def donations(request: MemberRequest) -> HttpResponse:
    member = request.user
    rows = (Donation.objects.filter(organization_id=member.organization_id)
            .select_related("fund", "transaction__reversed_by").order_by("-date", "-pk")[:RECENT])
    return render(request, "funds/donations.html", {"donations": rows})


@member_view(Right.FUNDS_MANAGE)
def donation_new(request: MemberRequest) -> HttpResponse:
    member = request.user
    ch = ledger.chart(member.organization)
    form = DonationForm(request.POST or None, chart=ch)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_donation(
                member, request.org_vault, day=data["date"], amount=data["amount_minor"],
                currency=data["currency"], fund_id=data["fund"], holding_id=data["holding"],
                channel=data["channel"], reference=data["reference"])
        except FundsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The donation was recorded."))
            return redirect("funds:donations")
    return _page(request, "donation_form.html", {}, form)


# --- payouts --------------------------------------------------------------------


@member_view(Right.FUNDS_MANAGE)
def payouts(request: MemberRequest) -> HttpResponse:
    member, vault = request.user, request.org_vault
    base = (Payout.objects.filter(organization_id=member.organization_id)
            .select_related("fund", "case", "requested_by", "decided_by",
                            "transaction__reversed_by"))
    waiting = list(base.filter(status=PayoutStatus.AWAITING).order_by("requested_at"))
    for payout in waiting:
        payout.payee_text = vault.decrypt_text(bytes(payout.payee))  # type: ignore[attr-defined]
    done = base.exclude(status=PayoutStatus.AWAITING).order_by("-requested_at")[:RECENT]
    return render(request, "funds/payouts.html", {
        "waiting": waiting, "done": done, "can_approve": access.can_approve(member)})


def _case_for(member: Member, number: int | None) -> Case | None:
    if number is None:
        return None
    # By number only: a treasurer outside the case's team pays for it without reading it.
    case = Case.objects.filter(organization_id=member.organization_id, number=number).first()
    if case is None:
        raise FundsError(_("Your organization has no case #%(n)d; check the number.")
                         % {"n": number})
    return case


@member_view(Right.FUNDS_MANAGE)
def payout_new(request: MemberRequest) -> HttpResponse:
    member = request.user
    ch = ledger.chart(member.organization)
    initial = {"case": request.GET.get("case")} if request.GET.get("case", "").isdigit() else {}
    form = PayoutForm(request.POST or None, chart=ch, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payout = actions.request_payout(
                member, request.org_vault, case=_case_for(member, data["case"]),
                purpose=data["purpose"], amount=data["amount_minor"], currency=data["currency"],
                fund_id=data["fund"], holding_id=data["holding"], payee=data["payee"],
                day=data["date"])
        except FundsError as exc:
            form.add_error(None, str(exc))
        else:
            if payout.status == PayoutStatus.AWAITING:
                messages.info(request, _("The payout is above the approval threshold and now "
                                         "waits for a second treasurer or coordinator."))
            else:
                messages.success(request, _("The payout was recorded."))
            return redirect("funds:payouts")
    return _page(request, "payout_form.html", {}, form)


@member_view(Right.FUNDS_MANAGE)
@require_POST
def payout_decide(request: MemberRequest, pk: int, decision: str) -> HttpResponse:
    member = request.user
    payout = access.access_payout(member, pk)
    try:
        if decision == "approve":
            actions.approve_payout(member, payout)
            messages.success(request, _("Approved: the payout is booked."))
        elif decision == "decline":
            actions.decline_payout(member, payout)
            messages.success(request, _("The payout was declined; no money moved."))
        else:
            raise Http404
    except FundsError as exc:
        messages.error(request, str(exc))
    return redirect("funds:payouts")


# --- transactions and corrections ---------------------------------------------------


@member_view(Right.FUNDS_MANAGE)
def transaction_detail(request: MemberRequest, pk: int) -> HttpResponse:
    member, vault = request.user, request.org_vault
    txn = access.access_transaction(member, pk)
    entries = txn.entries.select_related("account").order_by("pk")
    context: dict[str, Any] = {"txn": txn, "entries": entries,
                               "kind": TxKind(txn.kind).label,
                               "reversal": Transaction.objects.filter(reverses=txn).first()}
    donation = Donation.objects.filter(transaction=txn).first()
    if donation is not None and donation.reference is not None:
        context["reference"] = vault.decrypt_text(bytes(donation.reference))
    payout = Payout.objects.filter(transaction=txn).select_related("case").first()
    if payout is not None:
        context["payout"], context["payee"] = payout, vault.decrypt_text(bytes(payout.payee))
    if txn.reason is not None:
        context["reason"] = vault.decrypt_text(bytes(txn.reason))
    if txn.kind != TxKind.REVERSAL and context["reversal"] is None:
        context["reverse_form"] = ReverseForm()
    return render(request, "funds/transaction.html", context)


@member_view(Right.FUNDS_MANAGE)
@require_POST
def transaction_reverse(request: MemberRequest, pk: int) -> HttpResponse:
    member = request.user
    txn = access.access_transaction(member, pk)
    form = ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the transaction is reversed."))
        return redirect("funds:transaction", pk=txn.pk)
    try:
        reversal = actions.reverse(member, request.org_vault, txn, form.cleaned_data["reason"])
    except FundsError as exc:
        messages.error(request, str(exc))
        return redirect("funds:transaction", pk=txn.pk)
    messages.success(request, _("Reversed. Record the correct transaction now if one is due."))
    return redirect("funds:transaction", pk=reversal.pk)


@member_view(Right.FUNDS_MANAGE)
def exchange_new(request: MemberRequest) -> HttpResponse:
    member = request.user
    form = ExchangeForm(request.POST or None, chart=ledger.chart(member.organization))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            txn = actions.exchange(
                member, day=d["date"], fund_id=d["fund"],
                give=(d["from_holding"], d["from_currency"], d["from_amount_minor"]),
                get=(d["to_holding"], d["to_currency"], d["to_amount_minor"]))
        except FundsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The exchange was recorded at %(rate)s.")
                             % {"rate": txn.rate})
            return redirect("funds:transaction", pk=txn.pk)
    return _page(request, "exchange_form.html", {}, form)


@member_view(Right.FUNDS_MANAGE)
def transfer_new(request: MemberRequest) -> HttpResponse:
    member = request.user
    form = TransferForm(request.POST or None, chart=ledger.chart(member.organization))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            txn = actions.transfer(member, day=d["date"], source_id=d["source"],
                                   target_id=d["target"], currency=d["currency"],
                                   amount=d["amount_minor"])
        except FundsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The money was moved."))
            return redirect("funds:transaction", pk=txn.pk)
    return _page(request, "transfer_form.html", {}, form)


# --- reports --------------------------------------------------------------------


@member_view(Right.FUNDS_READ)
def statement(request: MemberRequest) -> HttpResponse:
    member = request.user
    ch = ledger.chart(member.organization)
    form = StatementForm(request.GET or None, chart=ch,
                         initial={**PeriodForm.this_year(), "currency": "EUR"})
    result = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        result = reports.fund_statement(ch.fund(d["fund"]), d["currency"], d["start"], d["end"])
        if request.GET.get("format") == "csv":
            return _csv(reports.statement_csv(result), f"statement-{d['start']}-{d['end']}.csv")
    return _page(request, "statement.html", {"statement": result}, form)


@member_view(Right.FUNDS_MANAGE)
def export(request: MemberRequest) -> HttpResponseBase:
    """The accountant's CSV: every entry of a period. Taking it out is audited."""
    member = request.user
    form = PeriodForm(request.GET or None, initial=PeriodForm.this_year())
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        actions.record_export(member, start, end)
        rows = reports.accountant_rows(member.organization, start, end)
        response = StreamingHttpResponse(reports.csv_lines(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="ledger-{start}-{end}.csv"'
        return response
    return _page(request, "export.html", {}, form)


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- settings -------------------------------------------------------------------


@member_view(Right.FUNDS_CONFIGURE)
def settings_view(request: MemberRequest) -> HttpResponse:
    member = request.user
    current = ledger.fund_settings(member.organization)
    form = SettingsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            actions.update_settings(member, thresholds=d["thresholds"],
                                    allow_negative=d["allow_negative"],
                                    suppression_minimum=d["suppression_minimum"],
                                    public_report=d["public_report"])
        except FundsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The funds settings were saved."))
            return redirect("funds:settings")
    thresholds = [(code, money.format_amount(int(v), code))
                  for code, v in sorted(current.thresholds.items())]
    return _page(request, "settings.html", {"org": member.organization,
                                            "thresholds": thresholds}, form)
