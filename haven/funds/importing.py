"""CSV import of donations: read the file, map its columns, check every row, flag duplicates.

Nothing here writes to the books: :func:`haven.funds.actions.import_donations`
books the checked rows, all or nothing. Errors name the row as a spreadsheet
shows it (the header is row 1) and the column by its header.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haven.vault import OrgVault

from . import money
from .actions import reference_hash
from .errors import FundsError
from .ledger import Chart
from .models import Channel, Donation

TARGETS = {
    "date": gettext_lazy("Date"),
    "amount": gettext_lazy("Amount"),
    "currency": gettext_lazy("Currency"),
    "reference": gettext_lazy("Donor reference"),
    "fund": gettext_lazy("Fund"),
    "channel": gettext_lazy("Channel"),
}
DATE_FORMATS = {
    "iso": gettext_lazy("2025-03-31 (year-month-day)"),
    "dmy": gettext_lazy("31.03.2025 or 31/03/2025 (day first)"),
    "mdy": gettext_lazy("03/31/2025 (month first)"),
}
MAX_ERRORS = 500
MAX_REFERENCE = 200
_DATE = {
    "iso": re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    "dmy": re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})"),
    "mdy": re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"),
}
Progress = Callable[[int, int], None]


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (spreadsheet row number, cells)


@dataclass
class Mapping:
    """Which column feeds which field, and the values used when a column is not mapped."""

    columns: dict[str, str] = field(default_factory=dict)
    currency: str = ""
    fund_id: int | None = None
    channel: str = ""
    holding_id: int | None = None
    date_format: str = "iso"
    decimal_comma: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Mapping:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(slots=True)
class Row:
    row: int
    day: datetime.date
    amount: int
    currency: str
    reference: str
    fund_id: int
    channel: str
    ref_hash: str = ""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)d, column “%(column)s”: %(message)s") % {
            "row": self.row, "column": self.column, "message": self.message}


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    duplicates: set[int] = field(default_factory=set)  # row numbers

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def to_book(self, include_duplicates: bool) -> list[Row]:
        if include_duplicates:
            return self.rows
        return [r for r in self.rows if r.row not in self.duplicates]


# --- reading ------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"), else
    Windows-1251, which Russian banks still export. Binary files (xlsx, pdf) are refused."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data[:8192]:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                return data.decode("cp1251")
            except UnicodeDecodeError:
                pass
    raise FundsError(_("This is not a CSV text file (a spreadsheet or a PDF?). Save it as "
                       "“CSV UTF-8” and try again."))


def read_table(data: bytes) -> Table:
    """The header and the non-empty rows of a CSV file (comma, semicolon or tab)."""
    text = decode(data).replace("\x00", "")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        headers = [h.strip() for h in next(reader)]
        rows = [(number, cells) for number, cells in enumerate(reader, start=2)
                if any(c.strip() for c in cells)]
    except (StopIteration, csv.Error) as exc:
        raise FundsError(_("This does not read as a CSV file with a header row.")) from exc
    if not any(headers):
        raise FundsError(_("The first row must name the columns."))
    seen = [h for h in headers if h]
    if len(set(seen)) != len(seen):
        raise FundsError(_("Two columns have the same name in the header row; rename one."))
    return Table(headers, rows)


def check_mapping(mapping: Mapping, headers: list[str], ch: Chart) -> list[str]:
    """Problems with the mapping itself, before any row is read."""
    problems = []
    for target, column in mapping.columns.items():
        if target not in TARGETS or column not in headers:
            problems.append(_("There is no column “%(c)s” in the file.") % {"c": column})
    for target in ("date", "amount"):
        if target not in mapping.columns:
            problems.append(_("Choose the column that holds the %(what)s.")
                            % {"what": str(TARGETS[target]).lower()})
    if "currency" not in mapping.columns and mapping.currency not in money.CURRENCIES:
        problems.append(_("Choose a currency column, or one currency for every row."))
    if "fund" not in mapping.columns and mapping.fund_id not in ch.funds:
        problems.append(_("Choose a fund column, or one fund for every row."))
    if "channel" not in mapping.columns and mapping.channel not in Channel.values:
        problems.append(_("Choose a channel column, or one channel for every row."))
    if mapping.holding_id not in ch.holdings:
        problems.append(_("Choose where the money arrived (a holding)."))
    if mapping.date_format not in DATE_FORMATS:
        problems.append(_("Choose how dates are written in the file."))
    return problems


# --- checking rows ---------------------------------------------------------------


class _Reader:
    """Turns one row's cells into a :class:`Row`, or reports the first bad cell."""

    def __init__(self, table: Table, mapping: Mapping, ch: Chart) -> None:
        self.mapping = mapping
        self.index = {t: table.headers.index(c) for t, c in mapping.columns.items()}
        self.funds = {a.name.casefold(): a.pk for a in ch.funds.values()}
        self.channels = {c.value: c.value for c in Channel}
        self.channels.update({str(c.label).casefold(): c.value for c in Channel})
        self.latest = timezone.localdate() + datetime.timedelta(days=1)
        self.width = len(table.headers)

    def row(self, number: int, cells: list[str]) -> Row | RowError:
        # One call per row of a 100,000-row file: plain lookups, no helper per cell.
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        m, at = self.mapping, self.index
        target = "currency"
        try:
            if target in at:
                text = cells[at[target]].strip()
                code = text if text in money.CURRENCIES else money.currency(text)
            else:
                code = m.currency
            target = "date"
            day = self.day(cells[at[target]].strip())
            target = "amount"
            amount = self.amount(cells[at[target]].strip(), code)
            target = "fund"
            fund_id = self.fund(cells[at[target]].strip()) if target in at else m.fund_id
            target = "channel"
            channel = self.channel(cells[at[target]].strip()) if target in at else m.channel
            target = "reference"
            reference = self.reference(cells[at[target]]) if target in at else ""
        except FundsError as exc:
            return RowError(number, m.columns[target], str(exc))
        assert fund_id is not None  # noqa: S101 - check_mapping made sure
        return Row(number, day, amount, code, reference, fund_id, channel)

    def day(self, text: str) -> datetime.date:
        found = _DATE[self.mapping.date_format].match(text)
        try:
            if not found:
                raise ValueError(text)
            day = datetime.date(int(found["y"]), int(found["m"]), int(found["d"]))
        except ValueError as exc:
            raise FundsError(_("“%(text)s” is not a date written like %(example)s.") % {
                "text": text[:40], "example": DATE_FORMATS[self.mapping.date_format]}) from exc
        if day > self.latest or day.year < 2000:
            raise FundsError(_("%(day)s is in the future or too far back.")
                             % {"day": day.isoformat()})
        return day

    def amount(self, text: str, code: str) -> int:
        if not text:
            raise FundsError(_("the amount is empty."))
        amount = money.parse_amount(text, code, decimal_comma=self.mapping.decimal_comma)
        if amount <= 0:
            raise FundsError(_("%(text)s is not more than zero; a donation must be positive "
                               "(leave refunds and outgoing payments out of the file).")
                             % {"text": text[:40]})
        return amount

    def fund(self, text: str) -> int:
        pk = self.funds.get(text.casefold())
        if pk is None:
            raise FundsError(_("there is no fund called “%(name)s”; create it in the funds "
                               "settings or correct the name.") % {"name": text[:60]})
        return pk

    def channel(self, text: str) -> str:
        code = self.channels.get(text.casefold())
        if code is None:
            raise FundsError(_("“%(text)s” is not a channel; use one of %(known)s.") % {
                "text": text[:40], "known": ", ".join(Channel.values)})
        return code

    @staticmethod
    def reference(text: str) -> str:
        text = " ".join(text.replace("\x00", "").split())
        if len(text) > MAX_REFERENCE:
            raise FundsError(_("the reference is longer than %(n)d characters.")
                             % {"n": MAX_REFERENCE})
        return text


