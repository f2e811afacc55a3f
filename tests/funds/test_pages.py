from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haven.funds.models import (
    Donation,
    Entry,
    FundSettings,
    ImportDraft,
    Payout,
    PayoutStatus,
    Transaction,
)
from tests.cases.conftest import make_case
from tests.conftest import Persona, log_in
from tests.funds.conftest import (
    donate,
    fund,
    fund_balance,
    holding,
    in_english,
    last_month,
    pay,
    set_thresholds,
)


def _client(persona: Persona) -> Client:
    return in_english(log_in(Client(), persona))


def _assert_plain_html(html: str) -> None:
    assert "<script" not in html and " style=" not in html


def test_a_treasurer_sees_each_funds_balance_per_currency(tina: Persona) -> None:
    donate(tina, 12_345, "EUR")
    donate(tina, 5_000_000, "RUB")
    html = _client(tina).get("/funds/").content.decode()
    assert "123.45 EUR" in html and "50\u202f000.00 RUB" in html
    assert "Record a donation" in html
    _assert_plain_html(html)


def test_a_viewer_reads_balances_but_changes_nothing(tina: Persona, vera: Persona) -> None:
    donate(tina, 100)
    client = _client(vera)
    html = client.get("/funds/").content.decode()
    assert "1.00 EUR" in html and "Record a donation" not in html
    for path in ("/funds/donations/new/", "/funds/payouts/", "/funds/import/", "/funds/export/",
                 "/funds/settings/"):
        assert client.get(path).status_code == 404, path
    assert client.get("/funds/statement/").status_code == 200


def test_a_caseworker_gets_404_on_the_funds_pages(bob: Persona) -> None:
    client = _client(bob)
    for path in ("/funds/", "/funds/statement/", "/funds/payouts/new/"):
        assert client.get(path).status_code == 404, path


def test_logged_out_visitors_are_sent_to_log_in(alice: Persona) -> None:
    response = Client().get("/funds/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_organization_gets_404_on_every_funds_url_and_object(
        tina: Persona, charlie: Persona) -> None:
    donation = donate(tina, 50_000)
    set_thresholds(tina, EUR=0)
    payout = pay(tina, 100)
    log_in(Client(), tina).post("/funds/import/", {"file": SimpleUploadedFile(
        "x.csv", b"Date,Amount\n2025-01-01,1\n")})
    draft = ImportDraft.objects.get()
    client = _client(charlie)
    gets = [f"/funds/transactions/{donation.transaction_id}/", f"/funds/import/{draft.pk}/",
            f"/funds/import/{draft.pk}/preview/"]
    posts = [f"/funds/payouts/{payout.pk}/approve/", f"/funds/payouts/{payout.pk}/decline/",
             f"/funds/transactions/{donation.transaction_id}/reverse/",
             f"/funds/import/{draft.pk}/commit/", f"/funds/import/{draft.pk}/cancel/"]
    for path in gets:
        assert client.get(path).status_code == 404, path
    for path in posts:
        assert client.post(path, {"reason": "x"}).status_code == 404, path
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.AWAITING
    assert not Transaction.objects.filter(reverses__isnull=False).exists()
    assert ImportDraft.objects.filter(pk=draft.pk).exists()
    # Charlie's own pages show only charlie's organization.
    assert "500.00" not in client.get("/funds/").content.decode()


def test_the_donation_form_records_a_donation(tina: Persona) -> None:
    response = _client(tina).post("/funds/donations/new/", {
        "date": last_month().isoformat(), "amount": "25.50", "currency": "USD",
        "fund": fund(tina), "channel": "card", "holding": holding(tina), "reference": "Oleg"})
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert (donation.amount, donation.currency, donation.channel) == (2550, "USD", "card")


@pytest.mark.parametrize(("amount", "currency", "words"), [
    ("10.123", "EUR", "more decimals"), ("-5", "EUR", "more than zero"),
    ("5", "XYZ", "Select a valid choice"), ("ten", "EUR", "not an amount")])
