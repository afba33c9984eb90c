"""Charts as inline SVG strings, drawn in Python: nothing to fetch, nothing to run in the browser.

Each function takes figures already computed by the warehouse and returns one ``<svg>`` element
(``role="img"`` with a title, a ``<title>`` tooltip on every mark). Text is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2f6db5", "#e07b39", "#3a9a5b", "#c8434d", "#8a62b8", "#8c6d3f", "#d16ba5",
           "#5f6b7a")
INK = "#26313d"
MUTED = "#6b7785"
GRID = "#e3e7ec"

Format = Callable[[float], str]


def plain(value: float) -> str:
    """A count or amount with thousands separators, decimals only when it has them.

    >>> plain(1234), plain(1234.5), plain(0.25)
    ('1,234', '1,234.50', '0.25')
    """
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def nice_max(value: float) -> float:
    """The round number an axis should end at, at or above ``value``.

    >>> nice_max(0), nice_max(7), nice_max(13), nice_max(1740)
    (1.0, 10.0, 20.0, 2000.0)
    """
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def axis_ticks(value: float, *, whole: bool = True, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``value`` (whole numbers only for counts).

    >>> axis_ticks(5)
    [0.0, 2.0, 4.0, 6.0]
    >>> axis_ticks(1740)
    [0.0, 500.0, 1000.0, 1500.0, 2000.0]
    >>> axis_ticks(0.3, whole=False)
    [0.0, 0.1, 0.2, 0.3]
    """
    if value <= 0:
        return [0.0, 1.0]
    raw = value / count
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole and magnitude < 10 else (1, 2, 2.5, 5, 10)
    step = next(s * magnitude for s in steps if s * magnitude >= raw)
    if whole:
        step = max(1.0, float(round(step)))
    top = math.ceil(round(value / step, 9)) * step
    return [round(i * step, 10) for i in range(round(top / step) + 1)]


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value and an optional link for drilling down."""

    label: str
    value: float
    href: str | None = None
    color: str | None = None


@dataclass(frozen=True)
class Series:
    """One stacked series across every category of a column chart (links optional)."""

    name: str
    values: Sequence[float]
    hrefs: Sequence[str | None] = ()
    color: str | None = None


def _svg(width: int, height: int, title: str, body: list[str], *, fixed: bool = False) -> str:
    size = (f'width="{width}" height="{height}"' if fixed
            else f'width="100%" style="max-width:{width}px"')
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'viewBox="0 0 {width} {height}" {size} preserveAspectRatio="xMinYMin meet" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


def _empty(width: int, height: int, title: str, message: str, *, fixed: bool = False) -> str:
    return _svg(width, height, title, [
        f'<rect class="empty" x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" '
        f'fill="#f7f8fa" stroke="{GRID}"/>',
        f'<text x="{width / 2}" y="{height / 2 + 5}" text-anchor="middle" fill="{MUTED}" '
        f'font-size="{12 if fixed else 14}">{escape(message)}</text>'], fixed=fixed)


def _linked(href: str | None, element: str) -> str:
    return f'<a href="{escape(href)}">{element}</a>' if href else element


def hbar_chart(bars: Sequence[Bar], *, title: str, fmt: Format = plain,
               width: int = 640, empty: str = "nothing to show") -> str:
    """Horizontal bars, one per label, longest first as given; each value printed at its end.

    >>> svg = hbar_chart([Bar("a", 3), Bar("b", 1)], title="t")
    >>> svg.count("<rect class=\\"bar\\""), ">3<" in svg
    (2, True)
    """
    if not bars or all(bar.value == 0 for bar in bars):
        return _empty(width, 60, title, empty)
    label_w, row_h, pad = 210, 28, 8
    height = pad * 2 + row_h * len(bars)
    top = nice_max(max(bar.value for bar in bars))
    plot_w = width - label_w - 90
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = pad + i * row_h
        w = max(1.0, plot_w * bar.value / top) if bar.value > 0 else 0.0
        color = bar.color or PALETTE[i % len(PALETTE)]
        tip = f"{bar.label}: {fmt(bar.value)}"
        body.append(f'<text x="{label_w - 8}" y="{y + row_h / 2 + 5}" text-anchor="end" '
                    f'fill="{INK}" font-size="13">{escape(bar.label)}</text>')
        body.append(_linked(bar.href,
                            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{w:.1f}" '
                            f'height="{row_h - 8}" fill="{color}" rx="2">'
                            f'<title>{escape(tip)}</title></rect>'))
        body.append(f'<text x="{label_w + w + 6:.1f}" y="{y + row_h / 2 + 5}" fill="{INK}" '
                    f'font-size="13">{escape(fmt(bar.value))}</text>')
    return _svg(width, height, title, body)


def column_chart(categories: Sequence[str], series: Sequence[Series], *, title: str,
                 fmt: Format = plain, width: int = 760, height: int = 240,
                 empty: str = "nothing to show", whole: bool = True) -> str:
    """Stacked columns, one per category (e.g. month), one colour per series, with a legend.

    >>> svg = column_chart(["2026-01", "2026-02"], [Series("x", [1, 2]), Series("y", [0, 1])],
    ...                    title="t")
    >>> svg.count("<rect class=\\"bar\\"")
    3
    """
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(width, 80, title, empty)
    left, right, top_pad, legend_h, axis_h = 56, 12, 12, 26, 34
    plot_h = height - top_pad - legend_h - axis_h
    plot_w = width - left - right
    ticks = axis_ticks(max(totals), whole=whole)
    top = ticks[-1]
    slot = plot_w / len(categories)
    bar_w = max(2.0, min(36.0, slot * 0.7))
    body: list[str] = []
    for value in ticks:
        y = top_pad + plot_h - plot_h * value / top
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" '
                    f'font-size="11">{escape(fmt(value))}</text>')
    label_every = max(1, math.ceil(len(categories) / 12))
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        base = float(top_pad + plot_h)
        for j, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * value / top
            base -= h
            tip = f"{category} · {s.name}: {fmt(value)}"
            href = s.hrefs[i] if i < len(s.hrefs) else None
            body.append(_linked(href, f'<rect class="bar" x="{x:.1f}" y="{base:.1f}" '
                                f'width="{bar_w:.1f}" height="{h:.1f}" '
                                f'fill="{s.color or PALETTE[j % len(PALETTE)]}">'
                                f'<title>{escape(tip)}</title></rect>'))
        if i % label_every == 0:
            body.append(f'<text x="{x + bar_w / 2:.1f}" y="{top_pad + plot_h + 16}" '
                        f'text-anchor="middle" fill="{MUTED}" font-size="11">'
                        f'{escape(category)}</text>')
    x = float(left)
    y = height - 8
    for j, s in enumerate(series):
        body.append(f'<rect x="{x:.1f}" y="{y - 10}" width="12" height="12" '
                    f'fill="{s.color or PALETTE[j % len(PALETTE)]}"/>')
        body.append(f'<text x="{x + 16:.1f}" y="{y}" fill="{INK}" font-size="12">'
                    f'{escape(s.name)}</text>')
        x += 28 + 7 * len(s.name)
    return _svg(width, height, title, body)


def sparkline(values: Sequence[float], *, title: str, width: int = 140,
              height: int = 32) -> str:
    """A small line of recent values (e.g. loads per day), its last point marked.

    >>> "<polyline" in sparkline([1, 3, 2], title="t")
    True
    """
    if not values:
        return _empty(width, height, title, "no history", fixed=True)
    top = max(values) or 1
    step = (width - 8) / max(1, len(values) - 1)
    points = [(4 + i * step, height - 4 - (height - 8) * v / top) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    return _svg(width, height, title, [
        f'<polyline class="line" fill="none" stroke="{PALETTE[0]}" stroke-width="2" '
        f'points="{path}"/>',
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="{PALETTE[0]}"/>'], fixed=True)


def stacked_hbar_chart(rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[str], *,
                       title: str, colors: Sequence[str] = PALETTE, width: int = 760,
                       hrefs: Sequence[str | None] = (), empty: str = "nothing to show") -> str:
    """One horizontal bar per row, split into ``series`` (e.g. pass/warn/fail), with a legend.

    >>> svg = stacked_hbar_chart([("a", [2, 1]), ("b", [3, 0])], ["pass", "fail"], title="t")
    >>> svg.count('class="bar"')
    3
    """
    if not rows or not any(sum(values) for _, values in rows):
        return _empty(width, 60, title, empty)
    label_w, row_h, pad, legend_h = 190, 26, 6, 26
    height = pad * 2 + row_h * len(rows) + legend_h
    top = max(sum(values) for _, values in rows)
    plot_w = width - label_w - 70
    body: list[str] = []
    for i, (label, values) in enumerate(rows):
        y = pad + i * row_h
        x = float(label_w)
        body.append(f'<text x="{label_w - 8}" y="{y + row_h / 2 + 5}" text-anchor="end" '
                    f'fill="{INK}" font-size="12">{escape(label)}</text>')
        parts = []
        for j, value in enumerate(values):
            if value <= 0:
                continue
            w = max(1.0, plot_w * value / top)
            tip = f"{label} · {series[j]}: {plain(value)}"
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                         f'height="{row_h - 8}" fill="{colors[j % len(colors)]}">'
                         f'<title>{escape(tip)}</title></rect>')
            x += w
        href = hrefs[i] if i < len(hrefs) else None
        body.append(_linked(href, "".join(parts)))
        body.append(f'<text x="{x + 6:.1f}" y="{y + row_h / 2 + 5}" fill="{INK}" '
                    f'font-size="12">{escape(plain(sum(values)))}</text>')
    lx, ly = float(label_w), height - 8
    for j, name in enumerate(series):
        body.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" '
                    f'fill="{colors[j % len(colors)]}"/>')
        body.append(f'<text x="{lx + 16:.1f}" y="{ly}" fill="{INK}" font-size="12">'
                    f'{escape(name)}</text>')
        lx += 28 + 7 * len(name)
    return _svg(width, height, title, body)
