"""Portable SQL building blocks for the condition compiler (SQLite and PostgreSQL).

Every user-supplied value reaches SQL as a query parameter through these
expressions; none of them interpolates a value into the SQL text. Each one
renders identically-behaving SQL on both databases (see
/work/notes/decisions-engine.md for why each exists).
"""

import datetime as dt
import json
import math
from decimal import Decimal

from django.db.models import (
    BooleanField,
    CharField,
    DecimalField,
    Expression,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
)

# Explicit "match everything" / "match nothing": an empty Q() vanishes when
# combined (Django ticket #32554), so both are real, always-defined predicates.
MATCH_ALL = Q(pk__isnull=False)
MATCH_NONE = Q(pk__isnull=True)

_INT64 = 2**63


class Num(Expression):
    """A number parameter: exact `numeric` on PostgreSQL, INTEGER or REAL on SQLite.

    Django adapts a Decimal to TEXT on SQLite, which compares as greater than
    every number unless the other side has numeric affinity; an int or float
    parameter compares numerically everywhere.
    """

    output_field = DecimalField()

    def __init__(self, value: Decimal):
        super().__init__()
        self.value = value

    def get_group_by_cols(self):
        return []  # a constant, like Value: never a GROUP BY column

    def as_sql(self, compiler, connection):
        return "%s", [self.value]

    def as_sqlite(self, compiler, connection):
        return "%s", [_sqlite_number(self.value)]


def _sqlite_number(value: Decimal) -> int | float:
    if value == value.to_integral_value() and abs(value) < _INT64:
        return int(value)
    return float(value)


class Flt(Expression):
    """A double precision parameter (the percentages are doubles)."""

    output_field = FloatField()

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def get_group_by_cols(self):
        return []

    def as_sql(self, compiler, connection):
        return "%s", [self.value]


class InList(Func):
    """`expression IN (values)` with the whole list as ONE parameter.

    A condition may hold 200 rules of 1,000 values each: one parameter per
    value would exceed the databases' parameter limits. `element` is "text",
    "numeric" or "float". The list never contains NULL, so the result is
    never NULL when the expression is not.
    """

    output_field = BooleanField()
    _PG_TYPES = {"text": "text[]", "numeric": "numeric[]", "float": "float8[]"}

    def __init__(self, expression, values: list, *, element: str):
        super().__init__(expression)
        self.values = list(values)
        self.element = element

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.source_expressions[0])
        return f"({lhs} = ANY(%s::{self._PG_TYPES[self.element]}))", [*params, self.values]

    def as_sqlite(self, compiler, connection):
        lhs, params = compiler.compile(self.source_expressions[0])
        values = [_sqlite_number(v) if isinstance(v, Decimal) else v for v in self.values]
        # JSON has no infinity, and no stored number equals one.
        values = [v for v in values if not (isinstance(v, float) and not math.isfinite(v))]
        # `lhs` is compiled SQL of our own expression; the values are one parameter.
        return f"({lhs} IN (SELECT value FROM json_each(%s)))", [*params, json.dumps(values)]  # noqa: S608


class AsciiLower(Func):
    """Lower-case ASCII letters only, identically on both databases.

    SQLite's LOWER() folds ASCII only; PostgreSQL's folds Unicode, except under
    the "C" collation, where it folds ASCII letters only (7x faster than a
    TRANSLATE over A-Z). The Python side uses `ascii_lower()`.
    """

    output_field = CharField()
    arity = 1

    def as_sql(self, compiler, connection):
        inner, params = compiler.compile(self.source_expressions[0])
        return f'LOWER(({inner}) COLLATE "C")', params

    def as_sqlite(self, compiler, connection):
        inner, params = compiler.compile(self.source_expressions[0])
        return f"LOWER({inner})", params


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = str.maketrans(_UPPER, _UPPER.lower())


def ascii_lower(text: str) -> str:
    """Lower-case the ASCII letters of `text` (the Python twin of AsciiLower)."""
    return text.translate(_ASCII_LOWER)


class _ValueFunc(Func):
    """A function of one string expression and one value, the value always a query parameter.

    Subclasses give the SQL for PostgreSQL (`pg`) and SQLite (`sqlite`), with
    `{}` for the compiled expression and `%s` for the value.
    """

    arity = 1
    pg = sqlite = ""

    def __init__(self, expression, value):
        super().__init__(expression)
        self.value = value

    def sqlite_value(self):
        return self.value

    def as_sql(self, compiler, connection):
        inner, params = compiler.compile(self.source_expressions[0])
        return self.pg.format(inner), [*params, self.value]

    def as_sqlite(self, compiler, connection):
        inner, params = compiler.compile(self.source_expressions[0])
        return self.sqlite.format(inner), [*params, self.sqlite_value()]


