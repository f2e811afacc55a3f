"""Server-rendered SVG bar charts with their uncertainty, for the network page.

Each bar is a month's total: the solid part what was published, a pale part up to the
most the suppressed cells could add (0 to 4 each), and a whisker for the noise's 95%
interval. The template writes numbers with localization off (a decimal comma in an SVG
attribute draws nothing); no JavaScript, no style attributes (the CSP forbids them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 240, 44, 36, 12
SOLID, PALE, WHISKER = "#1d4f91", "#a9c1e3", "#333333"


@dataclass
class Bar:
    x: float
    width: float
    solid_y: float
    solid_h: float
    pale_y: float
    pale_h: float
    whisker_x: float
    whisker_top: float
    whisker_bottom: float
    title: str


@dataclass
class Chart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    solid: str = SOLID
    pale: str = PALE
    whisker: str = WHISKER


def _step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def bars(title: str, columns: Sequence[tuple[str, float, float, float, str]]) -> Chart:
    """``columns``: (label, low, high, margin, tooltip) per bar, oldest first."""
    chart = Chart(title)
    top = max([high + margin for _l, _lo, high, margin, _t in columns] + [1.0])
    step = _step(top / 4)
    maximum = step * math.ceil(top / step)
    plot = HEIGHT - BOTTOM - TOP
    base = HEIGHT - BOTTOM

    def y(value: float) -> float:
        return round(base - plot * max(value, 0.0) / maximum, 1)

    value = 0.0
    while value <= maximum + 1e-9:
        chart.ticks.append((y(value), _number(value)))
        value += step
    slot = (WIDTH - LEFT) / max(len(columns), 1)
    every = max(1, math.ceil(len(columns) / 12))  # at most 12 labels under the bars
    for i, (label, low, high, margin, tooltip) in enumerate(columns):
        x = LEFT + slot * i + slot * 0.15
        width = round(slot * 0.7, 1)
        chart.bars.append(Bar(
            x=round(x, 1), width=width, solid_y=y(low), solid_h=round(base - y(low), 1),
            pale_y=y(high), pale_h=round(y(low) - y(high), 1),
            whisker_x=round(x + width / 2, 1), whisker_top=y(high + margin),
            whisker_bottom=y(low - margin), title=tooltip))
        if i % every == 0:
            chart.labels.append((round(x + width / 2, 1), label))
    return chart
