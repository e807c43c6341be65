"""Template helpers of the health pages: trend arrows and a sparkline with gaps."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_ARROWS = {"up": "▲", "down": "▼", "flat": "▶"}


@register.simple_tag
def health_trend_arrow(change: int | None) -> SafeString:
    """▲ +5 / ▼ -3 / ▶ 0, or an en dash when there is no trend."""
    if change is None:
        return mark_safe('<span class="faint" title="no earlier score">–</span>')  # noqa: S308 - a constant
    direction = "up" if change > 0 else "down" if change < 0 else "flat"
    return format_html('<span class="health-trend {}">{} {}</span>', direction, _ARROWS[direction], f"{change:+d}")


@register.simple_tag
def health_sparkline(points, width: int = 180, height: int = 36) -> SafeString:
    """An SVG line of daily scores on a fixed 0-100 scale; days without a score break the line."""
    points = list(points)
    if sum(1 for _, score in points if score is not None) < 1:
        return mark_safe("")  # noqa: S308 - a constant
    step = (width - 4) / max(len(points) - 1, 1)
    segments, current = [], []
    for index, (_, score) in enumerate(points):
        if score is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(f"{2 + index * step:.1f},{2 + (height - 4) * (100 - score) / 100:.1f}")
    if current:
        segments.append(current)
    lines = format_html_join("", '<polyline points="{}"/>', ((" ".join(s),) for s in segments if len(s) > 1))
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="1.5"/>', (s[0].split(",") for s in segments
                                                                        if len(s) == 1))
    first, last = points[0][0], points[-1][0]
    return format_html(
        '<svg class="sparkline health-sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="Health score from {first} to {last}">{lines}{dots}</svg>',
        w=width, h=height, first=first, last=last, lines=lines, dots=dots,
    )
