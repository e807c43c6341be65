"""Explain, for one account or end user, why conditions match it or not.

For one object only, so a few queries per rule are fine: each rule's
"held" is computed by the very same compiled SQL as the segment refresh
(filtering the object's row by the rule), so explain never disagrees with
membership; the value shown is the field's value for the object as of as_of.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from segments.compiler import Ctx, compile_rule, rule_parts
from segments.english import format_number, render_rule


def explain_rows(conditions: dict, *, ctx: Ctx, obj) -> list[dict]:
    """Rows in document order: groups and rules with path, depth, text, value, held; then the result."""
    from accounts.models import Account, EndUser

    model = Account if ctx.kind == "account" else EndUser
    rows = model.objects.filter(pk=obj.pk)
    out: list[dict] = []
    held = _node(conditions, path="", depth=1, ctx=ctx, rows=rows, out=out)
    note = ""
    if ctx.kind == "user" and obj.created_at is not None and obj.created_at > ctx.as_of:
        held, note = False, "created after as_of: a member of no user segment"
    out.append({"kind": "result", "path": "", "depth": 0, "text": "matches" if held else "does not match",
                "held": held, "note": note})
    return out


def _node(node: dict, *, path: str, depth: int, ctx: Ctx, rows, out: list[dict]) -> bool:
    if "field" in node:
        return _rule(node, path=path, depth=depth, ctx=ctx, rows=rows, out=out)
    row = {"kind": "group", "path": path, "depth": depth, "match": node.get("match", "all"),
           "negate": node.get("negate") is True, "text": _group_text(node), "held": None}
    out.append(row)
    children = [
        _node(child, path=f"{path}.rules[{i}]" if path else f"rules[{i}]", depth=depth + 1, ctx=ctx, rows=rows,
              out=out)
        for i, child in enumerate(node.get("rules", []))
    ]
    held = any(children) if node.get("match") == "any" else all(children)
    row["held"] = (not held) if row["negate"] else held
    return row["held"]


def _group_text(node: dict) -> str:
    text = "any of the following" if node.get("match") == "any" else "all of the following"
    return f"not {text}" if node.get("negate") is True else text


def _rule(rule: dict, *, path: str, depth: int, ctx: Ctx, rows, out: list[dict]) -> bool:
    field_, _params, operand = rule_parts(rule, ctx)
    held = rows.filter(compile_rule(rule, ctx)).exists()
    value = operand.explain_value(rows)
    out.append({
        "kind": "rule", "path": path, "depth": depth, "field": field_.key,
        "text": render_rule(rule, kind=ctx.kind, custom_definitions=ctx.custom.values()),
        "value": value, "display": display_value(value, unit=field_.unit), "held": held,
    })
    return held


def display_value(value: Any, *, unit: str = "") -> str:
    """A field value as a person reads it ("(missing)" for NULL and empty text)."""
    if value is None or value == "":
        return "(missing)"
    if isinstance(value, list):
        return ", ".join(display_value(v, unit=unit) for v in value) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return format_number(value) + unit
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
