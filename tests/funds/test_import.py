from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from haven.audit.models import AuditEntry
from haven.funds import actions, importing, ledger
from haven.funds.errors import FundsError
from haven.funds.models import Donation, Entry, ImportBatch
from tests.conftest import Persona
from tests.funds.conftest import donate, fund, fund_balance, holding, last_month, vault

HEADER = "Date,Amount,Currency,Reference,Fund\n"


def _mapping(tina: Persona, **extra: object) -> importing.Mapping:
    columns = {"date": "Date", "amount": "Amount", "currency": "Currency",
               "reference": "Reference"}
    return importing.Mapping(columns=columns, fund_id=fund(tina), channel="bank",
                             holding_id=holding(tina), **extra)  # type: ignore[arg-type]


def _check(tina: Persona, text: str, **extra: object) -> importing.Parsed:
    return importing.check_file(text.encode(), _mapping(tina, **extra), ledger.chart(tina.org),
                                tina.org.pk, vault(tina))


def _book(tina: Persona, parsed: importing.Parsed, include: bool = False) -> ImportBatch:
    rows = parsed.to_book(include)
    return actions.import_donations(tina.member, vault(tina), rows, holding_id=holding(tina),
                                    source="web", skipped=len(parsed.rows) - len(rows))


def test_it_books_every_row_of_a_clean_file(tina: Persona) -> None:
    day = last_month().isoformat()
    parsed = _check(tina, HEADER + f"{day},10.50,EUR,Anna K,\n{day},200,UAH,,\n")
    assert not parsed.errors and len(parsed.rows) == 2
    batch = _book(tina, parsed)
    assert batch.rows == 2 and Donation.objects.filter(batch=batch).count() == 2
    assert fund_balance(tina, "EUR") == 1050 and fund_balance(tina, "UAH") == 20000
    assert not ledger.verify(tina.org.pk)
    audit = AuditEntry.objects.get(action="funds.import")
    assert audit.detail["rows"] == 2 and "Anna" not in str(audit.detail)


def test_donor_references_are_stored_encrypted_with_a_keyed_hash(tina: Persona) -> None:
    _book(tina, _check(tina, HEADER + f"{last_month().isoformat()},10,EUR,Anna Karenina,\n"))
    donation = Donation.objects.get()
    assert b"Anna" not in bytes(donation.reference or b"")
    assert vault(tina).decrypt_text(bytes(donation.reference or b"")) == "Anna Karenina"
    assert donation.reference_hash == actions.reference_hash(vault(tina), " anna  KARENINA")


@pytest.mark.parametrize(("line", "column", "words"), [
    ("2025-02-30,10,EUR,x,", "Date", "not a date"),
    ("{day},10.123,EUR,x,", "Amount", "more decimals"),
    ("{day},-10,EUR,x,", "Amount", "positive"),
    ("{day},0,EUR,x,", "Amount", "positive"),
    ("{day},ten,EUR,x,", "Amount", "not an amount"),
    ("{day},10,XYZ,x,", "Currency", "XYZ"),
    ("{day},,EUR,x,", "Amount", "empty"),
])
def test_a_broken_row_is_named_by_row_and_column(tina: Persona, line: str, column: str,
                                                 words: str) -> None:
    good = f"{last_month().isoformat()},5,EUR,ok,"
    parsed = _check(tina, HEADER + f"{good}\n{good}x\n" + line.format(day=last_month()) + "\n")
    assert len(parsed.errors) == 1
    error = parsed.errors[0]
    assert (error.row, error.column) == (4, column)
    assert words in error.message
    assert str(error).startswith("Row 4, column “" + column + "”")


def test_a_file_with_any_error_books_nothing(tina: Persona) -> None:
    day = last_month().isoformat()
    parsed = _check(tina, HEADER + f"{day},10,EUR,a,\n{day},-1,EUR,b,\n")
    assert parsed.error_count == 1
    with pytest.raises(CommandError):
        _write_and_import(tina, HEADER + f"{day},10,EUR,a,\n{day},-1,EUR,b,\n")
    assert not Entry.objects.exists() and not Donation.objects.exists()


def test_a_failure_while_booking_leaves_nothing_behind(tina: Persona,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    day = last_month().isoformat()
    rows = "".join(f"{day},{n + 1},EUR,r{n},\n" for n in range(25))
    parsed = _check(tina, HEADER + rows)
    monkeypatch.setattr(actions, "IMPORT_CHUNK", 10)
    real = ledger.post_donations
    calls = []

    def fail_on_third(*args: object, **kwargs: object) -> list[int]:
        calls.append(1)
        if len(calls) == 3:
            raise ledger.LedgerError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger, "post_donations", fail_on_third)
    with pytest.raises(FundsError):
        _book(tina, parsed)
    assert not Entry.objects.exists() and not ImportBatch.objects.exists()
    assert not ledger.cached_sums(tina.org.pk) or not any(ledger.cached_sums(tina.org.pk).values())


def test_duplicates_of_booked_donations_and_within_the_file_are_flagged(tina: Persona) -> None:
    day = last_month()
    donate(tina, 1000, reference="Anna K", day=day)
    text = HEADER + (f"{day},10.00,EUR,anna k,\n{day},10.00,EUR,Boris,\n"
                     f"{day},10.00,EUR,Boris,\n{day},11.00,EUR,Anna K,\n")
    parsed = _check(tina, text)
    assert parsed.duplicates == {2, 4}
    assert _book(tina, parsed).rows == 2
    again = _check(tina, text)
    assert again.duplicates == {2, 3, 4, 5}


