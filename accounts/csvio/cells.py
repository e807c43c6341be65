"""Cells: how a CSV cell becomes a typed value, and a value becomes a cell.

A parser takes a cleaned, non-empty cell and returns the value to store, or
raises `CellError` whose message is the sentence after "line N, column C: ".
Digits are ASCII only: Python's int() and Decimal() also accept other
scripts' digits, underscores, exponents, NaN and Infinity, which the spec
does not (interchange.md, "numbers have no exponent").
"""

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from accounts.custom_attributes import number_to_json

# A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_CHARS = frozenset("=+-@\t\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))?\Z"
)
_DATETIME_TAIL = re.compile(r"(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?\Z")
_NOT_DATETIME = "is not a date and time (ISO 8601, e.g. 2026-03-01T09:30:00Z)"
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
# PositiveIntegerField's range on every backend Django supports.
INT_MAX = 2147483647
_SHOWN_CHARS = 80

Parser = Callable[[str], Any]
Renderer = Callable[[Any], str]


class CellError(ValueError):
    """A cell that cannot be stored; the message is a sentence about it."""


def cell_clean(raw: str) -> str:
    """Trim spaces and tabs, then drop a leading ' that protects a formula character."""
    cell = raw.strip(" \t")
    if cell[:1] == "'" and cell[1:2] in FORMULA_CHARS and len(cell) > 1:
        return cell[1:]
    return cell


def cell_escape(text: str) -> str:
    """Prefix a cell a spreadsheet would read as a formula with ' (plain numbers excepted)."""
    if text and text[0] in FORMULA_CHARS and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def cell_show(cell: str) -> str:
    """Quote a cell for a message, shortened when long."""
    if len(cell) > _SHOWN_CHARS:
        cell = cell[: _SHOWN_CHARS - 1] + "…"
    return f'"{cell}"'


# --- parsers -----------------------------------------------------------------


def text_parser(max_length: int | None) -> Parser:
    """Accept any text up to `max_length` characters (None: unlimited)."""

    def parse(cell: str) -> str:
        if max_length is not None and len(cell) > max_length:
            raise CellError(f"{cell_show(cell)} is longer than {max_length} characters")
        return cell

    return parse


def choice_parser(values: Iterable[str]) -> Parser:
    """Accept one of `values`, any case; store it lower-case."""
    allowed = {v.lower(): v for v in values}
    listing = ", ".join(allowed)

    def parse(cell: str) -> str:
        value = allowed.get(cell.lower())
        if value is None:
            raise CellError(f"{cell_show(cell)} is not one of {listing}")
        return value

    return parse


def _digits(text: str) -> bool:
    """ASCII digits only (str.isdigit alone also takes other scripts' digits and superscripts)."""
    return text.isascii() and text.isdigit()


def _number_parts(cell: str) -> tuple[str, str] | None:
    """Split `-?[0-9]+(.[0-9]+)?` into its whole and decimal digits; None for anything else."""
    whole, dot, decimals = (cell[1:] if cell[:1] == "-" else cell).partition(".")
    if not _digits(whole) or (dot and not _digits(decimals)):
        return None
    return whole, decimals


def whole_parser(minimum: int = 0, maximum: int = INT_MAX) -> Parser:
    """Accept a whole number between `minimum` and `maximum`."""

    def parse(cell: str) -> int:
        if not _digits(cell[1:] if cell[:1] == "-" else cell):
            raise CellError(f"{cell_show(cell)} is not a whole number")
        # len() first: int() refuses strings of more than 4300 digits.
        value = int(cell) if len(cell) <= 20 else (INT_MAX + 1) * (-1 if cell[0] == "-" else 1)
        if value < minimum:
            problem = "is negative" if minimum == 0 else f"is less than {minimum}"
            raise CellError(f"{cell_show(cell)} {problem}")
        if value > maximum:
            raise CellError(f"{cell_show(cell)} is too large (at most {maximum})")
        return value

    return parse


def money_parser(max_digits: int, decimal_places: int = 2) -> Parser:
    """Accept a non-negative amount with at most `decimal_places` decimals (even zeros)."""
    whole_digits = max_digits - decimal_places

    def parse(cell: str) -> Decimal:
        parts = _number_parts(cell)
        if parts is None:
            raise CellError(f"{cell_show(cell)} is not a number")
        whole, decimals = parts
        if len(decimals) > decimal_places:
            raise CellError(f"{cell_show(cell)} has more than {decimal_places} decimal places")
        value = Decimal(cell)
        if value < 0:
            raise CellError(f"{cell_show(cell)} is negative")
        if len(whole.lstrip("0")) > whole_digits:
            raise CellError(f"{cell_show(cell)} is too large (at most {whole_digits} digits before the decimal point)")
        return abs(value)  # "-0" is zero

    return parse


