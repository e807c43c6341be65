"""Parse the reference instant `as_of` given on the command line (spec: Time)."""

import datetime as dt
import re

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_as_of(text: str) -> dt.datetime:
    """Return an aware UTC datetime for an ISO 8601 datetime or a date.

    A date means 00:00 UTC of that day; a datetime without an offset is
    taken as UTC (as CSV datetimes are). Raise ValueError otherwise.
    """
    value = (text or "").strip()
    try:
        if _DATE.match(value):
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
            raise ValueError
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f'"{text}" is not an ISO 8601 date or datetime (e.g. 2026-03-01 or 2026-03-01T09:30:00Z)'
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
