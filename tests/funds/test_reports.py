from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from haven.funds import actions, ledger, reports
from haven.funds.models import Purpose
from tests.conftest import Persona
from tests.funds.conftest import donate, fund, in_english, last_month, pay, vault


def _publish(persona: Persona, minimum: int = 5) -> None:
    actions.update_settings(persona.member, thresholds={"EUR": 10**9}, allow_negative=False,
                            suppression_minimum=minimum, public_report=True)


def _month_of_payouts(tina: Persona, counts: dict[str, int], amount: int = 1_000) -> None:
    _publish(tina)
    donate(tina, 1_000_000, reference="big donor", day=last_month(1))
    for purpose, n in counts.items():
        for i in range(n):
            pay(tina, amount + i, purpose=purpose, day=last_month(2))


def _report(tina: Persona) -> reports.MonthReport:
    return reports.monthly_report(tina.org, reports.complete_months()[0], 5)


def _out(report: reports.MonthReport) -> dict[str, tuple[str, str]]:
    block = report.blocks[0]
    cells = [*block.went_out, *([block.out_total] if block.out_total else [])]
    return {c.key: (reports.shown_count(c, 5), reports.shown_amount(c)) for c in cells}


def test_purposes_with_enough_payouts_are_shown_exactly(tina: Persona) -> None:
    _month_of_payouts(tina, {"tickets": 5, "documents": 6})
    assert _out(_report(tina)) == {
        "tickets": ("5", "50.10"), "documents": ("6", "60.15"), "total": ("11", "110.25")}


def test_a_small_cell_shows_fewer_than_five_and_no_amount(tina: Persona) -> None:
    _month_of_payouts(tina, {"tickets": 6, "documents": 7, "medical": 2})
    shown = _out(_report(tina))
    # Medical alone (2) would be recoverable from the total, so the smallest other
    # purpose joins it in the pool.
    assert "medical" not in shown and "tickets" not in shown
    assert shown["documents"] == ("7", "70.21")
    assert shown["other"] == ("8", "80.16")
    assert shown["total"] == ("15", "150.37")


def test_a_month_with_few_payouts_shows_no_amount_at_all(tina: Persona) -> None:
    _month_of_payouts(tina, {"tickets": 2})
    assert _out(_report(tina)) == {"other": ("<5", ""), "total": ("<5", "")}


def test_few_donations_are_suppressed_too(tina: Persona) -> None:
    donate(tina, 5_000, day=last_month())
    block = _report(tina).blocks[0]
    assert block.came_in.suppressed and reports.shown_count(block.came_in, 5) == "<5"


def test_a_reversal_in_the_month_is_netted_out(tina: Persona) -> None:
    _month_of_payouts(tina, {"tickets": 6})
    from haven.funds.models import Payout

    txn = Payout.objects.filter(purpose="tickets").first().transaction  # type: ignore[union-attr]
    assert txn is not None
    actions.reverse(tina.member, vault(tina), txn, "wrong")
    # The reversal is dated today; last month's report is unchanged.
    assert _out(_report(tina))["tickets"][0] == "6"
    this_month = reports.month_figures(tina.org.pk, timezone.localdate().replace(day=1),
                                       reports.next_month(timezone.localdate()))
    assert this_month[("expense", "tickets", "EUR")] == (-1, -1_000)


def test_the_public_page_needs_no_login_and_names_nobody(tina: Persona) -> None:
    _month_of_payouts(tina, {"tickets": 6, "medical": 1})
    html = in_english(Client()).get("/funds/public/first/").content.decode()
    assert "Bus company" not in html and "big donor" not in html
    assert "<svg" in html and "<script" not in html and " style=" not in html
    body = html.split("<h2>EUR</h2>")[1]
    assert "&lt;5" in body  # one donation this month