def json_number_parser(max_whole_digits: int = 20) -> Parser:
    """Accept a decimal and store it as a JSON number (accounts/custom_attributes.py)."""

    def parse(cell: str) -> int | float:
        parts = _number_parts(cell)
        if parts is None:
            raise CellError(f"{cell_show(cell)} is not a number")
        if len(parts[0].lstrip("0")) > max_whole_digits:
            limit = f"at most {max_whole_digits} digits before the decimal point"
            raise CellError(f"{cell_show(cell)} is too large ({limit})")
        return number_to_json(Decimal(cell))

    return parse


def parse_date(cell: str) -> dt.date:
    """Accept a real calendar date written YYYY-MM-DD."""
    if len(cell) == 10 and cell[4] == "-" and cell[7] == "-" and _digits(cell[:4] + cell[5:7] + cell[8:]):
        try:
            # The C parser, once the shape is checked (it accepts other ISO shapes too).
            return dt.date.fromisoformat(cell)
        except ValueError:
            pass
    raise CellError(f"{cell_show(cell)} is not a date (YYYY-MM-DD)")


def parse_date_text(cell: str) -> str:
    """Accept a date and keep it as its YYYY-MM-DD text (custom attributes)."""
    return parse_date(cell).isoformat()


def parse_datetime(cell: str) -> dt.datetime:
    """Accept an ISO 8601 extended date and time; without an offset it is UTC."""
    # The common shapes go to the C parser once their separators and tail are checked
    # (fromisoformat alone also takes dates, basic formats, minutes without seconds...).
    if (
        len(cell) >= 19 and cell[4] == "-" and cell[7] == "-" and cell[10] in "T " and cell[13] == ":"
        and cell[16] == ":" and cell.isascii() and ((tail := cell[19:]) in ("", "Z") or _DATETIME_TAIL.match(tail))
    ):
        try:
            value = dt.datetime.fromisoformat(cell)
        except ValueError:
            value = None
        if value is not None:
            return _in_utc(cell, value)
    match = _DATETIME.match(cell)
    if not match:
        raise CellError(f"{cell_show(cell)} {_NOT_DATETIME}")
    return _datetime_from_parts(cell, match)  # a lower-case t or z, or an out-of-range value


def _in_utc(cell: str, value: dt.datetime) -> dt.datetime:
    tzinfo = value.tzinfo
    if tzinfo is dt.UTC:  # "Z": already what the writers expect (no astimezone copy)
        return value
    if tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise CellError(f"{cell_show(cell)} {_NOT_DATETIME}") from None


def _datetime_from_parts(cell: str, match: re.Match) -> dt.datetime:
    problem = _NOT_DATETIME
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    # The database keeps microseconds: finer fractions are truncated.
    micro = int((fraction + "000000")[:6]) if fraction else 0
    tz = dt.UTC
    if sign:
        if int(off_h) > 23 or int(off_m) > 59:
            raise CellError(f"{cell_show(cell)} {problem}")
        offset = dt.timedelta(hours=int(off_h), minutes=int(off_m))
        tz = dt.timezone(-offset if sign == "-" else offset)
    try:
        value = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
        return value if tz is dt.UTC else value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise CellError(f"{cell_show(cell)} {problem}") from None


def parse_boolean(cell: str) -> bool:
    """Accept true/false, yes/no, 1/0 in any case."""
    value = _BOOLEANS.get(cell.lower())
    if value is None:
        raise CellError(f"{cell_show(cell)} is not a boolean (true/false, yes/no, 1/0)")
    return value


# --- renderers ---------------------------------------------------------------


def render_text(value: Any) -> str:
    return "" if value is None else str(value)


def render_int(value: int | None) -> str:
    return "" if value is None else str(value)


def render_decimal(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def render_date(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def render_datetime(value: dt.datetime | None) -> str:
    """Write a datetime in UTC with a Z, microseconds only when there are some."""
    if value is None:
        return ""
    if value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat() + "Z"


def render_boolean(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def render_json_number(value: int | float) -> str:
    """Write a JSON number as a plain decimal: no exponent, no trailing .0."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def render_json_value(value: Any) -> str:
    """Write a custom attribute's stored JSON value as a cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return render_boolean(value)
    if isinstance(value, int | float):
        return render_json_number(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
