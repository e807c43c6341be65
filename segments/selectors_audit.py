"""Data-completeness audit: how often the fields a condition uses have no value.

"Don't build segments on fields with spotty data": for each field a condition
names (with its parameters), the share of accounts (or users) for which the
field has no value. Generated from the registry: "has a value" is the
field's own `is_set` rule, compiled like any condition, so every field the
registry offers (custom attributes, subscription fields, metrics) is
covered, and all fields are counted in one aggregate query.
"""

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils import timezone

from segments.conditions import ValidationContext, compile_conditions, matching_queryset, validate
from segments.registry import Field, registry, sentence_label

MAX_AUDITED_FIELDS = 30
_EVERYTHING = {"match": "all", "rules": []}


@dataclass(frozen=True)
class FieldCompleteness:
    """How many of `total` rows have no value for `field` (with `params`)."""

    field: str
    label: str
    missing: int
    total: int
    params: dict = field(default_factory=dict)
    sentence: str = ""

    @property
    def missing_pct(self) -> float:
        return round(100 * self.missing / self.total, 1) if self.total else 0.0

    def describe(self) -> dict:
        return {"field": self.field, "label": self.label, "params": self.params, "missing": self.missing,
                "total": self.total, "missing_pct": self.missing_pct, "sentence": self.sentence}


def conditions_completeness(*, conditions: Any, kind: str, as_of: dt.datetime | None = None,
                            context: ValidationContext | None = None) -> list[FieldCompleteness]:
    """For each distinct field a condition uses, the rows (accounts or users) where it is missing.

    Rules that do not validate, and `segment` rules (membership is never
    missing), are left out. Two queries beyond `context`: one aggregate.
    """
    as_of = as_of or timezone.now()
    context = context or ValidationContext.load()
    probes = []
    for key, params in _field_uses(conditions):
        resolved = registry.resolve(key, kind=kind, custom=context.custom)
        if resolved is None or resolved.segment_kind:
            continue
        probe = {"match": "all", "rules": [{"field": key, "op": "is_set", **({"params": params} if params else {})}]}
        if validate(probe, kind=kind, context=context):
            continue
        probes.append((key, params, resolved, compile_conditions(probe, kind=kind, as_of=as_of, custom=context.custom)))
        if len(probes) == MAX_AUDITED_FIELDS:
            break
    if not probes:
        return []
    rows = matching_queryset(_EVERYTHING, kind=kind, as_of=as_of, custom=context.custom).order_by()
    counts = rows.aggregate(total=Count("pk"), **{f"set{i}": Count("pk", filter=q) for i, (*_, q) in enumerate(probes)})
    total = counts["total"]
    return [
        FieldCompleteness(field=key, label=resolved.label, params=params, total=total,
                          missing=total - counts[f"set{i}"],
                          sentence=_sentence(resolved, params, total - counts[f"set{i}"], total, kind))
        for i, (key, params, resolved, _) in enumerate(probes)
    ]


def _field_uses(node: Any, depth: int = 1) -> Iterator[tuple[str, dict]]:
    """Distinct (field, params) pairs of the rules, in document order; tolerates any JSON."""
    seen: set[tuple[str, str]] = set()
    for rule in _rules(node, depth):
        key, params = rule.get("field"), rule.get("params") or {}
        if not isinstance(key, str) or not isinstance(params, dict):
            continue
        marker = (key, json.dumps(params, sort_keys=True, default=str))
        if marker not in seen:
            seen.add(marker)
            yield key, params


def _rules(node: Any, depth: int) -> Iterator[dict]:
    if not isinstance(node, dict) or depth > 8:
        return
    if "field" in node:
        yield node
    elif isinstance(node.get("rules"), list):
        for child in node["rules"][:1000]:
            yield from _rules(child, depth + 1)


def _sentence(resolved: Field, params: dict, missing: int, total: int, kind: str) -> str:
    """ "Industry is empty for 38% of accounts" (whole percents; "<1%" for a few)."""
    noun = "accounts" if kind == "account" else "users"
    if not total:
        return f"there are no {noun} yet"
    pct = 100 * missing / total
    shown = "<1" if 0 < pct < 1 else f"{pct:.0f}"
    if resolved.key.startswith(("subscription.", "account.subscription.")):
        return f"{resolved.label} is set on no subscription for {shown}% of {noun}"
    subject = resolved.phrase(params) if resolved.phrase else sentence_label(resolved.label)
    subject = subject[:1].upper() + subject[1:]
    state = "empty" if resolved.type in ("text", "choice") else "missing"
    return f"{subject} is {state} for {shown}% of {noun}"