def test_duplicates_can_be_imported_on_purpose(tina: Persona) -> None:
    day = last_month().isoformat()
    parsed = _check(tina, HEADER + f"{day},10,EUR,,\n{day},10,EUR,,\n")
    assert parsed.duplicates == {3}
    assert _book(tina, parsed, include=True).rows == 2


def test_a_reversed_donation_is_not_a_duplicate(tina: Persona) -> None:
    day = last_month()
    txn = donate(tina, 1000, reference="Anna", day=day).transaction
    actions.reverse(tina.member, vault(tina), txn, "booked twice")
    assert not _check(tina, HEADER + f"{day},10,EUR,Anna,\n").duplicates


def test_it_reads_bank_exports_in_windows_1251_with_semicolons(tina: Persona) -> None:
    text = "Дата;Сумма;Плательщик\n" + f"{last_month():%d.%m.%Y};1 234,56;Иван\n"
    mapping = importing.Mapping(
        columns={"date": "Дата", "amount": "Сумма", "reference": "Плательщик"}, currency="RUB",
        fund_id=fund(tina), channel="bank", holding_id=holding(tina), date_format="dmy",
        decimal_comma=True)
    parsed = importing.check_file(text.encode("cp1251"), mapping, ledger.chart(tina.org),
                                  tina.org.pk, vault(tina))
    assert not parsed.errors
    assert (parsed.rows[0].amount, parsed.rows[0].currency, parsed.rows[0].reference) == (
        123456, "RUB", "Иван")


def test_fund_and_channel_columns_are_matched_by_name(tina: Persona) -> None:
    fund(tina, "Evacuation")
    text = ("Date,Amount,Fund,Channel\n" + f"{last_month()},5,evacuation,Crypto\n"
            f"{last_month()},5,Nowhere,bank\n{last_month()},5,Evacuation,pigeon\n")
    mapping = importing.Mapping(columns={"date": "Date", "amount": "Amount", "fund": "Fund",
                                         "channel": "Channel"}, currency="USDT",
                                holding_id=holding(tina))
    parsed = importing.check_file(text.encode(), mapping, ledger.chart(tina.org), tina.org.pk,
                                  vault(tina))
    assert parsed.rows[0].fund_id == fund(tina, "Evacuation") and parsed.rows[0].channel == "crypto"
    assert [(e.row, e.column) for e in parsed.errors] == [(3, "Fund"), (4, "Channel")]


def test_a_mapping_must_name_what_it_needs(tina: Persona) -> None:
    mapping = importing.Mapping(columns={"date": "Date", "amount": "Nope"})
    with pytest.raises(FundsError) as info:
        importing.check_file(b"Date,Amount\n2025-01-01,1\n", mapping, ledger.chart(tina.org),
                             tina.org.pk, vault(tina))
    message = str(info.value)
    assert "Nope" in message and "currency" in message and "holding" in message


@pytest.mark.parametrize("data", [b"", b"\n\n", b"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml",
                                  b"Date,Date\n2025-01-01,2025-01-01\n"])
def test_unreadable_files_are_refused_plainly(data: bytes) -> None:
    with pytest.raises(FundsError):
        importing.read_table(data)


def test_it_reads_utf16_text_from_excel(tina: Persona) -> None:
    text = f"Date\tAmount\tCurrency\tReference\n{last_month()}\t7\tEUR\tЖеня\n"
    parsed = importing.check_file(
        text.encode("utf-16"), _mapping(tina), ledger.chart(tina.org), tina.org.pk, vault(tina))
    assert [(r.amount, r.reference) for r in parsed.rows] == [(700, "Женя")]


# --- the command line ---------------------------------------------------------


def _write_and_import(tina: Persona, text: str, *extra: str, tmp: Path | None = None,
                      password: str | None = None) -> None:
    import os
    import tempfile

    folder = tmp or Path(tempfile.mkdtemp())
    path = folder / "export.csv"
    path.write_text(text, encoding="utf-8")
    os.environ["HAVEN_IMPORT_PASSWORD"] = password or tina.password
    try:
        call_command("funds", "import", str(path), "--org", tina.org.slug, "--user",
                     tina.member.username, "--fund", "General fund",
                     "--map", "date=Date,amount=Amount,currency=Currency,reference=Reference",
                     *extra)
    finally:
        del os.environ["HAVEN_IMPORT_PASSWORD"]


def test_the_command_line_import_books_the_file_with_a_progress_bar(
        tina: Persona, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day = last_month().isoformat()
    rows = "".join(f"{day},{n + 1}.00,EUR,donor {n},\n" for n in range(120))
    _write_and_import(tina, HEADER + rows, tmp=tmp_path)
    out = capsys.readouterr()
    assert "imported 120 donations" in out.out
    assert "\rbooking  [" in out.err and "120/120 rows" in out.err
    assert fund_balance(tina) == sum(range(1, 121)) * 100
    batch = ImportBatch.objects.get()
    assert batch.source == "cli" and batch.member == tina.member


def test_the_command_line_import_needs_the_members_password(tina: Persona, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="password"):
        _write_and_import(tina, HEADER + f"{last_month()},1,EUR,,\n", tmp=tmp_path,
                          password="not-the-password")
    assert not Entry.objects.exists()


def test_the_command_line_import_refuses_members_who_do_not_manage_funds(
        bob: Persona, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="manages funds"):
        _write_and_import(bob, HEADER + f"{last_month()},1,EUR,,\n", tmp=tmp_path)


def test_a_dry_run_books_nothing(tina: Persona, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    _write_and_import(tina, HEADER + f"{last_month()},1,EUR,,\n", "--dry-run", tmp=tmp_path)
    assert "1 rows would be imported" in capsys.readouterr().out
    assert not Entry.objects.exists()
