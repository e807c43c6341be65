"""Small display filters of the CSM pages: money, relative days, percentages."""

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def money(value, digits: int = 0) -> str:
    """$12,345 (no cents unless asked); "–" when missing."""
    if value in (None, ""):
        return "–"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{int(digits)}f}"


@register.filter
def short_money(value) -> str:
    """$1.2M, $45k, $900; "–" when missing."""
    if value in (None, ""):
        return "–"
    amount = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= limit:
            return f"${amount / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"${amount:,.0f}"


def _day(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date()
    return value if isinstance(value, dt.date) else None


@register.filter
def days_from_today(value) -> str:
    """"in 12 days", "today", "3 days ago" for a date or datetime; "" when missing."""
    day = _day(value)
    if day is None:
        return ""
    delta = (day - timezone.now().date()).days
    if delta == 0:
        return "today"
    unit = "day" if abs(delta) == 1 else "days"
    return f"in {delta} {unit}" if delta > 0 else f"{-delta} {unit} ago"


@register.filter
def days_ago_class(value) -> str:
    """A CSS hint for how long ago something happened: "", "warn" (>14 days) or "bad" (>30 days)."""
    day = _day(value)
    if day is None:
        return "bad"
    age = (timezone.now().date() - day).days
    return "bad" if age > 30 else "warn" if age > 14 else ""


@register.filter
def percent(value, digits: int = 0) -> str:
    """0.953 -> "95%"; "–" when missing."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def times(value, factor) -> Decimal | None:
    """value * factor (ARR from MRR); None when missing."""
    if value in (None, ""):
        return None
    return Decimal(value) * Decimal(factor)


@register.filter
def quantity(value, unit: str = "") -> str:
    """12 with unit "day" -> "12 days", 1 -> "1 day"; without a unit just the whole number."""
    if value is None:
        return "–"
    number = round(float(value))
    if not unit:
        return f"{number:,}"
    return f"{number:,} {unit}{'' if number == 1 else 's'}"
