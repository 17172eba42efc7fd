"""Charts drawn on the server as inline SVG: no script, no inline style (the CSP stays
strict), colours from classes in comments/static/comments/moderation.css. Every chart has
a title and a description for screen readers; the page shows the numbers as tables too."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 10, 10, 24
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Series:
    css: str
    name: str
    values: Sequence[float | None]


def _r(value: float) -> str:
    """Format a coordinate (format_html would escape a float before formatting it)."""
    return f"{value:.1f}"


def _svg(
    slug: str, title: str, description: str, body: SafeString, height: int = HEIGHT
) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{s}-t {s}-d"'
        ' xmlns="http://www.w3.org/2000/svg"><title id="{s}-t">{t}</title>'
        '<desc id="{s}-d">{d}</desc>{b}</svg>',
        w=WIDTH,
        h=height,
        s=slug,
        t=title,
        d=description,
        b=body,
    )


def _x_labels(labels: Sequence[str]) -> SafeString:
    if not labels:
        return mark_safe("")
    step = PLOT_W / len(labels)
    picks = sorted({0, len(labels) // 2, len(labels) - 1})
    return format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle">{}</text>',
        ((_r(LEFT + step * (i + 0.5)), HEIGHT - 6, labels[i]) for i in picks),
    )


def _y_axis(ticks: Sequence[tuple[float, str]]) -> SafeString:
    lines = format_html_join(
        "",
        '<line class="axis" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
        '<text x="{tx}" y="{ty}" text-anchor="end">{label}</text>',
        (
            {
                "l": LEFT,
                "r": WIDTH - RIGHT,
                "y": _r(y),
                "tx": LEFT - 4,
                "ty": _r(y + 4),
                "label": label,
            }
            for y, label in ticks
        ),
    )
    return lines


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - (value / top * PLOT_H if top else 0)


def stacked_bars(
    slug: str, title: str, labels: Sequence[str], series: Sequence[Series]
) -> SafeString:
    """Draw one bar per label, its series stacked, with each segment's count as a tooltip."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = _nice(max(totals, default=0))
    step = PLOT_W / max(1, len(labels))
    rects = []
    for i, label in enumerate(labels):
        base = 0.0
        for s in series:
            value = s.values[i] or 0
            if value:
                y0, y1 = _y(base, top), _y(base + value, top)
                rects.append(
                    (
                        s.css,
                        LEFT + step * i + 1,
                        y1,
                        max(1.0, step - 2),
                        y0 - y1,
                        label,
                        s.name,
                        value,
                    )
                )
            base += value
    bars = format_html_join(
        "",
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>',
        (
            (c, _r(x), _r(y), _r(w), _r(h), label, value, name)
            for c, x, y, w, h, label, name, value in rects
        ),
    )
    ticks = [(_y(v, top), f"{v:,.0f}") for v in (0, top / 2, top)]
    body = format_html("{}{}{}", _y_axis(ticks), bars, _x_labels(labels))
    summary = ", ".join(f"{s.name} {sum(v or 0 for v in s.values):,.0f}" for s in series)
    return _svg(slug, title, f"{len(labels)} days; in all: {summary}.", body)


def duration(seconds: float) -> str:
    """Format seconds as a moderator reads a wait: 40 s, 12 min, 3.5 h, 2.0 d."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


LOG_TICKS = [(1, "1 s"), (60, "1 min"), (3600, "1 h"), (86400, "1 d"), (604800, "1 wk")]


def duration_lines(
    slug: str, title: str, labels: Sequence[str], series: Sequence[Series]
) -> SafeString:
    """Draw durations in seconds as lines on a log scale (a second to a week apart)."""
    top = math.log10(1 + max((v or 0 for s in series for v in s.values), default=1) or 1)
    top = max(top, math.log10(61))

    def scaled(value: float) -> float:
        return _y(math.log10(1 + value), top)

    ticks = [(scaled(s), label) for s, label in LOG_TICKS if math.log10(1 + s) <= top]
    return _lines(slug, title, labels, series, scaled, ticks, duration)


def count_lines(
    slug: str, title: str, labels: Sequence[str], series: Sequence[Series]
) -> SafeString:
    """Draw counts as lines on a linear scale."""
    top = _nice(max((v or 0 for s in series for v in s.values), default=0))
    ticks = [(_y(v, top), f"{v:,.0f}") for v in (0, top / 2, top)]
    return _lines(slug, title, labels, series, lambda v: _y(v, top), ticks, lambda v: f"{v:,.0f}")


def _lines(
    slug: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    scaled: Callable[[float], float],
    ticks: Sequence[tuple[float, str]],
    shown: Callable[[float], str],
) -> SafeString:
    step = PLOT_W / max(1, len(labels))
    parts = []
    for s in series:
        points = [
            (LEFT + step * (i + 0.5), scaled(v), labels[i], v)
            for i, v in enumerate(s.values)
            if v is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        parts.append(format_html('<polyline class="{}" points="{}"/>', s.css, path))
        parts.append(
            format_html_join(
                "",
                '<circle class="{}" cx="{}" cy="{}" r="2.5"><title>{}: {} {}</title></circle>',
                ((s.css, _r(x), _r(y), label, s.name, shown(v)) for x, y, label, v in points),
            )
        )
    body = format_html("{}{}{}", _y_axis(ticks), mark_safe("".join(parts)), _x_labels(labels))  # noqa: S308
    days = sum(1 for i in range(len(labels)) if any(s.values[i] is not None for s in series))
    return _svg(slug, title, f"{days} of {len(labels)} days with data.", body)


def horizontal_bars(slug: str, title: str, items: Sequence[tuple[str, int]]) -> SafeString:
    """Draw one labelled bar per item (e.g. actions per moderator), longest first."""
    row, height = 22, TOP + BOTTOM + 22 * max(1, len(items))
    top = max((n for _, n in items), default=0) or 1
    label_w = 140
    bars = format_html_join(
        "",
        '<text x="{lx}" y="{ty}" text-anchor="end">{label}</text>'
        '<rect class="s-bar" x="{x}" y="{y}" width="{w}" height="{h}">'
        "<title>{label}: {n}</title></rect>"
        '<text x="{nx}" y="{ty}">{n}</text>',
        (
            {
                "lx": label_w - 6,
                "ty": TOP + row * i + 15,
                "label": label,
                "x": label_w,
                "y": TOP + row * i + 3,
                "w": _r((WIDTH - label_w - 60) * n / top),
                "h": row - 6,
                "n": n,
                "nx": _r(label_w + (WIDTH - label_w - 60) * n / top + 4),
            }
            for i, (label, n) in enumerate(items)
        ),
    )
    return _svg(slug, title, f"{len(items)} rows.", bars, height=height)


def _nice(value: float) -> float:
    """Round an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)
