"""The public report's bar chart as plain SVG (no script, no style attribute: strict CSP).

Currencies are never added together, so each currency gets its own group of
bars on its own scale. Suppressed cells get no bar, only the "<5" label.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from . import money
from .reports import Cell, MonthReport

# Drawn at its own size in CSS pixels, never stretched to the page: text stays
# 13 px on a desktop and on a phone (390 px screens leave about 366 px for it).
# Each row puts its label on a line of its own above the bar, so nothing is clipped.
WIDTH, BAR_W, ROW_H, HEAD_H, FONT = 360, 200, 44, 30, 13
LABEL_CHARS = 44  # about 310 px of 13 px text
IN_COLOUR, OUT_COLOUR, TEXT_COLOUR = "#1e6b34", "#1d4f91", "#1b1b1b"


def _text(x: int, y: int, text: str, *, weight: str = "normal") -> str:
    return f'<text x="{x}" y="{y}" font-weight="{weight}" fill="{TEXT_COLOUR}">{escape(text)}</text>'


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def _bar(y: int, cell: Cell, scale: int, colour: str, minimum: int) -> str:
    parts = [_text(0, y + 15, _short(cell.label))]
    if cell.suppressed:
        parts.append(_text(0, y + 34, _("fewer than %(n)d, not shown") % {"n": minimum}))
        return "".join(parts)
    width = max(1, BAR_W * max(cell.amount, 0) // scale) if scale else 1
    parts.append(f'<rect x="0" y="{y + 22}" width="{width}" height="16" fill="{colour}"/>')
    value = f"{money.format_amount(cell.amount, cell.currency)} · {cell.count}"
    parts.append(_text(width + 6, y + 35, value))
    return "".join(parts)


def chart(report: MonthReport, *, standalone: bool = False) -> SafeString:
    """The chart as an ``<svg>`` element (inline in a page, or a file); text is escaped."""
    rows, y = [], 0
    for block in report.blocks:
        rows.append(_text(0, y + 22, block.currency, weight="bold"))
        y += HEAD_H
        cells = [block.came_in, *block.went_out]
        visible = [c.amount for c in cells if not c.suppressed]
        scale = max(visible) if visible else 0
        for index, cell in enumerate(cells):
            colour = IN_COLOUR if index == 0 else OUT_COLOUR
            rows.append(_bar(y, cell, scale, colour, report.minimum))
            y += ROW_H
    title = _("Money in and out in %(month)s, by purpose and currency") % {
        "month": report.month.strftime("%Y-%m")}
    height = max(y + 4, 40)
    xmlns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    svg = (f'<svg{xmlns} width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="funds-chart-title" '
           f'font-family="system-ui, sans-serif" font-size="{FONT}" class="funds-chart">'
           f'<title id="funds-chart-title">{escape(title)}</title>{"".join(rows)}</svg>')
    return mark_safe(svg)  # noqa: S308 - built from escaped text and numbers only
