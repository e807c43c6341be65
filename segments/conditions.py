"""The condition language of csbox: validate, compile, render and explain.

Contract: /work/shared/spec/conditions.md. This module is the public face;
the work is done by segments.validation (errors with paths),
segments.compiler (Q objects), segments.english (sentences),
segments.explain (one object, rule by rule) and segments.registry (the
fields and how each becomes SQL).

SECURITY INVARIANT: keys and values of a condition document never become
ORM keyword names, lookups, aliases, column names, SQL text or order_by
arguments. A `field` is only ever used as a key into the registry (an
allow-list); operators are keys into fixed tables; values and parameters
reach the database only as query parameters of expressions built here.
Custom attribute keys reach SQL as parameters of a JSON path, and only
keys that exist in CustomAttributeDefinition (validated format) resolve.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q, QuerySet

from segments.compiler import ConditionsInvalid, Ctx, compile_q, make_ctx
from segments.english import render_english as _render_english
from segments.explain import explain_rows
from segments.registry import CustomDef
from segments.validation import ConditionError, ValidationContext, referenced_segments, validate

__all__ = [
    "ConditionError",
    "ConditionsInvalid",
    "ValidationContext",
    "compile_conditions",
    "custom_definitions",
    "explain",
    "field_catalog",
    "matching_queryset",
    "referenced_segments",
    "render_english",
    "validate",
]


def custom_definitions() -> dict[str, CustomDef]:
    """The custom attribute definitions, as the language needs them (one query)."""
    from accounts.models import CustomAttributeDefinition

    return {
        d.key: CustomDef(d.key, d.type, tuple(d.choices or ()), d.label)
        for d in CustomAttributeDefinition.objects.all()
    }


def field_catalog(kind: str, *, custom: Mapping[str, CustomDef] | None = None) -> list[dict]:
    """Every field of a `kind` segment as JSON-ready dicts (the builder, the API, the audit)."""
    from segments.registry import registry

    if custom is None:
        custom = custom_definitions()
    return [field.describe() for field in registry.fields_for(kind, custom_definitions=custom.values())]


def compile_conditions(conditions: Any, *, kind: str, as_of: dt.datetime,
                       custom: Mapping[str, CustomDef], metrics: Any = None) -> Q:
    """The Q of (valid) conditions on Account or EndUser rows; pure, no queries.

    `metrics`: a full refresh's MetricSource (segments.shared_metrics), or None.
    """
    return compile_q(conditions, make_ctx(kind=kind, as_of=as_of, custom=custom, metrics=metrics))


def matching_queryset(conditions: Any, *, kind: str, as_of: dt.datetime,
                      custom: Mapping[str, CustomDef] | None = None, metrics: Any = None) -> QuerySet:
    """Accounts (kind "account") or end users (kind "user") matching `conditions` as of `as_of`.

    The conditions must be valid (run `validate` first): anything that
    cannot be compiled raises ConditionsInvalid. Evaluated entirely in the
    database when the queryset is. End users created after as_of are
    members of no user segment. `custom` (definitions) is loaded when omitted.
    `metrics`: a full refresh's MetricSource (same result, shared aggregates).
    """
    from accounts.models import Account, EndUser

    if custom is None:
        custom = custom_definitions()
    q = compile_conditions(conditions, kind=kind, as_of=as_of, custom=custom, metrics=metrics)
    if kind == "account":
        return Account.objects.filter(q)
    existing = Q(created_at__isnull=True) | Q(created_at__lte=as_of)
    return EndUser.objects.filter(existing).filter(q)


def render_english(conditions: Any, *, kind: str, custom: Iterable[CustomDef] | Mapping | None = None) -> str:
    """The condition as a sentence ("MRR is more than 5,000 and ..."); pure.

    `custom`: definitions (for custom attribute labels); keys are shown without them.
    """
    if isinstance(custom, Mapping):
        custom = custom.values()
    return _render_english(conditions, kind=kind, custom_definitions=custom)


def explain(conditions: Any, *, kind: str, obj, as_of: dt.datetime,
            custom: Mapping[str, CustomDef] | None = None) -> list[dict]:
    """Why (valid) conditions match one account or end user, or not, as of as_of.

    One dict per group and rule in document order (pre-order): `kind`
    ("group" / "rule"), `path` (as in validation errors), `depth` (top group
    1), `text` (plain English), for rules `field`, `value` (the object's
    value as of as_of: a number, text, date, list for subscription.* and
    segment...) and `display` (that value for people); `held`. The last
    dict has kind "result": `held` is the overall result.
    """
    if custom is None:
        custom = custom_definitions()
    ctx: Ctx = make_ctx(kind=kind, as_of=as_of, custom=custom)
    if not isinstance(conditions, dict) or "rules" not in conditions:
        raise ConditionsInvalid("conditions must be a group")
    return explain_rows(conditions, ctx=ctx, obj=obj)
