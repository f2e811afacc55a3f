"""A treasurer outside a case's team pays for it by number and never sees its content."""

from __future__ import annotations

from django.test import Client

from haven.accounts.models import Role
from haven.funds.models import Payout
from tests.cases.test_teams import _setup
from tests.conftest import Persona, add_member, log_in
from tests.funds.conftest import donate, fund, holding, last_month


def test_a_treasurer_outside_the_team_sees_the_case_number_only(alice: Persona) -> None:
    s = _setup(alice)
    tess = add_member(alice, "tess", Role.TREASURER, teams=[])
    donate(tess, 50_000)
    case = s["summons"]
    client = log_in(Client(), tess)
    response = client.post("/funds/payouts/new/", {
        "case": case.number, "purpose": "tickets", "amount": "87.00", "currency": "EUR",
        "fund": fund(tess), "holding": holding(tess), "payee": "Bus to the border",
        "date": last_month().isoformat()})
    assert response.status_code == 302
    assert Payout.objects.get().case_id == case.pk
    payouts = client.get("/funds/payouts/").content.decode()
    assert f"#{case.number}" in payouts
    assert "Legal-planted" not in payouts and "Повестка" not in payouts
    assert client.get(f"/desk/cases/{case.number}/").status_code == 404
    assert f">#{case.number}</a>" not in client.get("/desk/?queue=open").content.decode()