def test_the_donation_form_refuses_bad_amounts_and_writes_nothing(
        tina: Persona, amount: str, currency: str, words: str) -> None:
    response = _client(tina).post("/funds/donations/new/", {
        "date": last_month().isoformat(), "amount": amount, "currency": currency,
        "fund": fund(tina), "channel": "bank", "holding": holding(tina)})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Entry.objects.exists()


def test_paying_out_for_a_case_from_the_case_link(tina: Persona) -> None:
    case = make_case(tina)
    donate(tina, 50_000)
    client = _client(tina)
    form = client.get(f"/funds/payouts/new/?case={case.number}").content.decode()
    assert f'value="{case.number}"' in form
    response = client.post("/funds/payouts/new/", {
        "case": case.number, "purpose": "tickets", "amount": "87.00", "currency": "EUR",
        "fund": fund(tina), "holding": holding(tina), "payee": "Bus to the border",
        "date": last_month().isoformat()})
    assert response.status_code == 302
    payout = Payout.objects.get()
    assert payout.case == case and payout.status == PayoutStatus.PAID


def test_a_payout_for_another_organizations_case_is_refused(tina: Persona,
                                                            charlie: Persona) -> None:
    donate(tina, 50_000)
    foreign = make_case(charlie)
    make_case(charlie)
    response = _client(tina).post("/funds/payouts/new/", {
        "case": foreign.number + 1, "purpose": "tickets", "amount": "5", "currency": "EUR",
        "fund": fund(tina), "holding": holding(tina), "payee": "x",
        "date": last_month().isoformat()})
    assert response.status_code == 400
    assert "no case #" in response.content.decode()
    assert not Payout.objects.exists()


def test_approving_through_the_page(tina: Persona, cora: Persona) -> None:
    donate(tina, 50_000)
    set_thresholds(tina, EUR=1_000)
    payout = pay(tina, 30_000)
    own = _client(tina)
    page = own.get("/funds/payouts/").content.decode()
    assert "Bus company" in page and f"/funds/payouts/{payout.pk}/approve/" not in page
    own.post(f"/funds/payouts/{payout.pk}/approve/")
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.AWAITING
    response = _client(cora).post(f"/funds/payouts/{payout.pk}/approve/")
    assert response.status_code == 302
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID and fund_balance(tina) == 20_000


def test_reversing_through_the_page(tina: Persona) -> None:
    donation = donate(tina, 5_000, reference="Typo Donor")
    client = _client(tina)
    page = client.get(f"/funds/transactions/{donation.transaction_id}/").content.decode()
    assert "Typo Donor" in page and "Reverse this transaction" in page
    assert client.post(f"/funds/transactions/{donation.transaction_id}/reverse/",
                       {"reason": ""}).status_code == 302
    assert not Transaction.objects.filter(reverses__isnull=False).exists()
    client.post(f"/funds/transactions/{donation.transaction_id}/reverse/",
                {"reason": "entered twice"})
    assert fund_balance(tina) == 0


def test_the_exchange_form(tina: Persona) -> None:
    donate(tina, 10_000)
    response = _client(tina).post("/funds/exchange/", {
        "date": last_month().isoformat(), "fund": fund(tina), "from_holding": holding(tina),
        "from_amount": "100", "from_currency": "EUR", "to_holding": holding(tina, "Cash"),
        "to_amount": "108.40", "to_currency": "USD"})
    assert response.status_code == 302
    assert fund_balance(tina, "USD") == 10_840


def test_moving_cash_from_the_bank(tina: Persona) -> None:
    donate(tina, 10_000)
    response = _client(tina).post("/funds/transfer/", {
        "date": last_month().isoformat(), "source": holding(tina), "target": holding(tina, "Cash"),
        "amount": "40", "currency": "EUR"})
    assert response.status_code == 302
    from haven.funds import ledger

    sums = ledger.entry_sums(tina.org.pk)
    assert sums[(holding(tina), "EUR")] == 6_000 and sums[(holding(tina, "Cash"), "EUR")] == 4_000
    assert fund_balance(tina) == 10_000


