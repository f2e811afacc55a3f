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

# Narrow enough to stay legible when scaled to a phone's width.
WIDTH, LABEL_W, BAR_W, ROW_H, HEAD_H = 460, 170, 190, 26, 34
IN_COLOUR, OUT_COLOUR, TEXT_COLOUR = "#1e6b34", "#1d4f91", "#1b1b1b"


def _text(x: int, y: int, text: str, *, anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{TEXT_COLOUR}">{escape(text)}</text>')


def _bar(y: int, cell: Cell, scale: int, colour: str, minimum: int) -> str:
    parts = [_text(LABEL_W - 8, y + 17, cell.label, anchor="end")]
    if cell.suppressed:
        parts.append(_text(LABEL_W, y + 17, _("fewer than %(n)d, not shown") % {"n": minimum}))
        return "".join(parts)
    width = max(1, BAR_W * max(cell.amount, 0) // scale) if scale else 1
    parts.append(f'<rect x="{LABEL_W}" y="{y + 4}" width="{width}" height="{ROW_H - 8}" '
                 f'fill="{colour}"/>')
    value = f"{money.format_amount(cell.amount, cell.currency)} · {cell.count}"
    parts.append(_text(LABEL_W + width + 6, y + 17, value))
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
    height = max(y, 40)
    # Inline, it takes the width of the page (no style attribute: strict CSP); as a
    # file it keeps its own size.
    size = (f' xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
            if standalone else ' width="100%"')
    svg = (f'<svg{size} '
           f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="funds-chart-title" '
           f'font-family="system-ui, sans-serif" font-size="13" class="funds-chart">'
           f'<title id="funds-chart-title">{escape(title)}</title>{"".join(rows)}</svg>')
    return mark_safe(svg)  # noqa: S308 - built from escaped text and numbers only