def parse(table: Table, mapping: Mapping, ch: Chart, *,
          progress: Progress | None = None) -> Parsed:
    """Check every row; collect the good ones and every error (row and column named)."""
    problems = check_mapping(mapping, table.headers, ch)
    if problems:
        raise FundsError(" ".join(problems))
    if not table.rows:
        raise FundsError(_("The file has a header but no rows."))
    reader, parsed, total = _Reader(table, mapping, ch), Parsed(), len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        result = reader.row(number, cells)
        if isinstance(result, RowError):
            parsed.add_error(result)
        else:
            parsed.rows.append(result)
        if progress and (done % 5000 == 0 or done == total):
            progress(done, total)
    return parsed


def mark_duplicates(parsed: Parsed, org_id: int, vault: OrgVault) -> None:
    """Flag rows matching a booked donation, or an earlier row of the file.

    A duplicate has the same date, amount, currency and donor reference (compared
    by keyed hash; two rows without a reference match each other). Donations
    that were reversed do not count.
    """
    if not parsed.rows:
        return
    for row in parsed.rows:
        row.ref_hash = reference_hash(vault, row.reference)
    first = min(r.day for r in parsed.rows)
    last = max(r.day for r in parsed.rows)
    booked = set(
        Donation.objects.filter(organization_id=org_id, date__range=(first, last),
                                transaction__reversed_by__isnull=True)
        .values_list("date", "amount", "currency", "reference_hash"))
    seen: set[tuple[datetime.date, int, str, str]] = set()
    for row in parsed.rows:
        key = (row.day, row.amount, row.currency, row.ref_hash)
        if key in booked or key in seen:
            parsed.duplicates.add(row.row)
        seen.add(key)


def check_file(data: bytes, mapping: Mapping, ch: Chart, org_id: int, vault: OrgVault, *,
               progress: Progress | None = None) -> Parsed:
    """Read, check and flag duplicates: everything the preview and the commit need."""
    parsed = parse(read_table(data), mapping, ch, progress=progress)
    mark_duplicates(parsed, org_id, vault)
    return parsed