def test_settings_are_for_admins_and_treasurers(tina: Persona, cora: Persona) -> None:
    assert _client(cora).get("/funds/settings/").status_code == 404
    client = _client(tina)
    page = client.get("/funds/settings/").content.decode()
    assert "every payout in it needs approval" in page
    response = client.post("/funds/settings/", {
        "threshold_EUR": "150.00", "threshold_USDT": "10.5", "suppression_minimum": "7",
        "public_report": "on"})
    assert response.status_code == 302
    row = FundSettings.objects.get(pk=tina.org.pk)
    assert row.thresholds == {"EUR": 15_000, "USDT": 10_500_000}
    assert row.suppression_minimum == 7 and row.public_report and not row.allow_negative
    bad = client.post("/funds/settings/", {"threshold_EUR": "1.001", "suppression_minimum": "5"})
    assert bad.status_code == 400 and "more decimals" in bad.content.decode()


def test_the_statement_and_the_accountant_export(tina: Persona) -> None:
    donate(tina, 10_000, day=last_month(3))
    client = _client(tina)
    period = {"fund": fund(tina), "currency": "EUR", "start": last_month(1).isoformat(),
              "end": last_month(28).isoformat()}
    page = client.get("/funds/statement/", period).content.decode()
    assert "Closing balance" in page and "100.00" in page
    csv_text = client.get("/funds/statement/", {**period, "format": "csv"}).content.decode()
    assert csv_text.startswith("date,transaction,kind")
    export = client.get("/funds/export/", {"start": period["start"], "end": period["end"]})
    body = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.startswith("date,transaction,kind,reverses") and body.count("\n") == 5


def test_the_import_wizard_from_upload_to_commit(tina: Persona) -> None:
    client = _client(tina)
    day = last_month().isoformat()
    data = f"Date;Amount;Payer\n{day};10,00;Anna\n{day};20,00;Boris\n".encode()
    response = client.post("/funds/import/", {"file": SimpleUploadedFile("bank.csv", data)})
    draft = ImportDraft.objects.get()
    assert response["Location"] == f"/funds/import/{draft.pk}/"
    assert b"Anna" not in bytes(draft.data)
    page = client.get(f"/funds/import/{draft.pk}/").content.decode()
    assert "Anna" in page and "Payer" in page
    mapping = {"col_date": "Date", "col_amount": "Amount", "col_reference": "Payer",
               "currency": "EUR", "fund": fund(tina), "channel": "bank",
               "holding": holding(tina), "date_format": "iso", "decimal_comma": "on"}
    response = client.post(f"/funds/import/{draft.pk}/", mapping)
    assert response["Location"] == f"/funds/import/{draft.pk}/preview/"
    preview = client.get(f"/funds/import/{draft.pk}/preview/").content.decode()
    assert "2 rows can be booked" in preview and "Import 2 donations" in preview
    response = client.post(f"/funds/import/{draft.pk}/commit/")
    assert response["Location"] == "/funds/donations/"
    assert fund_balance(tina) == 3_000 and not ImportDraft.objects.exists()


def test_the_wizard_lists_errors_by_row_and_column_and_refuses_to_commit(tina: Persona) -> None:
    client = _client(tina)
    day = last_month().isoformat()
    data = f"Date,Amount\n{day},10.00\n{day},10.001\n{day},-3\n".encode()
    client.post("/funds/import/", {"file": SimpleUploadedFile("bank.csv", data)})
    draft = ImportDraft.objects.get()
    client.post(f"/funds/import/{draft.pk}/", {
        "col_date": "Date", "col_amount": "Amount", "currency": "EUR", "fund": fund(tina),
        "channel": "bank", "holding": holding(tina), "date_format": "iso"})
    preview = client.get(f"/funds/import/{draft.pk}/preview/").content.decode()
    assert "Row 3, column “Amount”" in preview and "Row 4, column “Amount”" in preview
    assert "/commit/" not in preview
    client.post(f"/funds/import/{draft.pk}/commit/")
    assert not Entry.objects.exists()


