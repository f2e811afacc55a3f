"""An organization's monthly figures: counted, made private, signed, combined.

Counting reads clear metadata only (a case's category, channel, status and times, and
the network's referral rows); nothing is decrypted. What is counted, for one calendar
month in the organization's time zone:

- ``category`` and ``channel``: cases opened in the month.
- ``outcome``: cases closed in the month (their status is "closed" now and
  ``closed_at`` falls in the month): ``referred`` when a referral of the case reached a
  partner (delivered, accepted or declined there), ``closed`` otherwise. A case still
  in the "referred" status is open and not counted until it is closed.
- ``first_reply``: cases opened in the month, by how long the first reply took
  (within 1 hour, 24 hours, 72 hours, later, or none yet when counted): counts, not a
  median, so they can be suppressed and summed over organizations.
- ``referrals``: ``out``, cases with a referral that reached a partner in the month
  (counted once however many); ``in``, referrals received from partners in the month.

Erased cases (burned at the requester's request) and held cases (arrived in a flood,
not released) are left out of every table.

Publication adds Laplace noise of scale 1/ε to every count when an ε is given (each
table is a separate count in which a case appears once, so each table spends ε), rounds,
clamps at 0, and THEN suppresses every cell under 5 (published as null, shown "<5").
Noise and suppression after it are post-processing of the counts, so the privacy of the
noise holds. The body is canonical JSON (sorted keys, compact), signed with the
organization's Ed25519 key.
"""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils import timezone

from haven.accounts.models import Organization
from haven.cases import categories
from haven.cases.models import Case, Channel, Status

from .models import IncomingReferral, Referral

SUPPRESS_BELOW = 5
SUPPRESSED_MAX = SUPPRESS_BELOW - 1  # a suppressed cell is somewhere in 0..4
EPSILON_MIN, EPSILON_MAX = 0.1, 10.0
FORMAT = 1  # the body's version

# Time to first reply: (bucket, upper bound in hours); "later" and "none" follow.
REPLY_BUCKETS = (("1h", 1), ("24h", 24), ("72h", 72))
TABLES = ("category", "channel", "outcome", "first_reply", "referrals")
REACHED = (Referral.State.DELIVERED, Referral.State.ACCEPTED, Referral.State.DECLINED)


def table_cells() -> dict[str, list[str]]:
    """Every table's cells, fixed in advance (not taken from the data, so a cell's
    presence says nothing)."""
    return {
        "category": list(categories.all_categories()),
        "channel": list(Channel.values),
        "outcome": ["closed", "referred"],
        "first_reply": [name for name, _h in REPLY_BUCKETS] + ["later", "none"],
        "referrals": ["out", "in"],
    }


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_key(month: date) -> str:
    return month.strftime("%Y-%m")


