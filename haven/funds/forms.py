"""Forms of the funds pages. Amounts are read as text and turned into minor units here."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from . import money
from .importing import DATE_FORMATS, TARGETS, Mapping
from .ledger import Chart
from .models import AccountKind, Channel, FundSettings, Purpose

BLANK = [("", "—")]


class DateInput(forms.DateInput):
    input_type = "date"


def _amount_field(label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or gettext_lazy("Amount"), max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=gettext_lazy("With a decimal point, e.g. 120.50; no more decimals than "
                               "the currency has."))


def _date_field(label: Any = None) -> forms.DateField:
    return forms.DateField(label=label or gettext_lazy("Date"), widget=DateInput,
                           initial=timezone.localdate)


def _currency_field(label: Any = None) -> forms.ChoiceField:
    return forms.ChoiceField(label=label or gettext_lazy("Currency"),
                             choices=money.CURRENCY_CHOICES)


def _accounts(accounts: dict[int, Any]) -> list[tuple[int, str]]:
    return sorted(((pk, a.label) for pk, a in accounts.items()), key=lambda c: c[1].casefold())


class _MoneyForm(forms.Form):
    """Turns (amount field, currency field) pairs into minor units, with the error on the field."""

    amount_fields: tuple[tuple[str, str], ...] = (("amount", "currency"),)

    def __init__(self, *args: Any, chart: Chart, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chart = chart
        for name in ("fund", "source_fund"):
            if name in self.fields:
                self.fields[name].choices = _accounts(chart.funds)  # type: ignore[attr-defined]
        for name in ("holding", "from_holding", "to_holding"):
            if name in self.fields:
                self.fields[name].choices = _accounts(chart.holdings)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for amount_name, currency_name in self.amount_fields:
            text, code = data.get(amount_name), data.get(currency_name)
            if text is None or code is None:
                continue
            try:
                minor = money.parse_amount(text, code)
            except money.MoneyError as exc:
                self.add_error(amount_name, str(exc))
                continue
            if minor <= 0:
                self.add_error(amount_name, _("The amount must be more than zero."))
            else:
                data[f"{amount_name}_minor"] = minor
        return data


class DonationForm(_MoneyForm):
    date = _date_field()
    amount = _amount_field()
    currency = _currency_field()
    fund = forms.TypedChoiceField(label=gettext_lazy("Fund"), coerce=int)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=Channel.choices)
    holding = forms.TypedChoiceField(label=gettext_lazy("Received into"), coerce=int)
    reference = forms.CharField(
        label=gettext_lazy("Donor reference (optional)"), required=False, max_length=200,
        help_text=gettext_lazy("A name, e-mail or payment reference. Stored encrypted; used "
                               "to spot the same donation imported twice."))


class PayoutForm(_MoneyForm):
    case = forms.IntegerField(
        label=gettext_lazy("Case number (optional)"), required=False, min_value=1,
        help_text=gettext_lazy("The case sees what was paid for it."))
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=Purpose.choices)
    amount = _amount_field()
    currency = _currency_field()
    fund = forms.TypedChoiceField(label=gettext_lazy("From fund"), coerce=int)
    holding = forms.TypedChoiceField(label=gettext_lazy("Paid from"), coerce=int)
    payee = forms.CharField(
        label=gettext_lazy("Payee"), max_length=200,
        help_text=gettext_lazy("Who receives the money (a carrier, a clinic, a person). "
                               "Stored encrypted."))
    date = _date_field()


class ExchangeForm(_MoneyForm):
    amount_fields = (("from_amount", "from_currency"), ("to_amount", "to_currency"))
    date = _date_field()
    fund = forms.TypedChoiceField(label=gettext_lazy("Fund"), coerce=int)
    from_holding = forms.TypedChoiceField(label=gettext_lazy("Sold from"), coerce=int)
    from_amount = _amount_field(gettext_lazy("Amount sold"))
    from_currency = _currency_field(gettext_lazy("Currency sold"))
    to_holding = forms.TypedChoiceField(label=gettext_lazy("Bought into"), coerce=int)
    to_amount = _amount_field(gettext_lazy("Amount received"))
    to_currency = _currency_field(gettext_lazy("Currency received"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("from_currency") and data.get("from_currency") == data.get("to_currency"):
            self.add_error("to_currency", _("An exchange needs two different currencies."))
        return data


class TransferForm(_MoneyForm):
    date = _date_field()
    source = forms.TypedChoiceField(label=pgettext_lazy("transfer between accounts", "From"), coerce=int)
    target = forms.TypedChoiceField(label=pgettext_lazy("transfer between accounts", "To"), coerce=int)
    amount = _amount_field()
    currency = _currency_field()

    def __init__(self, *args: Any, chart: Chart, **kwargs: Any) -> None:
        super().__init__(*args, chart=chart, **kwargs)
        groups = [(_("Funds"), _accounts(chart.funds)), (_("Holdings"), _accounts(chart.holdings))]
        self.fields["source"].choices = groups  # type: ignore[attr-defined]
        self.fields["target"].choices = groups  # type: ignore[attr-defined]


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is this reversed?"), max_length=200,
        help_text=gettext_lazy("Stored encrypted. Record the correct transaction afterwards."))


class AccountForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[
        (AccountKind.FUND, gettext_lazy("Fund")),
        (AccountKind.HOLDING, gettext_lazy("Holding (bank account, cash box, wallet)"))])
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("Shown in clear; do not use a person's name."))


class SettingsForm(forms.Form):
    allow_negative = forms.BooleanField(
        label=gettext_lazy("Allow funds and holdings to go below zero"), required=False,
        help_text=gettext_lazy("Only for an advance or an overdraft: otherwise a payout larger "
                               "than what the fund or the holding has is refused."))
    suppression_minimum = forms.IntegerField(
        label=gettext_lazy("Smallest count shown on the public report"), min_value=2,
        max_value=100, help_text=gettext_lazy("Cells with fewer payouts or donations show "
                                              "only “fewer than” and no amount."))
    public_report = forms.BooleanField(
        label=gettext_lazy("Publish the monthly report on a public page"), required=False)

    def __init__(self, data: Any = None, *, current: FundSettings) -> None:
        initial: dict[str, Any] = {"allow_negative": current.allow_negative,
                   "suppression_minimum": current.suppression_minimum,
                   "public_report": current.public_report}
        for code in money.CURRENCIES:
            if code in current.thresholds:
                initial[f"threshold_{code}"] = money.plain(int(current.thresholds[code]), code)
        super().__init__(data, initial=initial)
        for code in money.CURRENCIES:
            self.fields[f"threshold_{code}"] = forms.CharField(
                label=code, required=False, max_length=30,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def threshold_fields(self) -> list[forms.BoundField]:
        return [self[f"threshold_{code}"] for code in money.CURRENCIES]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("allow_negative", "suppression_minimum", "public_report")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        thresholds = {}
        for code in money.CURRENCIES:
            text = (data.get(f"threshold_{code}") or "").strip()
            if not text:
                continue
            try:
                thresholds[code] = money.parse_amount(text, code)
            except money.MoneyError as exc:
                self.add_error(f"threshold_{code}", str(exc))
        data["thresholds"] = thresholds
        return data


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           help_text=gettext_lazy("Comma, semicolon or tab separated, with a "
                                                  "header row. UTF-8 or Windows-1251."))


class MappingForm(forms.Form):
    holding = forms.TypedChoiceField(label=gettext_lazy("The money arrived in"), coerce=int)
    date_format = forms.ChoiceField(label=gettext_lazy("Dates are written as"),
                                    choices=list(DATE_FORMATS.items()))
    decimal_comma = forms.BooleanField(
        label=gettext_lazy("Amounts use a decimal comma (1234,56)"), required=False)
    currency = forms.ChoiceField(label=gettext_lazy("Currency, when there is no column"),
                                 required=False, choices=BLANK + money.CURRENCY_CHOICES)
    fund = forms.TypedChoiceField(label=gettext_lazy("Fund, when there is no column"),
                                  required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(label=gettext_lazy("Channel, when there is no column"),
                                required=False, choices=BLANK + list(Channel.choices))

    def __init__(self, *args: Any, headers: list[str], chart: Chart, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chart = chart
        columns = [("", _("— not in the file —"))] + [(h, h) for h in headers if h]
        for target, label in TARGETS.items():
            self.fields[f"col_{target}"] = forms.ChoiceField(
                label=label, required=target in ("date", "amount"), choices=columns)
            self.fields[f"col_{target}"].initial = _guess(target, headers)
        self.order_fields([f"col_{t}" for t in TARGETS])
        self.fields["holding"].choices = _accounts(chart.holdings)  # type: ignore[attr-defined]
        self.fields["fund"].choices = BLANK + _accounts(chart.funds)  # type: ignore[attr-defined]

    def mapping(self) -> Mapping:
        data = self.cleaned_data
        columns = {t: data[f"col_{t}"] for t in TARGETS if data.get(f"col_{t}")}
        return Mapping(columns=columns, currency=data.get("currency") or "",
                       fund_id=data.get("fund"), channel=data.get("channel") or "",
                       holding_id=data["holding"], date_format=data["date_format"],
                       decimal_comma=bool(data.get("decimal_comma")))

    @classmethod
    def initial_from(cls, mapping: Mapping) -> dict[str, Any]:
        initial: dict[str, Any] = {f"col_{t}": c for t, c in mapping.columns.items()}
        initial.update(currency=mapping.currency, fund=mapping.fund_id, channel=mapping.channel,
                       holding=mapping.holding_id, date_format=mapping.date_format,
                       decimal_comma=mapping.decimal_comma)
        return initial


def _guess(target: str, headers: list[str]) -> str:
    """The column whose name looks like the field, as a starting point."""
    hints = {"date": ("date", "дата"), "amount": ("amount", "sum", "сумма"),
             "currency": ("currency", "валюта"), "reference": ("ref", "donor", "назнач", "плат"),
             "fund": ("fund", "фонд"), "channel": ("channel", "канал")}[target]
    for header in headers:
        if any(h in header.casefold() for h in hints):
            return header
    return ""


class CommitForm(forms.Form):
    include_duplicates = forms.BooleanField(
        label=gettext_lazy("Import the rows flagged as duplicates too"), required=False)


class PeriodForm(forms.Form):
    start = forms.DateField(label=pgettext_lazy("first day of a period", "From"), widget=DateInput)
    end = forms.DateField(label=pgettext_lazy("last day of a period", "To"), widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end of the period is before its start."))
        return data

    @staticmethod
    def this_year() -> dict[str, datetime.date]:
        today = timezone.localdate()
        return {"start": today.replace(month=1, day=1), "end": today}


class StatementForm(PeriodForm):
    fund = forms.TypedChoiceField(label=gettext_lazy("Fund"), coerce=int)
    currency = _currency_field()

    def __init__(self, *args: Any, chart: Chart, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fund"].choices = _accounts(chart.funds)  # type: ignore[attr-defined]
        self.order_fields(["fund", "currency", "start", "end"])
