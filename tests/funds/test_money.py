from __future__ import annotations

from decimal import Decimal

import pytest

from haven.funds import money


@pytest.mark.parametrize(("text", "code", "minor"), [
    ("120.50", "EUR", 12050), ("1,234.56", "USD", 123456), ("1 234.56", "EUR", 123456),
    ("10", "RUB", 1000), ("10.500", "EUR", 1050), ("0.000001", "USDT", 1),
    ("-5.00", "EUR", -500), ("(5.00)", "EUR", -500), ("1\u00a0000", "UAH", 100000),
])
def test_it_reads_amounts_as_people_write_them(text: str, code: str, minor: int) -> None:
    assert money.parse_amount(text, code) == minor


def test_it_reads_a_decimal_comma_when_told() -> None:
    assert money.parse_amount("1.234,56", "RUB", decimal_comma=True) == 123456
    assert money.parse_amount("10,5", "EUR", decimal_comma=True) == 1050


@pytest.mark.parametrize("text", ["10,5", "1e3", "12.3.4", "", "abc", "1,23.00", "NaN", "€10"])
def test_it_refuses_what_it_would_have_to_guess(text: str) -> None:
    with pytest.raises(money.MoneyError):
        money.parse_amount(text, "EUR")


def test_it_refuses_more_decimals_than_the_currency_has() -> None:
    with pytest.raises(money.TooManyDecimals, match="EUR"):
        money.parse_amount("10.123", "EUR")
    with pytest.raises(money.TooManyDecimals):
        money.parse_amount("0.0000001", "USDT")


def test_it_refuses_unknown_currencies() -> None:
    with pytest.raises(money.UnknownCurrency, match="XYZ"):
        money.parse_amount("10", "XYZ")
    assert money.currency(" usdt ") == "USDT"


def test_it_formats_minor_units_without_floats() -> None:
    assert money.plain(123456, "EUR") == "1234.56"
    assert money.plain(1, "USDT") == "0.000001"
    assert money.format_amount(-123456, "EUR") == "−1\u202f234.56"
    assert money.to_decimal(12050, "EUR") == Decimal("120.50")


def test_the_rate_is_derived_from_both_sides() -> None:
    assert money.rate(10_000, "EUR", 10_850, "USD") == Decimal("1.085")
    assert money.rate(10_000, "USD", 920_000, "RUB") == Decimal("92")


@pytest.mark.parametrize("text", ["0", "7", "7.5", "7.50", "7.500", "123456789.12", "0.01"])
def test_the_fast_path_agrees_with_decimal(text: str) -> None:
    assert money.parse_amount(text, "EUR") == money.to_minor(Decimal(text), "EUR")
    assert money.parse_amount(text, "USDT") == money.to_minor(Decimal(text), "USDT")
