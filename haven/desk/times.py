"""Times on the desk, in the member's zone (activated per request) and saying which zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString


def zone_label(local: datetime) -> str:
    """"MSK", "UTC", "EEST"; a zone with no abbreviation (Asia/Tbilisi's "+04") as "UTC+4"."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    minutes = int((local.utcoffset() or timedelta(0)).total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")


def moment(value: datetime, fmt: str = "%Y-%m-%d %H:%M", css: str = "") -> SafeString:
    local = timezone.localtime(value)
    return format_html('<time datetime="{}" class="{}">{} {}</time>', local.isoformat(), css,
                       local.strftime(fmt), zone_label(local))


def day(value: datetime, css: str = "") -> SafeString:
    """A deadline's date. Deadlines are whole days kept as midnight UTC (rules.due_at), so the
    date is read in UTC: converted, 1 April would show as 31 March west of Greenwich."""
    date = value.astimezone(UTC).date().isoformat()
    return format_html('<time datetime="{}" class="{}">{}</time>', date, css, date)
