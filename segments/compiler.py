"""Compile (valid) conditions to a Django Q: the operator semantics of the spec.

Pure: no queries and no model instances; every value becomes a query
parameter. The registry's operands know how each field becomes SQL; this
module knows what each operator means for each value type, including the
"missing is false" rule (operands return definite booleans, so a negated
group is a plain NOT).
"""

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any

from django.db.models import CharField, DateField, DateTimeField, Q, Value
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

from segments.operands import Operand
from segments.registry import NO_VALUE_OPERATORS, CustomDef, Field, registry
from segments.sql import (
    MATCH_ALL,
    MATCH_NONE,
    AsciiLower,
    Contains,
    Flt,
    InList,
    Num,
    Prefix,
    Suffix,
    ascii_lower,
    bool_value,
    clamp_days,
    text_value,
)

MAX_DEPTH = 6


class ConditionsInvalid(ValueError):
    """Raised when asked to compile conditions that do not validate."""


@dataclass(frozen=True)
class Ctx:
    """One evaluation: the segment kind, the instant as_of and the custom attribute definitions.

    `metrics`: a segments.shared_metrics.MetricSource when a full refresh
    shares the engagement aggregates between its segments (None: each
    metric is its own subquery).
    """

    kind: str
    as_of: dt.datetime
    custom: Mapping[str, CustomDef] = field(default_factory=dict)
    metrics: Any = field(default=None, compare=False)

    @property
    def today(self) -> dt.date:
        return self.as_of.astimezone(dt.UTC).date()


def make_ctx(*, kind: str, as_of: dt.datetime, custom: Mapping[str, CustomDef], metrics: Any = None) -> Ctx:
    if kind not in ("account", "user"):
        raise ConditionsInvalid(f'unknown segment kind "{kind}"')
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    return Ctx(kind=kind, as_of=as_of.astimezone(dt.UTC), custom=custom, metrics=metrics)


def compile_q(conditions: Any, ctx: Ctx) -> Q:
    """The Q selecting the rows (accounts or end users) that match `conditions`."""
    if not isinstance(conditions, dict) or "rules" not in conditions:
        raise ConditionsInvalid("conditions must be a group")
    return _node(conditions, ctx)


def _node(node: dict, ctx: Ctx, depth: int = 1) -> Q:
    if not isinstance(node, dict):
        raise ConditionsInvalid("a rule or group must be an object")
    if "field" in node:
        return compile_rule(node, ctx)
    if depth > MAX_DEPTH or node.get("match") not in ("all", "any") or not isinstance(node.get("rules"), list):
        raise ConditionsInvalid("a group needs match all/any and a list of rules, nested at most 6 deep")
    children = [_node(child, ctx, depth + 1) for child in node["rules"]]
    if node.get("match") == "any":
        result = MATCH_NONE if not children else _combine(children, "or")
    else:
        result = MATCH_ALL if not children else _combine(children, "and")
    return ~result if node.get("negate") is True else result


def _combine(children: list[Q], how: str) -> Q:
    result = children[0]
    for child in children[1:]:
        result = result & child if how == "and" else result | child
    return result


def rule_parts(rule: dict, ctx: Ctx) -> tuple[Field, dict, Operand]:
    """Resolve a rule's field, its normalised params and its operand."""
    field_ = registry.resolve(rule.get("field"), kind=ctx.kind, custom=ctx.custom)
    if field_ is None:
        raise ConditionsInvalid(f"unknown field {rule.get('field')!r}")
    params = dict(rule.get("params") or {})
    if "days" in params:
        params["days"] = int(params["days"])
    return field_, params, field_.operand(ctx, params)


def compile_rule(rule: dict, ctx: Ctx) -> Q:
    """The Q of one rule (a definite true/false for every row)."""
    from segments.validation import rule_problems

    problems = rule_problems(rule, kind=ctx.kind, custom=ctx.custom)
    if problems:
        raise ConditionsInvalid("; ".join(str(p) for p in problems))
    field_, params, operand = rule_parts(rule, ctx)
    op = rule.get("op")
    if op not in field_.allowed_operators:
        raise ConditionsInvalid(f"operator {op!r} is not allowed for {field_.key}")
    if op == "is_set":
        return operand.wrap(operand.is_set())
    if op == "is_not_set":
        return operand.wrap(~operand.is_set())
    handler = _HANDLERS[field_.value_type]
    value = None if op in NO_VALUE_OPERATORS else rule.get("value")
    return operand.wrap(handler(operand, op, value, ctx))


