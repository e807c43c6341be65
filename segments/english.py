"""Render conditions as a sentence a CSM can read, generated from the registry.

"MRR is more than 5,000 and logins in the last 30 days is at least 3".
Nested groups are parenthesised, a negated group reads "not (...)". Pure
(no queries): custom attribute labels come from `custom_definitions` when
given, else the key is shown. Meant for valid conditions; anything
unexpected is rendered as best it can be, never raised.
"""

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from segments.registry import CustomDef, Field, registry, sentence_label

_NUMBER_OPS = {"eq": "is", "ne": "is not", "gt": "is more than", "gte": "is at least", "lt": "is less than",
               "lte": "is at most"}
_TEXT_OPS = {"eq": "is", "ne": "is not", "contains": "contains", "not_contains": "does not contain",
             "starts_with": "starts with", "ends_with": "ends with"}
_DATE_OPS = {"eq": "is on", "before": "is before", "after": "is after", "on_or_before": "is on or before",
             "on_or_after": "is on or after"}
_DAY_OPS = {"in_last_days": "is in the last {n}", "in_next_days": "is in the next {n}",
            "more_than_days_ago": "is more than {n} ago", "more_than_days_ahead": "is more than {n} ahead"}
_SUBJECTS = {"account": "the account", "user": "the user"}


def render_english(conditions: Any, *, kind: str, custom_definitions: Iterable[CustomDef] | None = None) -> str:
    """The whole condition as one sentence."""
    custom = {d.key: d for d in custom_definitions or ()}
    if isinstance(conditions, dict) and not conditions.get("rules") and "field" not in conditions:
        nobody = "no" if conditions.get("match") == "any" else "all"
        if conditions.get("negate") is True:
            nobody = "all" if nobody == "no" else "no"
        return f"{nobody} {'accounts' if kind == 'account' else 'users'}"
    return _node(conditions, kind, custom, top=True)


def render_rule(rule: Any, *, kind: str, custom_definitions: Iterable[CustomDef] | None = None) -> str:
    """One rule (or group) alone, as in `explain`."""
    return _node(rule, kind, {d.key: d for d in custom_definitions or ()}, top=True)


def _node(node: Any, kind: str, custom: Mapping[str, CustomDef], *, top: bool) -> str:
    if not isinstance(node, dict):
        return "(invalid)"
    if "field" in node:
        return _rule(node, kind, custom)
    rules = node.get("rules") if isinstance(node.get("rules"), list) else []
    joiner = " or " if node.get("match") == "any" else " and "
    if not rules:
        text = "nothing" if node.get("match") == "any" else "everything"
    else:
        text = joiner.join(_node(child, kind, custom, top=False) for child in rules)
    if node.get("negate") is True:
        return f"not ({text})"
    return text if top or len(rules) <= 1 else f"({text})"


def _rule(rule: dict, kind: str, custom: Mapping[str, CustomDef]) -> str:
    key = rule.get("field")
    field_ = registry.resolve(key, kind=kind, custom=custom)
    if field_ is None and isinstance(key, str):
        field_ = _custom_placeholder(key, kind)
    if field_ is None:
        return f"(unknown field {json.dumps(key) if isinstance(key, str) else ''})".replace(" )", ")")
    params = rule.get("params") if isinstance(rule.get("params"), dict) else {}
    op, value = rule.get("op"), rule.get("value")
    if field_.segment_kind:
        return _segment(field_, kind, op, value)
    return f"{_phrase(field_, params)} {_operation(field_, op, value)}"


def _custom_placeholder(key: str, kind: str) -> Field | None:
    """Without definitions, show `custom.<key>` by its key (the type is unknown)."""
    bare = key.removeprefix("account.") if kind == "user" else key
    if not bare.startswith("custom."):
        return None
    definition = CustomDef(key=bare[len("custom.") :], type="text")
    return registry.resolve(key, kind=kind, custom={definition.key: definition})


def _phrase(field_: Field, params: Mapping[str, Any]) -> str:
    if field_.phrase:
        try:
            return field_.phrase(params)
        except (TypeError, ValueError, OverflowError):
            pass
    return sentence_label(field_.label)


def _operation(field_: Field, op: Any, value: Any) -> str:
    if op in ("is_set", "is_not_set"):
        return "is set" if op == "is_set" else "is not set"
    family = field_.value_type
    if family == "boolean":
        return {"is_true": "is true", "is_false": "is false"}.get(op, str(op))
    show = _shower(field_)
    if op in ("in", "not_in"):
        items = value if isinstance(value, list) else []
        return ("is one of " if op == "in" else "is none of ") + (_or(show(v) for v in items) or "(no values)")
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return f"is between {show(value[0])} and {show(value[1])}"
    if family == "date":
        return _date_operation(op, value)
    table = _TEXT_OPS if family == "text" else _NUMBER_OPS
    phrase = table.get(op) or _NUMBER_OPS.get(op) or _TEXT_OPS.get(op) or str(op)
    return f"{phrase} {show(value)}"


def _date_operation(op: Any, value: Any) -> str:
    if op in _DATE_OPS:
        return f"{_DATE_OPS[op]} {value}"
    if op == "in_current":
        return f"is in the current {value}"
    if op in _DAY_OPS:
        try:
            days = int(value)
        except (TypeError, ValueError, OverflowError):
            days = value
        if days == 0 and op == "in_last_days":
            return "is today"
        return _DAY_OPS[op].format(n=f"{days} day{'' if days == 1 else 's'}")
    return f"{op} {value}"


def _shower(field_: Field):
    family = field_.value_type
    if family == "number":
        return lambda v: format_number(v) + field_.unit
    if family == "text":
        return lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, str) else str(v)
    if family == "choice":
        return lambda v: field_.choice_label(v) if isinstance(v, str) else str(v)
    return str


def _segment(field_: Field, kind: str, op: Any, value: Any) -> str:
    subject = "the user's account" if field_.key.startswith("account.") else _SUBJECTS.get(kind, "it")
    slugs = [json.dumps(v, ensure_ascii=False) for v in (value if isinstance(value, list) else [])]
    negative = op == "not_in"
    if len(slugs) == 1:
        return f"{subject} is {'not ' if negative else ''}in segment {slugs[0]}"
    which = "none" if negative else "any"
    return f"{subject} is in {which} of the segments {_or(slugs) or '(none)'}"


def format_number(value: Any) -> str:
    """5000 -> "5,000", 5000.5 -> "5,000.5"; as written, no float noise."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        value = int(value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (ValueError, ArithmeticError):
        return str(value)
    if isinstance(value, Decimal) and number.is_finite():
        number = number.normalize()
    if isinstance(value, int) and value.bit_length() < 128:
        return f"{value:,}"
    if not number.is_finite() or abs(number) >= Decimal(10) ** 21 or number.as_tuple().exponent < -20:
        return repr(value) if isinstance(value, float) else "a very large number"
    return f"{number:,f}"


def _or(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
