"""as_of on the command line: ISO 8601 datetime with Z or offset, or a date (spec: Time)."""

import datetime as dt

import pytest

from segments.asof import parse_as_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", dt.datetime(2026, 3, 1, tzinfo=dt.UTC)),
        ("2026-03-01T09:30:00Z", dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)),
        ("2026-03-01T09:30:00+02:00", dt.datetime(2026, 3, 1, 7, 30, tzinfo=dt.UTC)),
        ("2026-03-01 09:30:00.250Z", dt.datetime(2026, 3, 1, 9, 30, 0, 250000, tzinfo=dt.UTC)),
        ("2026-03-01T09:30:00", dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)),
    ],
)
def test_valid_as_of_values_become_aware_utc(text, expected):
    parsed = parse_as_of(text)
    assert parsed == expected
    assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2026-13-01", "2026-02-30", "01/03/2026", "2026-03-01T25:00Z", "1700000000"]
)
def test_invalid_as_of_values_are_refused_with_a_clear_message(text):
    with pytest.raises(ValueError, match="is not an ISO 8601 date or datetime"):
        parse_as_of(text)
