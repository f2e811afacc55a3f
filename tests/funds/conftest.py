"""Funds personas and helpers: tina (treasurer) and cora (coordinator) join alice's organization."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from haven.accounts.models import Role
from haven.funds import actions, ledger, reports
from haven.funds.models import AccountKind, Donation, Payout
from haven.vault import OrgVault
from tests.conftest import Persona, add_member


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Assertions below read English text; the interface default is Russian."""
    with translation.override("en"):
        yield


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def tina(alice: Persona) -> Persona:
    return add_member(alice, "tina", Role.TREASURER)


@pytest.fixture
def cora(alice: Persona) -> Persona:
    return add_member(alice, "cora", Role.COORDINATOR)


@pytest.fixture
def vera(alice: Persona) -> Persona:
    return add_member(alice, "vera", Role.VIEWER)


def vault(persona: Persona) -> OrgVault:
    """The persona's unlocked organization key, opened once per test."""
    found: OrgVault | None = persona.__dict__.get("_vault")
    if found is None:
        found = persona.__dict__["_vault"] = persona.vault()
    return found


def fund(persona: Persona, name: str | None = None) -> int:
    """The id of a fund ("General fund" unless named; created when missing)."""
    name = name or "General fund"
    ch = ledger.chart(persona.org)
    for pk, account in ch.funds.items():
        if account.name == name:
            return pk
    return actions.add_account(persona.member, AccountKind.FUND, name).pk


def holding(persona: Persona, name: str = "Bank account") -> int:
    ch = ledger.chart(persona.org)
    return next(pk for pk, a in ch.holdings.items() if a.name == name)


def last_month(day: int = 10) -> datetime.date:
    return reports.complete_months()[0].replace(day=day)


def donate(persona: Persona, amount: int = 10_000, currency: str = "EUR", *,
           fund_name: str | None = None, channel: str = "bank", reference: str = "",
           day: datetime.date | None = None) -> Donation:
    return actions.record_donation(
        persona.member, vault(persona), day=day or timezone.localdate(), amount=amount,
        currency=currency, fund_id=fund(persona, fund_name), holding_id=holding(persona),
        channel=channel, reference=reference)


def pay(persona: Persona, amount: int = 5_000, currency: str = "EUR", *,
        purpose: str = "tickets", fund_name: str | None = None, case: object = None,
        day: datetime.date | None = None, payee: str = "Bus company") -> Payout:
    return actions.request_payout(
        persona.member, vault(persona), purpose=purpose, amount=amount, currency=currency,
        fund_id=fund(persona, fund_name), holding_id=holding(persona), payee=payee,
        day=day or timezone.localdate(), case=case)  # type: ignore[arg-type]


def fund_balance(persona: Persona, currency: str = "EUR", fund_name: str | None = None) -> int:
    """The fund's balance computed from its entries (not the cache)."""
    pk = fund(persona, fund_name)
    return -ledger.entry_sums(persona.org.pk).get((pk, currency), 0)


def set_thresholds(persona: Persona, **thresholds: int) -> None:
    row = ledger.fund_settings(persona.org)
    row.thresholds = thresholds
    row.save()
