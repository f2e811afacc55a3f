from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.utils.safestring import SafeString

from haven.desk import reminders, times
from haven.desk.table import rows_html

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagers). Which cases
    are ticked (``select``, ``checked``) belongs to one page and is not carried on."""
    query: QueryDict = context["request"].GET.copy()
    for key in ("select", "checked"):
        query.pop(key, None)
    for key, value in changes.items():
        query[key] = str(value)
    return query.urlencode()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def index(sequence: list[Any], position: int) -> Any:
    try:
        return sequence[position]
    except (IndexError, TypeError):
        return None


@register.simple_tag
def case_rows(rows: list[dict[str, Any]], checked: Any = None) -> SafeString:
    """The case table's rows; ``checked`` (a set, maybe empty) adds a checkbox to each
    (a page without it, such as search, passes nothing: no checkboxes)."""
    return rows_html(rows, checked if isinstance(checked, set) else None)


@register.filter
def moment(value: datetime | None, seconds: bool = False) -> SafeString | str:
    """A time in the member's zone, with the zone: "2026-12-04 14:05 MSK"."""
    if value is None:
        return ""
    return times.moment(value, "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


@register.filter
def day(value: datetime | None) -> SafeString | str:
    return times.day(value) if value is not None else ""


@register.filter
def reminder_label(reminder: Any) -> str:
    """A reminder's kind in the reader's language (never the stored code)."""
    return reminders.label(reminder)
