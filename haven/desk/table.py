"""The case table of queues and search, rendered in Python.

A queue page shows 50 rows on every view; the template engine spent most of
the page's time on them, so the rows are built here with format_html (which
escapes every value) and the template only places the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .times import day, moment

# data-label names each cell where a phone shows the row as a card, without the header.
ROW = ('<tr class="{}">{}<td class="number"><a href="{}">#{}</a></td>'
       '<td class="summary">{}{}{}{}</td>'
       '<td data-label="{}">{}</td><td data-label="{}">{}{}</td><td data-label="{}">{}</td>'
       '<td data-label="{}">{}{}</td>'
       '<td data-label="{}">{}</td><td data-label="{}">{}</td></tr>')


def _summary(row: dict[str, Any], href: str, shown_lang: str) -> SafeString:
    """The summary as a link; one in another language than the page's carries a tag."""
    case, summary = row["case"], row["summary"]
    if case.erased or not summary.text:
        return format_html('<a href="{}"><em>{}</em></a>', href,
                           _("erased by requester") if case.erased else _("burned"))
    text = Truncator(summary.text).chars(90)
    if not summary.lang:
        return format_html('<a href="{}">{}</a>', href, text)
    tag = format_html(' <span class="badge lang" lang="{}">{}</span>', summary.lang,
                      summary.lang.upper()) if summary.lang != shown_lang else ""
    return format_html('<a href="{}" lang="{}">{}</a>{}', href, summary.lang, text, tag)


# A queue a member may work on: a checkbox to tick the case, and the version the page
# showed, so a bulk action refuses a case that changed meanwhile (haven.cases.bulk).
PICK = ('<td class="pick"><input type="checkbox" name="case" value="{}" id="pick-{}"{}>'
        '<label for="pick-{}" class="visually-hidden">{}</label>'
        '<input type="hidden" name="version-{}" value="{}"></td>')


def _pick(case: Any, checked: set[int], label: str) -> SafeString:
    return format_html(PICK, case.number, case.number,
                       mark_safe(" checked") if case.number in checked else "",
                       case.number, label % {"n": case.number}, case.number, case.version)


def _row(row: dict[str, Any], base: str, now: datetime, labels: dict[str, str],
         checked: set[int] | None = None) -> SafeString:
    case = row["case"]
    href = f"{base}{case.number}/"
    fraud = format_html(' <span class="badge danger">{}</span>', labels["fraud"]) \
        if case.fraud_suspected else ""
    tags = format_html_join("", ' <span class="badge">{}</span>', ((t,) for t in row["tags"]))
    priority = format_html(" · <strong>{}</strong>", case.get_priority_display()) \
        if case.priority else ""
    due = day(case.next_due, "overdue" if case.next_due < now else "") if case.next_due else "—"
    css = {2: "urgent", 1: "high"}.get(case.priority, "")
    pick = _pick(case, checked, labels["pick"]) if checked is not None else ""
    return format_html(ROW, css, pick, href, case.number, _summary(row, href, labels["lang"]),
                       fraud, tags, row.get("matched", ""),
                       labels["category"], row["category"].name,
                       labels["status"], case.get_status_display(), priority,
                       labels["assignee"], case.assignee or "—",
                       labels["team"], case.team.name if case.team_id else "—",
                       format_html(' <span class="badge">{}</span>', labels["restricted"])
                       if case.restricted else "",
                       labels["due"], due,
                       labels["arrived"], moment(case.created))


def rows_html(rows: list[dict[str, Any]], checked: set[int] | None = None) -> SafeString:
    """The rows; with ``checked`` (the numbers ticked, maybe none) each starts with a checkbox."""
    base = reverse("desk:queue") + "cases/"
    now = timezone.now()
    labels = {"lang": (get_language() or "en")[:2], "fraud": _("suspected fraud"),
              "category": _("Category"), "status": _("Status"), "assignee": _("Assigned to"),
              "team": _("Team"), "restricted": _("restricted"),
              "due": _("Next deadline"), "arrived": _("Arrived"), "pick": _("Select case #%(n)d")}
    return mark_safe("".join(_row(r, base, now, labels, checked) for r in rows))  # noqa: S308 - built by format_html
