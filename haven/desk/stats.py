"""Figures for the desk's charts, from clear metadata only (no decryption)."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from haven.cases import categories
from haven.cases.models import OPEN_STATUSES, Case, Status

WEEKS = 12


def week_starts(today: date | None = None, weeks: int = WEEKS) -> list[date]:
    today = today or timezone.now().date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def _start(weeks: list[date]) -> datetime:
    return datetime.combine(weeks[0], time(0), tzinfo=UTC)



def _cases(org_id: int, within: Q | None) -> QuerySet[Case]:
    """The organization's cases, within what the member may read (their teams)."""
    cases = Case.objects.filter(organization_id=org_id)
    return cases.filter(within) if within is not None else cases


def _week_index(weeks: list[date], day: date) -> int:
    return (day - weeks[0]).days // 7


def new_by_category(org_id: int, weeks: list[date], within: Q | None = None) -> dict[str, list[float]]:
    rows = (_cases(org_id, within).filter(created__gte=_start(weeks))
            .annotate(day=TruncDate("created")).values("day", "category")
            .annotate(n=Count("pk")))
    series: dict[str, list[float]] = {}
    for row in rows:
        name = categories.get(row["category"]).name
        values = series.setdefault(name, [0.0] * len(weeks))
        index = _week_index(weeks, row["day"])
        if 0 <= index < len(weeks):
            values[index] += row["n"]
    return series


def open_by_status(org_id: int, within: Q | None = None) -> list[tuple[str, float]]:
    counted = dict(_cases(org_id, within).filter(status__in=OPEN_STATUSES)
                   .values_list("status").annotate(n=Count("pk")))
    return [(str(Status(s).label), float(counted.get(s, 0))) for s in OPEN_STATUSES]


def median_first_reply_hours(org_id: int, weeks: list[date], within: Q | None = None) -> list[float | None]:
    rows = _cases(org_id, within).filter(created__gte=_start(weeks),
                               first_reply_at__isnull=False).values_list("created", "first_reply_at")
    per_week: list[list[float]] = [[] for _ in weeks]
    for created, replied in rows.iterator(chunk_size=5000):
        if replied is None:
            continue
        index = _week_index(weeks, created.date())
        if 0 <= index < len(weeks):
            per_week[index].append((replied - created).total_seconds() / 3600)
    return [round(statistics.median(v), 1) if v else None for v in per_week]