# Numbers ----------------------------------------------------------------------


def to_decimal(value: int | float | Decimal) -> Decimal:
    """The number exactly as written: 0.1 is 1/10, not the double nearest it."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


_LIMIT = Decimal(10) ** 18  # beyond every stored or computed value: comparisons keep their meaning


def _grid(value: Decimal, scale: int) -> tuple[Decimal, Decimal]:
    """(floor, ceiling) of `value` on the grid of steps 10**-scale (clamped)."""
    value = max(min(value, _LIMIT), -_LIMIT)
    step = Decimal(1).scaleb(-scale)
    with localcontext() as context:
        context.prec = 60
        floor = (value / step).to_integral_value(ROUND_FLOOR) * step
        ceiling = (value / step).to_integral_value(ROUND_CEILING) * step
    return floor, ceiling


def _number_test(operand: Operand, op: str, value) -> Q:
    """eq / gt / gte / lt / lte with the number as written; false when missing."""
    number = to_decimal(value)
    if operand.scale is None:
        param = Flt(float(number)) if operand.number_param == "float" else Num(number)
        return operand.compare(op, param)
    # Values on a grid (integers, cents): rewrite exactly to >= / <= / = on the grid.
    floor, ceiling = _grid(number, operand.scale)
    step = Decimal(1).scaleb(-operand.scale)
    if op == "gt":
        return operand.at_least(floor + step)
    if op == "gte":
        return operand.at_least(ceiling)
    if op == "lt":
        return operand.at_most(ceiling - step)
    if op == "lte":
        return operand.at_most(floor)
    return operand.equals(number) if floor == ceiling == number else MATCH_NONE


def _number_in(operand: Operand, values: list) -> Q:
    numbers = [to_decimal(v) for v in values]
    if operand.scale is not None:
        numbers = [n for n in numbers if _grid(n, operand.scale) == (n, n)]
    elif operand.number_param == "float":
        numbers = [float(n) for n in numbers if math.isfinite(float(n))]
    return operand.in_list(numbers)


def _number(operand: Operand, op: str, value, ctx: Ctx) -> Q:
    if op == "between":
        return _number_test(operand, "gte", value[0]) & _number_test(operand, "lte", value[1])
    if op == "in":
        return _number_in(operand, value)
    if op == "not_in":
        return operand.is_set() & ~_number_in(operand, value)
    if op == "ne":
        return operand.is_set() & ~_number_test(operand, "eq", value)
    return _number_test(operand, op, value)


# Text, choices, users, booleans ---------------------------------------------------


def _text_test(operand: Operand, op: str, value: str) -> Q:
    lowered = ascii_lower(value)
    if op == "contains":
        return operand.where(lambda v: Contains(AsciiLower(v), lowered))
    if op == "starts_with":
        return operand.where(lambda v: Exact(Prefix(AsciiLower(v), len(lowered)), text_value(lowered)))
    if op == "ends_with":
        return operand.where(lambda v: Exact(Suffix(AsciiLower(v), len(lowered)), text_value(lowered)))
    return operand.where(lambda v: Exact(AsciiLower(v), text_value(lowered)))


def _text(operand: Operand, op: str, value, ctx: Ctx) -> Q:
    if op in ("in", "not_in"):
        lowered = [ascii_lower(v) for v in value]
        matches = operand.where(lambda v: InList(AsciiLower(v), lowered, element="text")) if lowered else MATCH_NONE
        return matches if op == "in" else operand.is_set() & ~matches
    if op in ("ne", "not_contains"):
        return operand.is_set() & ~_text_test(operand, {"ne": "eq", "not_contains": "contains"}[op], value)
    return _text_test(operand, op, value)


def _choice(operand: Operand, op: str, value, ctx: Ctx) -> Q:
    """Choices, the `segment` field and the CSM (by username): all through in_list."""
    values = [value] if op in ("eq", "ne") else list(value)
    matches = operand.in_list(values)
    return matches if op in ("eq", "in") else operand.is_set() & ~matches


def _boolean(operand: Operand, op: str, value, ctx: Ctx) -> Q:
    return operand.where(lambda v: Exact(v, bool_value(op == "is_true")))


# Dates --------------------------------------------------------------------------

_DAY_TESTS = {"eq": "eq", "before": "lt", "after": "gt", "on_or_before": "lte", "on_or_after": "gte"}
_LOOKUPS = {"eq": Exact, "gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan, "lte": LessThanOrEqual}


def current_period(today: dt.date, unit: str) -> tuple[dt.date, dt.date]:
    """First and last day of today's week (ISO, Monday first), month, quarter or year."""
    if unit == "week":
        start = today - dt.timedelta(days=today.weekday())
        return start, clamp_days(start, 6)
    if unit == "year":
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    first_month = today.month if unit == "month" else 3 * ((today.month - 1) // 3) + 1
    last_month = first_month if unit == "month" else first_month + 2
    return dt.date(today.year, first_month, 1), _last_day(today.year, last_month)


def _last_day(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def _day_tests(op: str, value, ctx: Ctx) -> list[tuple[str, dt.date]] | None:
    """The rule as comparisons with whole days; None for the instant-based datetime ops."""
    if op in _DAY_TESTS:
        return [(_DAY_TESTS[op], dt.date.fromisoformat(value))]
    if op == "between":
        return [("gte", dt.date.fromisoformat(value[0])), ("lte", dt.date.fromisoformat(value[1]))]
    if op == "in_current":
        start, end = current_period(ctx.today, value)
        return [("gte", start), ("lte", end)]
    days, today = int(value), ctx.today
    return {
        "in_last_days": [("gte", clamp_days(today, -days)), ("lte", today)],
        "in_next_days": [("gte", today), ("lte", clamp_days(today, days))],
        "more_than_days_ago": [("lt", clamp_days(today, -days))],
        "more_than_days_ahead": [("gt", clamp_days(today, days))],
    }[op]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _next_midnight(day: dt.date) -> dt.datetime:
    return _midnight(day + dt.timedelta(days=1)) if day < dt.date.max else dt.datetime.max.replace(tzinfo=dt.UTC)


def _instant_tests(op: str, value, ctx: Ctx) -> list[tuple[str, dt.datetime]]:
    """A datetime rule as comparisons with instants (UTC days, windows of N*24h)."""
    if op in ("in_last_days", "in_next_days", "more_than_days_ago", "more_than_days_ahead"):
        days, as_of = int(value), ctx.as_of
        return {
            "in_last_days": [("gt", clamp_days(as_of, -days)), ("lte", as_of)],
            "in_next_days": [("gte", as_of), ("lte", clamp_days(as_of, days))],
            "more_than_days_ago": [("lt", clamp_days(as_of, -days))],
            "more_than_days_ahead": [("gt", clamp_days(as_of, days))],
        }[op]
    tests = []
    for test, day in _day_tests(op, value, ctx):
        if test in ("eq", "gte"):
            tests.append(("gte", _midnight(day)))
        if test in ("eq", "lte"):
            tests.append(("lt", _next_midnight(day)))
        if test == "lt":
            tests.append(("lt", _midnight(day)))
        if test == "gt":
            tests.append(("gte", _next_midnight(day)))
    return tests


def _date_param(operand: Operand, moment) -> Value:
    if operand.date_param == "datetime":
        return Value(moment, output_field=DateTimeField())
    if operand.date_param == "iso":
        return Value(moment.isoformat(), output_field=CharField())
    return Value(moment, output_field=DateField())


def _date(operand: Operand, op: str, value, ctx: Ctx) -> Q:
    tests = _instant_tests(op, value, ctx) if operand.date_param == "datetime" else _day_tests(op, value, ctx)
    return operand.where(lambda v: [_LOOKUPS[test](v, _date_param(operand, bound)) for test, bound in tests])


_HANDLERS = {
    "number": _number,
    "text": _text,
    "choice": _choice,
    "user": _choice,
    "boolean": _boolean,
    "date": _date,
}
