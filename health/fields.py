"""Which registry fields a health parameter may use, and their value as one SQL expression.

The condition compiler only needs predicates (`days_since_last_activity gt
30`); a health parameter needs the number itself, on Account rows, as of
`as_of`. The field's operand (`Field.operand(ctx, params)`) gives it
(`Operand.value_expression`): an expression operand directly (stored
fields, custom number attributes, counts, license utilisation); a grouped
operand (`inactive_users_pct`, `usage_change_pct`) correlated to the
account; the "days since" metrics, which the compiler turns into range
tests, as whole days since the latest row (the same floor as the spec's
"Time"). A test checks every field's values against the condition
language; an operand without a value is a field not offered.

Excluded (decisions-health.md): `subscription.*` (one value per
subscription, not per account), `mrr_rank` (a rank over all accounts per
row would be quadratic) and `health_score` (a score of the score).
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Expression, FloatField
from django.db.models.functions import Cast

from segments.compiler import make_ctx
from segments.registry import CustomDef, Field, registry

EXCLUDED_KEYS = frozenset({"health_score", "mrr_rank"})
EXCLUDED_GROUPS = frozenset({"Subscription"})
_SAMPLE_AS_OF = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def field_is_numeric(field_: Field) -> bool:
    return field_.value_type == "number" and not field_.segment_kind


def field_supported(field_: Field) -> bool:
    """True when a health parameter may use the field: numeric, one value per account."""
    if not field_is_numeric(field_) or field_.key in EXCLUDED_KEYS or field_.group in EXCLUDED_GROUPS:
        return False
    sample = {p.name: 30 for p in field_.params if p.name == "days"}
    operand = field_.operand(make_ctx(kind="account", as_of=_SAMPLE_AS_OF, custom={}), sample)
    return operand.value_expression() is not None


def health_fields(*, custom: Iterable[CustomDef] = ()) -> list[Field]:
    """The fields a health parameter may use, in the registry's builder order."""
    return [f for f in registry.fields_for("account", custom_definitions=custom) if field_supported(f)]


def health_field(key: Any, *, custom: Mapping[str, CustomDef]) -> Field | None:
    """The field `key` names if a health parameter may use it, else None."""
    field_ = registry.resolve(key, kind="account", custom=custom)
    return field_ if field_ is not None and field_supported(field_) else None


def field_value_expression(*, key: str, params: Mapping[str, Any], as_of: dt.datetime,
                           custom: Mapping[str, CustomDef]) -> Expression:
    """The field's value on Account rows as of `as_of`, as a double (NULL when missing).

    `key` and `params` must be valid (health.validation); raises ValueError otherwise.
    """
    field_ = health_field(key, custom=custom)
    if field_ is None:
        raise ValueError(f"{key!r} is not a numeric field a health parameter can use")
    params = dict(params or {})
    if "days" in params:
        params["days"] = int(params["days"])
    operand = field_.operand(make_ctx(kind="account", as_of=as_of, custom=custom), params)
    expression = operand.value_expression()
    if expression is None:  # pragma: no cover - field_supported said otherwise
        raise ValueError(f"{key!r} has no value expression")
    return Cast(expression, FloatField())