class Suffix(_ValueFunc):
    """The last `length` characters of a string (all of it when shorter)."""

    output_field = CharField()
    pg, sqlite = "RIGHT({}, %s)", "SUBSTR({}, %s)"

    def sqlite_value(self):
        return -self.value  # SUBSTR counts a negative start from the end


class Prefix(_ValueFunc):
    """The first `length` characters of a string."""

    output_field = CharField()
    pg = sqlite = "SUBSTR({}, 1, %s)"


class Contains(_ValueFunc):
    """True when the value occurs in the string (no LIKE: no wildcard escaping)."""

    output_field = BooleanField()
    pg, sqlite = "(STRPOS({}, %s) > 0)", "(INSTR({}, %s) > 0)"


class CustomValue(Func):
    """The value of custom attribute `key` in `Account.custom`, or NULL.

    The value is only used when its JSON type matches the attribute type (a
    stale value of another type is treated as missing rather than failing the
    whole query with a cast error). The key is a parameter, never SQL text.
    `type_` is one of text, choice, date, number, boolean.
    """

    _SQLITE_TYPES = {"number": "('integer', 'real')", "boolean": "('true', 'false')"}
    _PG_TYPES = {"number": "number", "boolean": "boolean"}

    def __init__(self, key: str, type_: str, *, column: str = "custom"):
        output = {"number": DecimalField(), "boolean": BooleanField()}.get(type_, CharField())
        super().__init__(F(column), output_field=output)
        self.key = key
        self.type_ = type_

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.source_expressions[0])
        json_type = self._PG_TYPES.get(self.type_, "string")
        value = f"({column} ->> %s)"
        if self.type_ == "number":
            value += "::numeric"
        elif self.type_ == "boolean":
            value += "::boolean"
        elif self.type_ == "date":
            # ISO dates compare as strings; "C" so that no locale reorders them.
            value += ' COLLATE "C"'
        sql = f"(CASE WHEN jsonb_typeof({column} -> %s) = '{json_type}' THEN {value} END)"
        return sql, [*params, self.key, *params, self.key]

    def as_sqlite(self, compiler, connection):
        column, params = compiler.compile(self.source_expressions[0])
        path = '$."' + self.key + '"'
        types = self._SQLITE_TYPES.get(self.type_, "('text')")
        boolean = self.type_ == "boolean"
        value = f"(json_type({column}, %s) = 'true')" if boolean else f"json_extract({column}, %s)"
        sql = f"(CASE WHEN json_type({column}, %s) IN {types} THEN {value} END)"
        return sql, [*params, path, *params, path]


def text_value(value: str) -> Value:
    return Value(value, output_field=CharField())


def bool_value(value: bool) -> Value:
    return Value(value, output_field=BooleanField())


def clamp_days(moment, days: int):
    """Return `moment` + `days` days, clamped to the representable range.

    Day counts and dates are validated, but comparisons against huge numbers
    (`days_since_last_activity gt 1e12`) shift by absurd amounts: clamping to
    the calendar's ends keeps the comparison's meaning for every real value.
    """
    try:
        return moment + dt.timedelta(days=days)
    except OverflowError:
        pass
    if isinstance(moment, dt.datetime):
        edge = dt.datetime.max if days > 0 else dt.datetime.min
        return edge.replace(tzinfo=dt.UTC)
    return dt.date.max if days > 0 else dt.date.min


class WholeDaysSince(Func):
    """floor((as_of - t) / 24h) for a datetime t at or before as_of, as an integer, exactly.

    PostgreSQL: the interval's epoch is numeric (microseconds exact).
    SQLite: Django stores UTC datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]";
    integer microseconds since the epoch, then integer division.
    """

    output_field = IntegerField()
    arity = 1

    def __init__(self, expression, *, as_of: dt.datetime):
        super().__init__(expression)
        self.as_of = as_of.astimezone(dt.UTC)

    def as_sql(self, compiler, connection):
        inner, params = compiler.compile(self.source_expressions[0])
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM (%s - {inner})) / 86400) AS INTEGER)", [self.as_of, *params]

    def as_sqlite(self, compiler, connection):
        inner, params = compiler.compile(self.source_expressions[0])
        as_of_us = int(self.as_of.timestamp()) * 1_000_000 + self.as_of.microsecond
        # %% : Django's SQLite backend turns %% back into % (the query has parameters).
        # Whole seconds from the first 19 characters: strftime would round .999999 up to the next second.
        micros = (f"(CAST(strftime('%%s', substr({inner}, 1, 19)) AS INTEGER) * 1000000 + CASE WHEN "
                  f"length({inner}) > 20 THEN CAST(substr({inner} || '000000', 21, 6) AS INTEGER) ELSE 0 END)")
        return f"((%s - {micros}) / 86400000000)", [as_of_us, *params, *params, *params]
