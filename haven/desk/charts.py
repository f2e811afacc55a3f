"""Server-rendered SVG charts: no JavaScript, no external assets.

Each function returns a small description the template turns into <svg>
elements; colours are presentation attributes (the CSP forbids style attributes).
Coordinates are plain floats rounded here and written with localization off:
a decimal comma (ru, uk) in an SVG attribute is an error and draws nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.formats import number_format

PALETTE = ["#1d4f91", "#c0392b", "#27864a", "#b9770e", "#6c3483", "#117a8b", "#5d6d7e"]
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 260, 44, 40, 12


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str

    def __post_init__(self) -> None:
        self.x, self.y = round(self.x, 1), round(self.y, 1)
        self.width, self.height = round(self.width, 1), round(self.height, 1)


@dataclass
class Chart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    points: str = ""  # polyline points for line charts
    labels: list[tuple[float, str]] = field(default_factory=list)  # x, text
    ticks: list[tuple[float, str]] = field(default_factory=list)  # y, text
    legend: list[tuple[str, str]] = field(default_factory=list)  # colour, text
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM
    left: int = PAD_LEFT


def _scale(top: float) -> tuple[float, list[tuple[float, str]]]:
    top = max(top, 1.0)
    step = _nice_step(top / 4)
    maximum = step * 4 if step * 4 >= top else step * 5
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    ticks = []
    value = 0.0
    while value <= maximum + 1e-9:
        ticks.append((round(HEIGHT - PAD_BOTTOM - plot * value / maximum, 1), _fmt(value)))
        value += step
    return maximum, ticks


def _nice_step(raw: float) -> float:
    magnitude = float(10 ** (len(str(int(raw))) - 1)) if raw >= 1 else 1.0
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def _fmt(value: float) -> str:
    """A number for people to read, in the page's language (text, never an attribute)."""
    return number_format(value, 0 if value == int(value) else 1)


def stacked_bars(title: str, columns: list[str], series: dict[str, list[float]]) -> Chart:
    """One bar per column, stacked by series (e.g. weeks x categories)."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(columns))]
    maximum, ticks = _scale(max(totals, default=0))
    chart = Chart(title=title, ticks=ticks)
    slot = (WIDTH - PAD_LEFT - 8) / max(len(columns), 1)
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    for index, column in enumerate(columns):
        x = PAD_LEFT + index * slot + slot * 0.15
        y = float(HEIGHT - PAD_BOTTOM)
        for s_index, (name, values) in enumerate(series.items()):
            h = plot * values[index] / maximum
            if h > 0:
                y -= h
                chart.bars.append(Bar(x, y, slot * 0.7, h, PALETTE[s_index % len(PALETTE)],
                                      f"{column}: {name} {_fmt(values[index])}"))
        chart.labels.append((round(x + slot * 0.35, 1), column))
    chart.legend = [(PALETTE[i % len(PALETTE)], name) for i, name in enumerate(series)]
    return chart


def bars(title: str, items: list[tuple[str, float]]) -> Chart:
    return stacked_bars(title, [name for name, _ in items], {title: [v for _, v in items]})


def line(title: str, columns: list[str], values: list[float | None]) -> Chart:
    """A line over columns; None leaves a gap-free skip (the point is omitted)."""
    maximum, ticks = _scale(max((v for v in values if v is not None), default=0))
    chart = Chart(title=title, ticks=ticks)
    slot = (WIDTH - PAD_LEFT - 8) / max(len(columns), 1)
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    points = []
    for index, (column, value) in enumerate(zip(columns, values, strict=True)):
        x = PAD_LEFT + index * slot + slot / 2
        chart.labels.append((round(x, 1), column))
        if value is not None:
            y = HEIGHT - PAD_BOTTOM - plot * value / maximum
            points.append(f"{x:.1f},{y:.1f}")
            chart.bars.append(Bar(x - 3, y - 3, 6, 6, PALETTE[0], f"{column}: {_fmt(value)}"))
    chart.points = " ".join(points)
    return chart
