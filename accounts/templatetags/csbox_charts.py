"""Small server-side charts as inline SVG (no JavaScript, no CDN).

`{% load csbox_charts %}` then `{% line_chart points label="Members" %}`,
`{% bar_chart buckets label="Events per week" %}` or `{% sparkline values %}`.
Points are (x label, number or None) pairs; the SVG scales to its container
(viewBox) and every label is escaped.
"""

from collections.abc import Sequence
from decimal import Decimal

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

Number = int | float | Decimal


def _fmt(value: Number | None, *, money: bool = False) -> str:
    if value is None:
        return "–"
    value = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
            break
    else:
        text = f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"
    return ("$" + text) if money else text


def _scale(values: Sequence[float], low: float, high: float, top: float, bottom: float) -> list[float]:
    span = (high - low) or 1.0
    return [bottom - (v - low) / span * (bottom - top) for v in values]


@register.simple_tag
def line_chart(points, label: str = "", money: bool = False, width: int = 640, height: int = 180) -> SafeString:
    """A line chart of (x label, value) points with min/max and first/last labels."""
    known = [(str(x), float(v)) for x, v in points if v is not None]
    if not known:
        return format_html('<p class="chart-empty muted">No data yet for {}.</p>', label or "this chart")
    pad_left, pad_right, top, bottom = 52, 12, 12, height - 26
    values = [v for _, v in known]
    low, high = min(values + [0.0]), max(values)
    if high == low:
        high = low + 1
    ys = _scale(values, low, high, top, bottom)
    step = (width - pad_left - pad_right) / max(len(known) - 1, 1)
    xs = [pad_left + i * step for i in range(len(known))]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    area = f"{xs[0]:.1f},{bottom:.1f} {line} {xs[-1]:.1f},{bottom:.1f}"
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{escape(name)}: {escape(_fmt(v, money=money))}</title>'
        "</circle>"
        for x, y, (name, v) in zip(xs, ys, known, strict=True)
    ) if len(known) <= 120 else ""
    top_label, bottom_label = escape(_fmt(high, money=money)), escape(_fmt(low, money=money))
    svg = (
        f'<svg class="chart line" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        f'<line class="axis" x1="{pad_left}" y1="{bottom}" x2="{width - pad_right}" y2="{bottom}"/>'
        f'<line class="grid" x1="{pad_left}" y1="{top}" x2="{width - pad_right}" y2="{top}"/>'
        f'<text class="tick" x="{pad_left - 6}" y="{top + 4}" text-anchor="end">{top_label}</text>'
        f'<text class="tick" x="{pad_left - 6}" y="{bottom + 4}" text-anchor="end">{bottom_label}</text>'
        f'<polygon class="area" points="{area}"/><polyline class="stroke" points="{line}"/>{dots}'
        f'<text class="tick" x="{pad_left}" y="{height - 6}">{escape(known[0][0])}</text>'
        f'<text class="tick" x="{width - pad_right}" y="{height - 6}" text-anchor="end">{escape(known[-1][0])}</text>'
        "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every interpolated text is escaped above


@register.simple_tag
def bar_chart(points, label: str = "", width: int = 640, height: int = 140) -> SafeString:
    """A bar chart of (x label, value) points, e.g. events per week."""
    points = [(str(x), float(v or 0)) for x, v in points]
    if not points:
        return format_html('<p class="chart-empty muted">No data yet for {}.</p>', label or "this chart")
    pad_left, top, bottom = 40, 10, height - 22
    high = max(v for _, v in points) or 1.0
    slot = (width - pad_left - 4) / len(points)
    bars = []
    for i, (name, value) in enumerate(points):
        bar_height = value / high * (bottom - top)
        x = pad_left + i * slot + slot * 0.15
        shown = max(bar_height, 0.5 if value else 0)
        bars.append(f'<rect x="{x:.1f}" y="{bottom - bar_height:.1f}" width="{slot * 0.7:.1f}" height="{shown:.1f}">'
                    f"<title>{escape(name)}: {escape(_fmt(value))}</title></rect>")
    svg = (
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        f'<line class="axis" x1="{pad_left}" y1="{bottom}" x2="{width}" y2="{bottom}"/>'
        f'<text class="tick" x="{pad_left - 6}" y="{top + 4}" text-anchor="end">{escape(_fmt(high))}</text>'
        f'<text class="tick" x="{pad_left - 6}" y="{bottom + 4}" text-anchor="end">0</text>'
        f'{"".join(bars)}'
        f'<text class="tick" x="{pad_left}" y="{height - 6}">{escape(points[0][0])}</text>'
        f'<text class="tick" x="{width}" y="{height - 6}" text-anchor="end">{escape(points[-1][0])}</text>'
        "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every interpolated text is escaped above


@register.simple_tag
def sparkline(values, label: str = "", width: int = 90, height: int = 24) -> SafeString:
    """A tiny trend line of numbers (None skipped), for tables."""
    known = [float(v) for v in values if v is not None]
    if len(known) < 2:
        return mark_safe("")
    low, high = min(known), max(known)
    if high == low:
        high = low + 1
    ys = _scale(known, low, high, 2, height - 2)
    step = (width - 4) / (len(known) - 1)
    line = " ".join(f"{2 + i * step:.1f},{y:.1f}" for i, y in enumerate(ys))
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        '<polyline points="{}"/></svg>', int(width), int(height), int(width), int(height), label, line)
