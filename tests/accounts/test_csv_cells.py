"""Cell parsing, rendering and formula escaping (accounts/csvio/cells.py)."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.csvio import cells

UTC = dt.UTC


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  x \t", "x"),
        ("\t'=1+1 ", "=1+1"),
        ("'+1", "+1"),
        ("'-", "-"),
        ("'@x", "@x"),
        ("'\tx", "\tx"),
        ("'\rx", "\rx"),
        ("'x", "'x"),
        ("''=x", "''=x"),
        ("'", "'"),
        ("   ", ""),
        ("a\nb", "a\nb"),
    ],
)
def test_clean_trims_spaces_and_tabs_then_drops_a_quote_before_a_formula_character(raw, clean):
    assert cells.cell_clean(raw) == clean


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("==1+1", "'==1+1"),
        ("+41 22", "'+41 22"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "'-"),
        ("-1e5", "'-1e5"),
        ("-12", "-12"),
        ("-12.50", "-12.50"),
        ("12", "12"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_escape_prefixes_formula_cells_but_not_plain_numbers(value, written):
    assert cells.cell_escape(value) == written


@pytest.mark.parametrize("value", ["=1+1", "+1", "-x", "@a", "\tt", "\rr", "-5", "x"])
def test_escape_then_clean_gives_the_value_back(value):
    assert cells.cell_clean(cells.cell_escape(value)) == value


def test_text_refuses_cells_longer_than_the_field():
    parse = cells.text_parser(3)
    assert parse("abc") == "abc"
    with pytest.raises(cells.CellError, match=r'"abcd" is longer than 3 characters'):
        parse("abcd")


def test_choice_ignores_case_and_stores_lower_case():
    parse = cells.choice_parser(["starter", "business"])
    assert parse("BUSINESS") == "business"
    with pytest.raises(cells.CellError, match=r'"gold" is not one of starter, business'):
        parse("gold")


@pytest.mark.parametrize("cell", ["1.5", "1e3", "١٢", "1_000", "+1", " 1", "0x10", "NaN", "1.0"])
def test_whole_numbers_are_ascii_digits_only(cell):
    with pytest.raises(cells.CellError, match="is not a whole number"):
        cells.whole_parser()(cell)


def test_whole_numbers_have_bounds():
    assert cells.whole_parser()("007") == 7
    with pytest.raises(cells.CellError, match='"-1" is negative'):
        cells.whole_parser()("-1")
    with pytest.raises(cells.CellError, match='"0" is less than 1'):
        cells.whole_parser(minimum=1)("0")
    with pytest.raises(cells.CellError, match="too large"):
        cells.whole_parser()("2147483648")
    with pytest.raises(cells.CellError, match="too large"):
        cells.whole_parser()("9" * 5000)


@pytest.mark.parametrize(("cell", "value"), [("10", "10"), ("10.5", "10.5"), ("0.00", "0.00"), ("-0", "0")])
def test_money_accepts_at_most_two_decimals(cell, value):
    assert cells.money_parser(14)(cell) == Decimal(value)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("1.000", "has more than 2 decimal places"),
        ("1.001", "has more than 2 decimal places"),
        ("-1", "is negative"),
        ("-0.01", "is negative"),
        ("1e3", "is not a number"),
        ("1,000", "is not a number"),
        ("Infinity", "is not a number"),
        (".5", "is not a number"),
        ("5.", "is not a number"),
        ("1000000000000", "is too large"),
    ],
)
def test_money_errors(cell, problem):
    with pytest.raises(cells.CellError, match=problem):
        cells.money_parser(14)(cell)


def test_json_numbers_are_ints_when_whole_and_refuse_exponents():
    parse = cells.json_number_parser()
    assert parse("42") == 42 and isinstance(parse("42.0"), int)
    assert parse("-2.5") == -2.5
    with pytest.raises(cells.CellError, match="is not a number"):
        parse("1e2")


@pytest.mark.parametrize(
    "cell", ["2026-13-01", "2026-02-30", "26-01-01", "2026-1-1", "2026/01/01", "2026-01-01T00:00:00"]
)
def test_dates_must_be_real_and_written_yyyy_mm_dd(cell):
    with pytest.raises(cells.CellError, match=r"is not a date \(YYYY-MM-DD\)"):
        cells.parse_date(cell)


def test_date_message_matches_the_spec_example():
    with pytest.raises(cells.CellError) as info:
        cells.parse_date("2026-13-01")
    assert str(info.value) == '"2026-13-01" is not a date (YYYY-MM-DD)'


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("2026-03-01T09:30:00Z", dt.datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01 09:30:00", dt.datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T09:30:00.5Z", dt.datetime(2026, 3, 1, 9, 30, 0, 500000, tzinfo=UTC)),
        ("2026-03-01T09:30:00.123456789Z", dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T09:30:00+02:00", dt.datetime(2026, 3, 1, 7, 30, tzinfo=UTC)),
        ("2026-03-01T00:30:00-01:30", dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC)),
    ],
)
def test_datetimes_are_iso_8601_extended_and_utc_without_offset(cell, value):
    parsed = cells.parse_datetime(cell)
    assert parsed == value and parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "cell",
    ["2026-03-01", "2026-03-01T09:30", "20260301T093000Z", "2026-03-01T25:00:00Z", "2026-02-30T09:30:00Z",
     "2026-03-01T09:30:00+0200", "2026-03-01T09:30:00+24:00", "2026-03-01T09:30:60Z", "0001-01-01T00:00:00+01:00"],
)
def test_datetime_errors(cell):
    with pytest.raises(cells.CellError, match="is not a date and time"):
        cells.parse_datetime(cell)


@pytest.mark.parametrize(("cell", "value"), [("TRUE", True), ("yes", True), ("1", True), ("False", False),
                                             ("NO", False), ("0", False)])
def test_booleans(cell, value):
    assert cells.parse_boolean(cell) is value


def test_boolean_error():
    with pytest.raises(cells.CellError, match="is not a boolean"):
        cells.parse_boolean("y")


def test_renderers_write_what_the_parsers_read():
    moment = dt.datetime(2026, 3, 1, 9, 30, 0, 120000, tzinfo=UTC)
    assert cells.render_datetime(moment) == "2026-03-01T09:30:00.120000Z"
    assert cells.parse_datetime(cells.render_datetime(moment)) == moment
    assert cells.render_datetime(dt.datetime(2026, 3, 1, 9, 30, tzinfo=UTC)) == "2026-03-01T09:30:00Z"
    assert cells.render_decimal(Decimal("10.50")) == "10.50"
    assert cells.render_boolean(False) == "false" and cells.render_boolean(None) == ""


@pytest.mark.parametrize(("value", "text"), [(5, "5"), (5.0, "5"), (0.1, "0.1"), (1e-05, "0.00001"),
                                             (-2.5, "-2.5"), (True, "true"), ("x", "x"), (None, "")])
def test_json_values_are_written_without_exponents(value, text):
    assert cells.render_json_value(value) == text
