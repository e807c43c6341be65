"""Segment definitions as JSON (spec: interchange.md, "Segment definitions").

`definitions_check` validates a whole file before anything is written: shape,
types, duplicate slugs, every condition (a segment may name one defined later
in the same file) and the expected members' external ids.
"""

import re
from dataclasses import dataclass
from typing import Any

from accounts.models import Account, EndUser
from segments.conditions import ValidationContext, validate
from segments.models import Segment, SegmentKind

REQUIRED = ("slug", "name", "conditions")
OPTIONAL = ("kind", "description", "visible", "order", "expect_members", "expect_non_members")
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_SLUG, MAX_NAME = 100, 200


@dataclass(frozen=True)
class Definition:
    """One checked segment definition, ready to be saved."""

    slug: str
    name: str
    kind: str
    conditions: dict
    description: str = ""
    visible: bool = True
    order: int | None = None
    expect_members: tuple[str, ...] = ()
    expect_non_members: tuple[str, ...] = ()


def definition_dump(segment: Segment) -> dict:
    """Return a segment as a definition object (the exported JSON)."""
    return {
        "slug": segment.slug,
        "name": segment.name,
        "kind": segment.kind,
        "description": segment.description,
        "visible": segment.visible,
        "order": segment.order,
        "conditions": segment.conditions,
        "expect_members": list(segment.expect_members),
        "expect_non_members": list(segment.expect_non_members),
    }


def definitions_check(data: Any) -> tuple[list[Definition], list[str]]:
    """Check a parsed JSON document of definitions; return (definitions, errors)."""
    if not isinstance(data, list):
        return [], ["the file must hold a JSON list of segment definitions"]
    errors: list[str] = []
    shaped: list[Definition] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data):
        definition, item_errors = _shape(item, f"[{index}]")
        errors += item_errors
        if definition is None:
            continue
        if definition.slug in seen:
            first = seen[definition.slug]
            errors.append(f'[{index}].slug: "{definition.slug}" appears twice in this file (first at [{first}])')
            continue
        seen[definition.slug] = index
        shaped.append(definition)
    if errors:
        return [], errors
    errors += _conditions_errors(shaped, data)
    errors += _expectation_errors(shaped, data)
    return (shaped, []) if not errors else ([], errors)


def _shape(item: Any, path: str) -> tuple[Definition | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"{path}: each definition must be a JSON object"]
    errors = [f'{path}: unknown key "{key}"' for key in item if key not in REQUIRED + OPTIONAL]
    errors += [f'{path}: "{key}" is required' for key in REQUIRED if key not in item]
    slug, name = item.get("slug"), item.get("name")
    if "slug" in item and not (isinstance(slug, str) and SLUG_RE.match(slug) and len(slug) <= MAX_SLUG):
        errors.append(f"{path}.slug: must be letters, digits, - and _ (at most {MAX_SLUG} characters)")
    if "name" in item and not (isinstance(name, str) and name.strip() and len(name) <= MAX_NAME):
        errors.append(f"{path}.name: must be a non-empty text of at most {MAX_NAME} characters")
    kind = item.get("kind", SegmentKind.ACCOUNT)
    if kind not in SegmentKind.values:
        errors.append(f'{path}.kind: must be "account" or "user"')
    if not isinstance(item.get("description", ""), str):
        errors.append(f"{path}.description: must be text")
    if not isinstance(item.get("visible", True), bool):
        errors.append(f"{path}.visible: must be true or false")
    order = item.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or order < 0):
        errors.append(f"{path}.order: must be a whole number of at least 0")
    for key in ("expect_members", "expect_non_members"):
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(f"{path}.{key}: must be a list of external ids")
    if errors:
        return None, errors
    return (
        Definition(
            slug=slug,
            name=name,
            kind=kind,
            conditions=item["conditions"],
            description=item.get("description", ""),
            visible=item.get("visible", True),
            order=order,
            expect_members=tuple(item.get("expect_members", [])),
            expect_non_members=tuple(item.get("expect_non_members", [])),
        ),
        [],
    )


def _conditions_errors(definitions: list[Definition], data: list) -> list[str]:
    errors = []
    extra = {d.slug: (d.kind, d.conditions) for d in definitions}
    index_of = {item.get("slug"): i for i, item in enumerate(data) if isinstance(item, dict)}
    for definition in definitions:
        context = ValidationContext.load(slug=definition.slug, exclude_slug=definition.slug, extra_segments=extra)
        for error in validate(definition.conditions, kind=definition.kind, context=context):
            where = f"[{index_of[definition.slug]}].conditions"
            errors.append(f"{where}.{error.path}: {error.message}" if error.path else f"{where}: {error.message}")
    return errors


def _expectation_errors(definitions: list[Definition], data: list) -> list[str]:
    index_of = {item.get("slug"): i for i, item in enumerate(data) if isinstance(item, dict)}
    errors = []
    for kind, model in ((SegmentKind.ACCOUNT, Account), (SegmentKind.USER, EndUser)):
        wanted = {ext for d in definitions if d.kind == kind for ext in d.expect_members + d.expect_non_members}
        known = set(model.objects.filter(external_id__in=wanted).values_list("external_id", flat=True))
        for d in definitions:
            if d.kind != kind:
                continue
            for key in ("expect_members", "expect_non_members"):
                errors += [
                    f'[{index_of[d.slug]}].{key}: no {kind} with external_id "{ext}"'
                    for ext in getattr(d, key)
                    if ext not in known
                ]
    return errors

