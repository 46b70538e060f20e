"""Chart geometry for server-rendered SVG: templates only draw what is computed here.

Charts label their data directly (a row per model with its name and total, a
bar per member with its value), so nobody has to match colours to a legend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

PALETTE = ["#4b3fe0", "#1f7a4d", "#b46900", "#b42318", "#1f4e8c", "#7a3fa0", "#2f7f86", "#6b6a66"]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass
class Row:
    label: str
    total: int
    y: float
    baseline: float
    colour: str
    bars: list[Bar] = field(default_factory=list)


@dataclass
class DailyChart:
    """Small multiples: one row of daily bars per series, all on one scale."""

    title: str
    width: int
    height: int
    plot_x: int
    plot_right: int
    rows: list[Row]
    ticks: list[tuple[float, str]]
    unit: str

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def label_x(self) -> int:
        return self.plot_x - 10

    @property
    def total_x(self) -> int:
        return self.plot_right + 10

    @property
    def tick_y(self) -> int:
        return self.height - 6

    @property
    def summary(self) -> str:
        parts = [f"{r.label}: {r.total} {self.unit}" for r in self.rows]
        return f"{self.title}. " + ("; ".join(parts) if parts else "Nothing yet.")


def daily_chart(values: dict[tuple[date, str], int], days: list[date], *, title: str,
                unit: str = "credits") -> DailyChart:
    """Bars per day for each series key, busiest series first."""
    label_w, total_w, day_w, row_h, bar_h, top = 170, 90, 22, 40, 30, 8
    totals: dict[str, int] = {}
    for (day, name), v in values.items():
        if day in days:
            totals[name] = totals.get(name, 0) + v
    names = sorted((n for n in totals if any(values.get((d, n)) for d in days)), key=lambda n: (-totals[n], n))
    peak = max([values.get((d, n), 0) for n in names for d in days] + [1])
    plot_right = label_w + day_w * len(days)
    rows = []
    for i, name in enumerate(names):
        y = top + i * row_h
        baseline = y + bar_h + 2
        row = Row(label=name, total=totals[name], y=y, baseline=baseline, colour=PALETTE[i % len(PALETTE)])
        for j, day in enumerate(days):
            v = values.get((day, name), 0)
            h = round(bar_h * max(v, 0) / peak, 1) if v > 0 else 0
            if v and h < 1.5:
                h = 1.5  # a small spend still shows
            row.bars.append(Bar(x=label_w + j * day_w + 2, y=baseline - h, width=day_w - 4, height=h,
                                title=f"{name}, {day:%d %b}: {v} {unit}"))
        rows.append(row)
    height = top + max(len(rows), 1) * row_h + 22
    step = 7 if len(days) > 10 else 1
    ticks = [(label_w + j * day_w + day_w / 2, f"{d:%d %b}") for j, d in enumerate(days)
             if (len(days) - 1 - j) % step == 0]
    return DailyChart(title=title, width=plot_right + total_w, height=height, plot_x=label_w,
                      plot_right=plot_right, rows=rows, ticks=ticks, unit=unit)


@dataclass
class HBar:
    label: str
    value: int
    y: float
    width: float
    colour: str
    text_y: float = 0
    value_x: float = 0


@dataclass
class BarChart:
    """Horizontal bars, each named on its left and valued at its end."""

    title: str
    width: int
    height: int
    plot_x: int
    bars: list[HBar]
    unit: str

    @property
    def empty(self) -> bool:
        return not self.bars

    @property
    def label_x(self) -> int:
        return self.plot_x - 10

    @property
    def summary(self) -> str:
        parts = [f"{b.label}: {b.value} {self.unit}" for b in self.bars]
        return f"{self.title}. " + ("; ".join(parts) if parts else "Nothing yet.")


def bar_chart(items: list[tuple[str, int]], *, title: str, unit: str = "credits") -> BarChart:
    """One bar per (label, value), largest first."""
    label_w, plot_w, value_w, row_h = 170, 360, 110, 28
    items = sorted(((label, v) for label, v in items if v), key=lambda i: (-i[1], i[0]))
    peak = max([v for _, v in items] + [1])
    bars = []
    for i, (label, v) in enumerate(items):
        y = 6 + i * row_h
        width = max(2.0, round(plot_w * max(v, 0) / peak, 1))
        bars.append(HBar(label=label, value=v, y=y, width=width, colour=PALETTE[0], text_y=y + 15,
                         value_x=label_w + width + 8))
    return BarChart(title=title, width=label_w + plot_w + value_w, height=12 + max(len(bars), 1) * row_h,
                    plot_x=label_w, bars=bars, unit=unit)