def parse_month(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except (TypeError, ValueError):
        return None


def zone_of(org: Organization) -> ZoneInfo:
    try:
        return ZoneInfo(org.time_zone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def current_month(org: Organization, now: datetime | None = None) -> date:
    return month_start((now or timezone.now()).astimezone(zone_of(org)).date())


def finished_months(org: Organization, count: int = 24, now: datetime | None = None) -> list[date]:
    """The last ``count`` finished months, newest first (the current month is not one)."""
    month, found = current_month(org, now), []
    for _ in range(count):
        month = previous_month(month)
        found.append(month)
    return found


def bounds(org: Organization, month: date) -> tuple[datetime, datetime]:
    zone = zone_of(org)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    end_day = next_month(month)
    return start, datetime(end_day.year, end_day.month, 1, tzinfo=zone)


# Counting -------------------------------------------------------------------------------

def count_month(org: Organization, month: date) -> dict[str, dict[str, int]]:
    """The exact counts of one month (never shown or published as they are)."""
    start, end = bounds(org, month)
    cells = table_cells()
    figures = {table: dict.fromkeys(names, 0) for table, names in cells.items()}
    cases = Case.objects.filter(organization=org, erased=False, held=False)
    opened = cases.filter(created__gte=start, created__lt=end)
    for slug, n in opened.values_list("category").annotate(n=Count("pk")):
        key = slug if slug in figures["category"] else "other"
        figures["category"][key] = figures["category"].get(key, 0) + n
    for channel, n in opened.values_list("channel").annotate(n=Count("pk")):
        if channel in figures["channel"]:
            figures["channel"][channel] += n
    for created, replied in opened.values_list("created", "first_reply_at").iterator():
        figures["first_reply"][_reply_bucket(created, replied)] += 1
    closed = cases.filter(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    referred = set(Referral.objects.filter(organization=org, case__in=closed, state__in=REACHED)
                   .values_list("case_id", flat=True))
    for case_id in closed.values_list("pk", flat=True):
        figures["outcome"]["referred" if case_id in referred else "closed"] += 1
    figures["referrals"]["out"] = (
        Referral.objects.filter(organization=org, state__in=REACHED, delivered_at__gte=start,
                                delivered_at__lt=end, case__erased=False)
        .values("case_id").distinct().count())
    figures["referrals"]["in"] = IncomingReferral.objects.filter(
        organization=org, received__gte=start, received__lt=end).count()
    return figures


def _reply_bucket(created: datetime, replied: datetime | None) -> str:
    if replied is None:
        return "none"
    hours = (replied - created).total_seconds() / 3600
    for name, limit in REPLY_BUCKETS:
        if hours <= limit:
            return name
    return "later"


# Noise and suppression ------------------------------------------------------------------

def laplace(rng: random.Random, scale: float) -> float:
    """A draw of the Laplace distribution centred on 0 (the difference of two exponentials)."""
    return rng.expovariate(1 / scale) - rng.expovariate(1 / scale)


def privatize(counts: Mapping[str, Mapping[str, int]], epsilon: float | None,
              rng: random.Random) -> dict[str, dict[str, int | None]]:
    """Noise (scale 1/ε, when ε is given) rounded and clamped at 0, then every cell under
    5 suppressed (None)."""
    published: dict[str, dict[str, int | None]] = {}
    for table, cells in counts.items():
        out: dict[str, int | None] = {}
        for cell, count in cells.items():
            value = count if epsilon is None else max(0, round(count + laplace(rng, 1 / epsilon)))
            out[cell] = value if value >= SUPPRESS_BELOW else None
        published[table] = out
    return published


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def body_for(org: Organization, month: date, epsilon: float | None,
             figures: Mapping[str, Mapping[str, int | None]], published: datetime) -> bytes:
    return canonical({"v": FORMAT, "org": org.slug, "name": org.name, "month": month_key(month),
                      "epsilon": epsilon, "figures": figures,
                      "published": published.astimezone(ZoneInfo("UTC")).isoformat(
                          timespec="seconds")})


# What a partner publishes, read back ----------------------------------------------------

class BadFigures(ValueError):
    """Published figures that cannot be used; ``str()`` is a reason code
    (:data:`haven.network.collect.REASONS`)."""


def read_body(body: bytes, *, slug: str, month: date | None = None) -> dict[str, Any]:
    """The parsed body, checked: it names ``slug``, its month, and holds only counts."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadFigures("not_json") from exc
    if not isinstance(data, dict) or data.get("v") != FORMAT:
        raise BadFigures("format")
    if data.get("org") != slug:
        raise BadFigures("other_org")
    found = parse_month(data.get("month", ""))
    if found is None or (month is not None and found != month):
        raise BadFigures("other_month")
    epsilon = data.get("epsilon")
    if epsilon is not None and (not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool)
                                or not EPSILON_MIN <= epsilon <= EPSILON_MAX):
        raise BadFigures("epsilon")
    tables = data.get("figures")
    if not isinstance(tables, dict):
        raise BadFigures("format")
    for cells in tables.values():
        if not isinstance(cells, dict) or any(
                v is not None and (not isinstance(v, int) or isinstance(v, bool)
                                   or v < SUPPRESS_BELOW) for v in cells.values()):
            raise BadFigures("cells")
    return data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise BadFigures("format")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise BadFigures("format") from exc


# Combining ------------------------------------------------------------------------------

@dataclass
class Total:
    """A sum of published cells: ``value`` the known part, ``hidden`` how many suppressed
    cells (each 0..4), ``variance`` the noise's (2/ε² per noisy cell), ``sources`` how
    many published cells were summed."""

    value: int = 0
    hidden: int = 0
    variance: float = 0.0
    sources: int = 0

    def add(self, cell: int | None, epsilon: float | None) -> None:
        self.sources += 1
        if cell is None:
            self.hidden += 1
        else:
            self.value += cell
        if epsilon:
            self.variance += 2 / (epsilon * epsilon)

    def merge(self, other: Total) -> None:
        self.value += other.value
        self.hidden += other.hidden
        self.variance += other.variance
        self.sources += other.sources

    @property
    def low(self) -> int:
        return self.value

    @property
    def high(self) -> int:
        return self.value + SUPPRESSED_MAX * self.hidden

    @property
    def margin(self) -> float:
        """Half the 95-percent interval of the noise (1.96 σ), 0 without noise."""
        return round(1.96 * math.sqrt(self.variance), 1)

    @property
    def is_range(self) -> bool:
        return self.hidden > 0


@dataclass
class Combined:
    """Per month, per table, per cell, the total over the organizations that published."""

    months: list[date]
    tables: dict[str, list[str]]
    cells: dict[date, dict[str, dict[str, Total]]] = field(default_factory=dict)
    publishers: dict[date, int] = field(default_factory=dict)

    def month_total(self, month: date, table: str) -> Total:
        total = Total()
        for cell in self.cells.get(month, {}).get(table, {}).values():
            total.merge(cell)
        return total


def combine(months: list[date], bodies: Iterable[Mapping[str, Any]]) -> Combined:
    """Sum parsed bodies (own and partners') month by month, cell by cell."""
    tables = table_cells()
    wanted = {month_key(m): m for m in months}
    result = Combined(months=months, tables=tables)
    for data in bodies:
        month = wanted.get(data.get("month", ""))
        if month is None:
            continue
        epsilon = data.get("epsilon")
        result.publishers[month] = result.publishers.get(month, 0) + 1
        per_table = result.cells.setdefault(month, {})
        for table, cells in (data.get("figures") or {}).items():
            known = per_table.setdefault(table, {})
            if table not in tables:
                tables[table] = []
            for cell, value in cells.items():
                if cell not in tables[table]:
                    tables[table].append(cell)
                known.setdefault(cell, Total()).add(value, epsilon)
    return result