def test_an_upload_belongs_to_the_member_who_made_it(tina: Persona, cora: Persona) -> None:
    _client(tina).post("/funds/import/", {"file": SimpleUploadedFile("a.csv", b"A,B\n1,2\n")})
    draft = ImportDraft.objects.get()
    assert _client(cora).get(f"/funds/import/{draft.pk}/").status_code == 404


def test_an_upload_by_someone_who_may_not_import_is_not_read(bob: Persona) -> None:
    response = log_in(Client(), bob).post("/funds/import/", {
        "file": SimpleUploadedFile("a.csv", b"A\n1\n")})
    assert response.status_code == 404
    assert Client().post("/funds/import/", {
        "file": SimpleUploadedFile("a.csv", b"A\n1\n")}).status_code == 302


def test_the_upload_keeps_its_csrf_check(tina: Persona) -> None:
    client = log_in(Client(), tina)
    client.handler.enforce_csrf_checks = True
    response = client.post("/funds/import/", {"file": SimpleUploadedFile("a.csv", b"A\n1\n")})
    assert response.status_code == 403
    assert not ImportDraft.objects.exists()


def test_a_file_that_is_not_csv_is_refused_on_upload(tina: Persona) -> None:
    response = _client(tina).post("/funds/import/", {
        "file": SimpleUploadedFile("a.xlsx", b"PK\x03\x04\x00\x00binary")})
    assert response.status_code == 400 and "not a CSV" in response.content.decode()
    assert not ImportDraft.objects.exists()


def test_the_case_page_fragment_shows_payouts_and_the_pay_link(tina: Persona,
                                                               bob: Persona) -> None:
    from django.template.loader import render_to_string

    from haven.funds.case import payouts_for_case

    case = make_case(tina)
    donate(tina, 50_000)
    pay(tina, 4_000, case=case, payee="Clinic")
    for persona, link in ((tina, True), (bob, False)):
        html = render_to_string("funds/case_payouts.html", {
            "payouts": payouts_for_case(persona.member, persona.vault(), case), "case": case,
            "member": persona.member})
        assert "Clinic" in html and "40.00 EUR" in html
        assert (f"/funds/payouts/new/?case={case.number}" in html) is link


def test_every_page_renders_without_script_or_inline_style(tina: Persona) -> None:
    donation = donate(tina, 10_000)
    set_thresholds(tina, EUR=0)
    pay(tina, 100)
    client = _client(tina)
    client.post("/funds/import/", {"file": SimpleUploadedFile("a.csv", b"Date,Amount\n")})
    draft = ImportDraft.objects.get()
    paths = ["/funds/", "/funds/donations/", "/funds/donations/new/", "/funds/import/",
             f"/funds/import/{draft.pk}/", "/funds/payouts/", "/funds/payouts/new/",
             f"/funds/transactions/{donation.transaction_id}/", "/funds/exchange/",
             "/funds/transfer/", "/funds/statement/", "/funds/export/", "/funds/settings/"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_plain_html(response.content.decode())
        assert response["Cache-Control"] == "no-store", path


def test_a_file_over_the_web_limit_is_sent_to_the_command_line(tina: Persona) -> None:
    from haven.funds.wizard import MAX_UPLOAD

    big = b"Date,Amount\n" + b"2025-01-01,1.00\n" * (MAX_UPLOAD // 16 + 10_000)
    response = _client(tina).post("/funds/import/", {"file": SimpleUploadedFile("big.csv", big)})
    assert response.status_code == 400
    assert "haven funds import" in response.content.decode()
    assert not ImportDraft.objects.exists()
