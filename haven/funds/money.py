"""Currencies and amounts: integers of minor units, never float.

Nothing here converts between currencies. An exchange is an explicit ledger
transaction that names both sides (see :mod:`haven.funds.ledger`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import FundsError

# Currency code -> number of decimal places (ISO 4217; USDT as the token defines it).
CURRENCIES: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "RUB": 2, "UAH": 2, "USDT": 6,
    "GEL": 2, "KZT": 2, "AMD": 2, "TRY": 2, "PLN": 2, "CHF": 2, "BTC": 8,
}
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]
# Far above any real figure, far below the 64-bit limit of the database column.
MAX_MINOR = 10**15

_PLAIN = re.compile(r"^(\d{1,15})(?:\.(\d{1,18}))?$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_POINT = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_COMMA = re.compile(r"^(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


class MoneyError(FundsError, ValueError):
    """An amount or currency a person typed is not acceptable; the text says why."""


class UnknownCurrency(MoneyError):
    pass


class TooManyDecimals(MoneyError):
    pass


def currency(code: str) -> str:
    """The normalised code of a known currency, or :class:`UnknownCurrency`."""
    normal = (code or "").strip().upper()
    if normal not in CURRENCIES:
        raise UnknownCurrency(_("“%(code)s” is not a currency Haven knows; use one of %(known)s.")
                              % {"code": code.strip()[:12], "known": ", ".join(CURRENCIES)})
    return normal


def places(code: str) -> int:
    found = CURRENCIES.get(code)
    return found if found is not None else CURRENCIES[currency(code)]


def to_minor(value: Decimal, code: str) -> int:
    """``value`` in minor units of ``code``; refuses digits the currency does not have."""
    digits = places(code)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise TooManyDecimals(
            _("%(value)s has more decimals than %(code)s has (%(n)d).")
            % {"value": value, "code": currency(code), "n": digits})
    minor = int(scaled)
    if abs(minor) >= MAX_MINOR:
        raise MoneyError(_("%(value)s is too large for one amount.") % {"value": value})
    return minor


def parse_amount(text: str, code: str, *, decimal_comma: bool = False) -> int:
    """Read an amount as people and bank exports write it; return minor units.

    Group separators are spaces or the other mark than the decimal one, in groups
    of three; anything else (``10,5`` when a decimal point is expected) is refused
    rather than guessed. A leading minus or parentheses make it negative.
    """
    plain = None if decimal_comma else _PLAIN.match(text or "")
    if plain is not None and code in CURRENCIES:
        return _plain_minor(plain[1], plain[2] or "", code)
    raw = _SPACES.sub("", text or "")
    negative = raw.startswith("-") or (raw.startswith("(") and raw.endswith(")"))
    raw = raw.strip("()").removeprefix("-").removeprefix("+")
    pattern, group, point = (_COMMA, ".", ",") if decimal_comma else (_POINT, ",", ".")
    if not pattern.match(raw):
        raise MoneyError(_("“%(text)s” is not an amount; write it like %(example)s.")
                         % {"text": (text or "").strip()[:40],
                            "example": "1234,56" if decimal_comma else "1234.56"})
    try:
        value = Decimal(raw.replace(group, "").replace(point, "."))
    except InvalidOperation as exc:  # the pattern makes this unreachable; stay safe
        raise MoneyError(_("“%(text)s” is not an amount.") % {"text": text[:40]}) from exc
    return to_minor(-value if negative else value, code)


def _plain_minor(whole: str, fraction: str, code: str) -> int:
    """``123`` and ``45`` -> 12345 for a two-decimal currency: the common case, without Decimal."""
    digits = CURRENCIES[code]
    kept, extra = fraction[:digits], fraction[digits:]
    if extra.strip("0"):
        return to_minor(Decimal(f"{whole}.{fraction}"), code)  # raises TooManyDecimals
    minor = int(whole) * 10**digits + int(kept.ljust(digits, "0") or "0")
    if minor >= MAX_MINOR:
        raise MoneyError(_("%(value)s is too large for one amount.") % {"value": whole})
    return minor


def to_decimal(minor: int, code: str) -> Decimal:
    return Decimal(minor).scaleb(-places(code))


def plain(minor: int, code: str) -> str:
    """``1234.56``: for CSV files and form fields."""
    return f"{to_decimal(minor, code):.{places(code)}f}"


def format_amount(minor: int, code: str) -> str:
    """``1 234.56`` with a narrow no-break space between thousands: for pages."""
    digits = places(code)
    whole = f"{to_decimal(abs(minor), code):,.{digits}f}".replace(",", "\u202f")
    return ("−" if minor < 0 else "") + whole


def rate(from_minor: int, from_code: str, to_minor_: int, to_code: str) -> Decimal:
    """Units of ``to_code`` per unit of ``from_code``, rounded to 10 significant places."""
    ratio = to_decimal(to_minor_, to_code) / to_decimal(from_minor, from_code)
    return ratio.quantize(Decimal("1e-10"))