def test_the_public_csv_and_chart(tina: Persona) -> None:
    _month_of_payouts(tina, {"tickets": 6, "medical": 1})
    month = reports.complete_months()[0].strftime("%Y-%m")
    response = Client().get(f"/funds/public/first/csv?month={month}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["month", "direction", "purpose", "currency", "count", "amount"]
    assert [month, "in", "donations", "EUR", "<5", ""] in rows
    assert [month, "out", "other", "EUR", "7", "70.15"] in rows
    assert not any(r[2] == "medical" for r in rows)
    chart = in_english(Client()).get(f"/funds/public/first/chart.svg?month={month}")
    assert chart["Content-Type"] == "image/svg+xml"
    assert b"<svg xmlns=" in chart.content and b"fewer than 5" in chart.content


@pytest.mark.parametrize("path", ["/funds/public/nobody/", "/funds/public/first/?month=2999-01",
                                  "/funds/public/first/?month=garbage",
                                  "/funds/public/first/csv?month=13-2020"])
def test_unknown_organizations_and_months_are_404(tina: Persona, path: str) -> None:
    _publish(tina)
    assert Client().get(path).status_code == 404


def test_the_current_month_is_not_published_before_it_ends(tina: Persona) -> None:
    _publish(tina)
    month = timezone.localdate().strftime("%Y-%m")
    assert Client().get(f"/funds/public/first/?month={month}").status_code == 404


def test_the_public_page_is_off_until_the_organization_turns_it_on(tina: Persona) -> None:
    assert Client().get("/funds/public/first/").status_code == 404
    _publish(tina)
    assert Client().get("/funds/public/first/").status_code == 200
    actions.update_settings(tina.member, thresholds={}, allow_negative=False,
                            suppression_minimum=5, public_report=False)
    assert Client().get("/funds/public/first/").status_code == 404


def test_the_suppression_minimum_is_the_organizations(tina: Persona) -> None:
    _month_of_payouts(tina, {"tickets": 6})
    _publish(tina, minimum=10)
    assert "&lt;10" in Client().get("/funds/public/first/").content.decode()


def test_a_fund_statement_runs_from_opening_to_closing(tina: Persona) -> None:
    donate(tina, 10_000, day=last_month(1))
    donate(tina, 5_000, day=last_month(5))
    pay(tina, 2_500, purpose="documents", day=last_month(6))
    ch = ledger.chart(tina.org)
    st = reports.fund_statement(ch.fund(fund(tina)), "EUR", last_month(2), last_month(28))
    assert st.opening == 10_000 and st.closing == 12_500
    assert [line.amount for line in st.lines] == [5_000, -2_500]
    assert "Documents" in st.lines[1].detail
    text = reports.statement_csv(st)
    assert "opening" in text and "125.00" in text


def test_the_accountant_export_lists_every_entry_without_names(tina: Persona) -> None:
    from tests.cases.conftest import make_case

    case = make_case(tina)
    donate(tina, 10_000, reference="Secret Donor", day=last_month(1))
    pay(tina, 2_500, case=case, day=last_month(3), payee="Secret Payee")
    rows = list(reports.accountant_rows(tina.org, last_month(1), last_month(28)))
    assert rows[0] == reports.ACCOUNTANT_HEADER and len(rows) == 9
    text = repr(rows)
    assert "Secret" not in text
    assert any(r[9] == str(case.number) for r in rows[1:])
    debit = sum(int(r[7].replace(".", "")) for r in rows[1:] if r[7])
    credit = sum(int(r[8].replace(".", "")) for r in rows[1:] if r[8])
    assert debit == credit


def test_names_that_look_like_formulas_are_defused() -> None:
    assert reports.safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert reports.safe_cell("General fund") == "General fund"


def test_every_purpose_has_a_label() -> None:
    assert {str(p.label) for p in Purpose} >= {"Tickets", "Legal fees"}


def test_the_demo_seed_books_a_few_months_and_publishes_them(alice: Persona) -> None:
    from haven.funds import demo
    from haven.funds.models import Donation

    demo.seed(alice.member, vault(alice))
    count = Donation.objects.count()
    demo.seed(alice.member, vault(alice))
    assert count > 30 and Donation.objects.count() == count
    assert ledger.verify(alice.org.pk) == []
    html = in_english(Client()).get("/funds/public/first/").content.decode()
    assert "Came in (donations)" in html and "Donor" not in html
