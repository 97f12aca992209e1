"""A small line chart in SVG: dates along x, a quantity up y, a legend, `<title>`/`<desc>` for screen readers.

Our own module rather than pygal: pygal writes a `<style>` element and scripts into every chart, which a
strict Content-Security-Policy (no inline style or script) blocks or which need nonces, and it pulls in
a dependency for one kind of chart. This module writes plain elements with `class` attributes only
(`chart`, `axis`, `grid`, `series series-<name>`, `legend`), styled by the page's static CSS, with
SVG presentation attributes as fall-backs so a chart still reads when opened on its own. One point per
x value is drawn as a `<circle>` carrying a `<title>` (a tooltip without script).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 900, 340
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 64  # margins: y labels left, x labels and the legend below


@dataclass(frozen=True)
class Series:
    name: str  # shown in the legend
    css: str  # "done", "scope", "ideal", "forecast": the class `series-<css>`
    points: tuple[tuple[date, float], ...]
    dashed: bool = False
    markers: bool = True  # a circle (with a tooltip) per point
    colour: str = "#1f6feb"  # fall-back stroke when no stylesheet applies


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 × 10^n) giving about `ticks` intervals over `span`."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return max(m * power, 1.0) if span >= 1 else m * power  # counts: no fractional steps
    return 10 * power


def _number(value: float) -> str:
    return f"{value:g}"


def line_chart(title: str, desc: str, start: date, end: date, series: Sequence[Series], y_label: str,
               chart_id: str = "chart") -> str:
    """The SVG markup of a line chart over the days start..end (inclusive)."""
    days = max((end - start).days, 1)
    top = max([v for s in series for _d, v in s.points] + [1.0])
    step = nice_step(top)
    y_max = math.ceil(top / step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + plot_w * (d - start).days / days

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / y_max)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" width="{WIDTH}" height="{HEIGHT}">',
           f'<title id="{chart_id}-title">{escape(title)}</title>',
           f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']
    out += _y_axis(y_max, step, y, y_label)
    out += _x_axis(start, end, x, y(0))
    for s in series:
        out += _series(s, x, y)
    out += _legend(series)
    out.append("</svg>")
    return "\n".join(out)


def _y_axis(y_max: float, step: float, y, label: str) -> list[str]:
    out = ['<g class="axis axis-y">']
    value = 0.0
    while value <= y_max + 1e-9:
        py = y(value)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{py:.1f}" x2="{WIDTH - RIGHT}" y2="{py:.1f}" '
                   f'stroke="#d0d7de" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="12">{_number(value)}</text>')
        value += step
    mid = TOP + (HEIGHT - TOP - BOTTOM) / 2
    out.append(f'<text class="axis-label" x="14" y="{mid:.1f}" text-anchor="middle" font-size="12" '
               f'transform="rotate(-90 14 {mid:.1f})">{escape(label)}</text>')
    out.append("</g>")
    return out


def _x_axis(start: date, end: date, x, baseline: float) -> list[str]:
    out = ['<g class="axis axis-x">',
           f'<line x1="{LEFT}" y1="{baseline:.1f}" x2="{WIDTH - RIGHT}" y2="{baseline:.1f}" stroke="#57606a"/>']
    span = (end - start).days
    every = 1 if span <= 14 else 7 if span <= 120 else 28
    d = start
    while d <= end:
        px = x(d)
        out.append(f'<line x1="{px:.1f}" y1="{baseline:.1f}" x2="{px:.1f}" y2="{baseline + 4:.1f}" stroke="#57606a"/>')
        out.append(f'<text x="{px:.1f}" y="{baseline + 18:.1f}" text-anchor="middle" font-size="12">'
                   f'{d.strftime("%b")} {d.day}</text>')
        d += timedelta(days=every)
    out.append("</g>")
    return out


def _series(s: Series, x, y) -> list[str]:
    if not s.points:
        return []
    coords = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in s.points)
    dash = ' stroke-dasharray="6 4"' if s.dashed else ""
    out = [f'<g class="series series-{s.css}" data-series={quoteattr(s.name)}>',
           f'<polyline points="{coords}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>']
    if s.markers:
        for d, v in s.points:
            out.append(f'<circle class="point" cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.5" fill="{s.colour}">'
                       f'<title>{escape(s.name)}, {d.isoformat()}: {_number(v)}</title></circle>')
    out.append("</g>")
    return out


def _legend(series: Sequence[Series]) -> list[str]:
    out = ['<g class="legend">']
    px, py = LEFT, HEIGHT - 16
    for s in series:
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(f'<line class="series-{s.css}" x1="{px}" y1="{py - 4}" x2="{px + 24}" y2="{py - 4}" '
                   f'stroke="{s.colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{px + 30}" y="{py}" font-size="12">{escape(s.name)}</text>')
        px += 40 + 7 * len(s.name)
    out.append("</g>")
    return out
