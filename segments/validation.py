"""Validate condition documents: every problem at once, with a path and a sentence.

Accepts any JSON whatsoever and never raises for bad input: groups nested
deeper than the limit are reported and not descended, long lists are
reported and not read, and values are only inspected one level deep (a
value is never printed whole, so a pathological document cannot blow up
a message either).
"""

import contextlib
import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from segments.registry import (
    MAX_DAYS,
    NO_VALUE_OPERATORS,
    ROLE_CHOICES,
    TOUCHPOINT_CHOICES,
    CustomDef,
    Field,
    registry,
)

MAX_DEPTH = 6
MAX_RULES = 200
MAX_LIST = 1000
MAX_ERRORS = 500
MAX_FEATURE = 100
GROUP_KEYS = ("match", "negate", "rules")
RULE_KEYS = ("field", "op", "value", "params")
PERIODS = ("week", "month", "quarter", "year")
SEGMENT_FIELDS = ("segment", "account.segment")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ConditionError:
    """One problem: where (`rules[1].params.days`, "" for the top level) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class ValidationContext:
    """What validation needs from the database, loaded once.

    `custom`: custom attribute definitions by key. `usernames`: every staff
    username. `segments`: slug -> (kind, slugs its conditions name).
    `slug`: the segment being validated (for cycle detection), if any.
    """

    custom: dict[str, CustomDef] = field(default_factory=dict)
    usernames: frozenset[str] = frozenset()
    segments: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    slug: str | None = None

    @classmethod
    def load(cls, *, slug: str | None = None, exclude_slug: str | None = None,
             extra_segments: Mapping[str, tuple[str, Any]] | None = None) -> "ValidationContext":
        """Load definitions, usernames and segments (three queries).

        `slug`: the slug of the segment being validated (its own stored
        conditions are replaced by the ones being validated). `exclude_slug`:
        a stored segment to leave out (being replaced or renamed).
        `extra_segments`: {slug: (kind, conditions)} not saved yet (a file of
        definitions naming each other); they override stored segments.
        """
        from django.contrib.auth import get_user_model

        from accounts.models import CustomAttributeDefinition
        from segments.models import Segment

        custom = {d.key: CustomDef(d.key, d.type, tuple(d.choices or ()), d.label)
                  for d in CustomAttributeDefinition.objects.all()}
        usernames = frozenset(get_user_model().objects.values_list("username", flat=True))
        segments = {s: (k, frozenset(referenced_segments(c)))
                    for s, k, c in Segment.objects.values_list("slug", "kind", "conditions") if s != exclude_slug}
        for extra_slug, (kind, conditions) in (extra_segments or {}).items():
            segments[extra_slug] = (kind, frozenset(referenced_segments(conditions)))
        return cls(custom=custom, usernames=usernames, segments=segments, slug=slug)


def referenced_segments(conditions: Any) -> set[str]:
    """Slugs named by `segment` and `account.segment` rules (any kind; slugs are unique).

    Tolerates any JSON. The refresh orders segments after the ones they name.
    """
    found: set[str] = set()
    for rule in _rules(conditions, depth=1):
        if rule.get("field") in SEGMENT_FIELDS and isinstance(rule.get("value"), list):
            found.update(v for v in rule["value"][:MAX_LIST] if isinstance(v, str))
    return found


def _rules(node: Any, depth: int) -> Iterator[dict]:
    if not isinstance(node, dict) or depth > MAX_DEPTH + 1:
        return
    if "field" in node:
        yield node
        return
    children = node.get("rules")
    if isinstance(children, list):
        for child in children[:MAX_LIST]:
            yield from _rules(child, depth + 1)


def validate(conditions: Any, *, kind: str, context: ValidationContext) -> list[ConditionError]:
    """Every problem of `conditions` for a `kind` segment ([] when valid)."""
    validator = _Validator(kind=kind, context=context, conditions=conditions)
    return validator.run()


def rule_problems(rule: Any, *, kind: str, custom: Mapping[str, CustomDef]) -> list[ConditionError]:
    """The problems of one rule that need no database: shapes, types, choices, params.

    Usernames and segment slugs are only checked to be strings. The compiler
    runs this on every rule, so a stale condition (a custom attribute whose
    type changed) fails with a clear message instead of odd SQL.
    """
    validator = _Validator(kind=kind, context=ValidationContext(custom=dict(custom)), conditions=None,
                           references=False)
    with contextlib.suppress(_TooMany):
        validator.node(rule, "", depth=2)
    return validator.errors


class _TooMany(Exception):
    pass


def show(value: Any) -> str:
    """A short, safe rendering of a JSON value for a message."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else "a very large number"
    if isinstance(value, float):
        return repr(value)
    return "a list" if isinstance(value, list) else "an object"


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), "something else")


def is_number(value: Any) -> bool:
    """A JSON number: not a boolean, not NaN or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def is_whole_days(value: Any) -> bool:
    """A whole number of days from 0 to 36500 (30.0 counts as whole)."""
    if not is_number(value) or not 0 <= value <= MAX_DAYS:
        return False
    return float(value).is_integer()


def is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _join(path: str, part: str) -> str:
    if part.startswith("["):
        return path + part
    return f"{path}.{part}" if path else part


def _names(values) -> str:
    return ", ".join(values)


class _Validator:
    """One validation run: walks the document and collects errors."""

    def __init__(self, *, kind: str, context: ValidationContext, conditions: Any, references: bool = True):
        self.references = references
        self.kind = kind
        self.context = context
        self.conditions = conditions
        self.errors: list[ConditionError] = []
        self.leaves = 0

    def error(self, path: str, message: str) -> None:
        if len(self.errors) >= MAX_ERRORS:
            raise _TooMany
        self.errors.append(ConditionError(path, message))

    def run(self) -> list[ConditionError]:
        if self.kind not in ("account", "user"):
            return [ConditionError("", f'unknown segment kind {show(self.kind)}; use "account" or "user"')]
        try:
            if not isinstance(self.conditions, dict):
                self.error("", f'conditions must be a group: {{"match": "all", "rules": [...]}}, not '
                               f"{kind_of(self.conditions)}")
            else:
                self.group(self.conditions, "", depth=1)
            if self.leaves > MAX_RULES:
                self.error("", f"a condition can hold at most {MAX_RULES} rules ({self.leaves} given)")
        except _TooMany:
            self.errors.append(ConditionError("", f"too many problems: only the first {MAX_ERRORS} are listed"))
        return self.errors

    def unknown_keys(self, node: dict, allowed: tuple[str, ...], path: str, what: str) -> None:
        unknown = [k for k in node if k not in allowed]
        if not unknown:
            return
        shown = ", ".join(show(k) if isinstance(k, str) else show(str(k)) for k in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        keys = "key" if len(unknown) == 1 else "keys"
        self.error(path, f"unknown {keys} {shown}{more}; a {what} has only "
                         f"{_names(json.dumps(k) for k in allowed)}")

    def list_ok(self, value: Any, path: str, what: str) -> bool:
        if not isinstance(value, list):
            self.error(path, f"must be {what}, not {kind_of(value)}")
            return False
        if len(value) > MAX_LIST:
            self.error(path, f"a list can hold at most {MAX_LIST} items ({len(value)} given)")
            return False
        return True

    # Structure ------------------------------------------------------------------

    def node(self, node: Any, path: str, depth: int) -> None:
        if not isinstance(node, dict):
            self.error(path, f"must be a rule or a group (an object), not {kind_of(node)}")
        elif any(k in node for k in RULE_KEYS) and not any(k in node for k in ("match", "rules")):
            self.rule(node, path)
        elif any(k in node for k in GROUP_KEYS):
            self.group(node, path, depth)
        else:
            self.error(path, 'must be a rule (with "field" and "op") or a group (with "match" and "rules")')

    def group(self, node: dict, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.error(path, f"groups can be nested at most {MAX_DEPTH} deep")
            return
        self.unknown_keys(node, GROUP_KEYS, path, "group")
        if "match" not in node:
            self.error(path, 'missing "match": "all" or "any"')
        elif node["match"] not in ("all", "any") or not isinstance(node["match"], str):
            self.error(_join(path, "match"), f'must be "all" or "any", not {show(node["match"])}')
        if "negate" in node and not isinstance(node["negate"], bool):
            self.error(_join(path, "negate"), f"must be true or false, not {show(node['negate'])}")
        if "rules" not in node:
            self.error(path, 'missing "rules": a list of rules and groups')
        elif self.list_ok(node["rules"], _join(path, "rules"), "a list of rules and groups"):
            for index, child in enumerate(node["rules"]):
                self.node(child, _join(path, f"rules[{index}]"), depth + 1)

    def rule(self, node: dict, path: str) -> None:
        self.leaves += 1
        self.unknown_keys(node, RULE_KEYS, path, "rule")
        field_ = self.field(node, path)
        if field_ is None:
            return
        self.params(field_, node, path)
        op = node.get("op")
        if "op" not in node:
            self.error(path, f'missing "op": one of {_names(field_.allowed_operators)}')
            return
        if not isinstance(op, str) or op not in field_.allowed_operators:
            self.error(_join(path, "op"), f"operator {show(op)} is not allowed for {show(field_.key)} "
                                          f"({field_.type}); use one of {_names(field_.allowed_operators)}")
            return
        self.value(field_, op, node, path)

    def field(self, node: dict, path: str) -> Field | None:
        key = node.get("field")
        if "field" not in node:
            self.error(path, 'missing "field": the key of a field')
            return None
        if not isinstance(key, str):
            self.error(_join(path, "field"), f"must be a field key (a string), not {kind_of(key)}")
            return None
        field_ = registry.resolve(key, kind=self.kind, custom=self.context.custom)
        if field_ is not None:
            return field_
        custom_key = key.removeprefix("account.") if self.kind == "user" else key
        if custom_key.startswith("custom.") and (self.kind == "account" or key.startswith("account.")):
            self.error(_join(path, "field"), f"unknown custom attribute {show(custom_key[len('custom.'):])}")
        else:
            self.error(_join(path, "field"), f"unknown field {show(key)} for {self.kind} segments")
        return None

    # Parameters -------------------------------------------------------------------

    def params(self, field_: Field, node: dict, path: str) -> None:
        path = _join(path, "params")
        given = node.get("params", {})
        if not isinstance(given, dict):
            self.error(path, f"must be an object of parameters, not {kind_of(given)}")
            given = {}
        names = [p.name for p in field_.params]
        unknown = [k for k in given if k not in names]
        if unknown:
            takes = f"it takes {_names(json.dumps(n) for n in names)}" if names else "it takes none"
            shown = ", ".join(show(str(k)) for k in unknown[:10])
            self.error(path, f"unknown parameter {shown} for {show(field_.key)}; {takes}")
        for param in field_.params:
            if param.name in given:
                problem = _param_problem(param.name, given[param.name])
                if problem:
                    self.error(_join(path, param.name), problem)
            elif not param.optional:
                self.error(_join(path, param.name), f'missing: {show(field_.key)} needs "{param.name}" '
                                                     f"({_PARAM_HINTS[param.name]})")

    # Values -------------------------------------------------------------------------

    def value(self, field_: Field, op: str, node: dict, path: str) -> None:
        vpath = _join(path, "value")
        if op in NO_VALUE_OPERATORS:
            if "value" in node:
                self.error(vpath, f'"{op}" takes no value')
            return
        if "value" not in node:
            self.error(path, f'missing "value": "{op}" needs one')
            return
        value = node["value"]
        if field_.segment_kind:
            self.segments(field_, value, vpath)
        else:
            _VALUE_CHECKS[field_.value_type](self, field_, op, value, vpath)

    def number(self, field_: Field, op: str, value: Any, path: str) -> None:
        if op in ("in", "not_in"):
            self.each(value, path, lambda v: None if is_number(v) else _number_problem(v, "must be a number"))
        elif op == "between":
            self.pair(value, path, is_number, "numbers", lambda v: v)
        elif not is_number(value):
            self.error(path, _number_problem(value, f'"{op}" needs a number'))

    def text(self, field_: Field, op: str, value: Any, path: str) -> None:
        if op in ("in", "not_in"):
            self.each(value, path, _text_problem)
        elif not isinstance(value, str):
            self.error(path, f'"{op}" needs a string, not {kind_of(value)} ({show(value)})')
        elif value == "":
            self.error(path, 'must not be empty; use "is_set" or "is_not_set" to test for a missing value')
        elif _text_problem(value):
            self.error(path, _text_problem(value))

    def choice(self, field_: Field, op: str, value: Any, path: str) -> None:
        def problem(v):
            if isinstance(v, str) and v in field_.choice_values:
                return None
            return f"unknown choice {show(v)} for {show(field_.key)}; use one of {_names(field_.choice_values)}"

        if op in ("in", "not_in"):
            self.each(value, path, problem)
        elif problem(value):
            self.error(path, problem(value))

    def user(self, field_: Field, op: str, value: Any, path: str) -> None:
        def problem(v):
            if not isinstance(v, str):
                return f"must be a username (a string), not {kind_of(v)}"
            if not self.references or v in self.context.usernames:
                return None
            return f"unknown username {show(v)}"

        if op in ("in", "not_in"):
            self.each(value, path, problem)
        elif problem(value):
            self.error(path, problem(value))

    def boolean(self, field_: Field, op: str, value: Any, path: str) -> None:  # pragma: no cover - no value ops
        return

    def date(self, field_: Field, op: str, value: Any, path: str) -> None:
        if op in ("in_last_days", "in_next_days", "more_than_days_ago", "more_than_days_ahead"):
            if not is_whole_days(value):
                self.error(path, f"the number of days must be a whole number from 0 to {MAX_DAYS}, not {show(value)}")
        elif op == "in_current":
            if value not in PERIODS or not isinstance(value, str):
                self.error(path, f'must be one of {_names(PERIODS)}, not {show(value)}')
        elif op == "between":
            self.pair(value, path, is_date, "dates (YYYY-MM-DD)", dt.date.fromisoformat)
        elif not is_date(value):
            self.error(path, f"must be a date written YYYY-MM-DD, not {show(value)}")

    def each(self, value: Any, path: str, problem) -> None:
        if not self.list_ok(value, path, "a list"):
            return
        for index, item in enumerate(value):
            message = problem(item)
            if message:
                self.error(f"{path}[{index}]", message)

    def pair(self, value: Any, path: str, valid, what: str, key) -> None:
        if not isinstance(value, list) or len(value) != 2:
            self.error(path, f"between needs a list of two {what} [low, high], not {show(value)}")
            return
        bad = [i for i, v in enumerate(value) if not valid(v)]
        for index in bad:
            self.error(f"{path}[{index}]", f"must be one of two {what}, not {show(value[index])}")
        if not bad and _ordered_key(key(value[0])) > _ordered_key(key(value[1])):
            self.error(path, f"the low end {show(value[0])} is above the high end {show(value[1])}")

    # Segments -------------------------------------------------------------------------

    def segments(self, field_: Field, value: Any, path: str) -> None:
        if not self.list_ok(value, path, "a list"):
            return
        graph = dict(self.context.segments)
        own = self.context.slug
        if own:
            graph[own] = (self.kind, frozenset(referenced_segments(self.conditions)))
        for index, slug in enumerate(value):
            if not self.references:
                message = None if isinstance(slug, str) else f"must be a segment slug (a string), not {kind_of(slug)}"
            else:
                message = _segment_problem(slug, field_.segment_kind, graph, own)
            if message:
                self.error(f"{path}[{index}]", message)


def _ordered_key(value):
    from segments.compiler import to_decimal

    return to_decimal(value) if isinstance(value, int | float) else value


def _number_problem(value: Any, start: str) -> str:
    if isinstance(value, float):
        return f"{start}, not {show(value)} (only finite numbers)"
    return f"{start}, not {kind_of(value)} ({show(value)})"


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {kind_of(value)}"
    if "\x00" in value:
        return "must not contain the NUL character"
    return None


_PARAM_HINTS = {
    "days": f"a whole number of days from 0 to {MAX_DAYS}",
    "role": "one of " + _names(v for v, _ in ROLE_CHOICES),
    "kind": "one of " + _names(v for v, _ in TOUCHPOINT_CHOICES),
    "feature": f'an event name of at most {MAX_FEATURE} characters other than "login"',
}


def _param_problem(name: str, value: Any) -> str | None:
    if name == "days":
        ok = is_whole_days(value)
    elif name == "role":
        ok = isinstance(value, str) and value in dict(ROLE_CHOICES)
    elif name == "kind":
        ok = isinstance(value, str) and value in dict(TOUCHPOINT_CHOICES)
    else:
        ok = isinstance(value, str) and 0 < len(value) <= MAX_FEATURE and value != "login" and "\x00" not in value
    return None if ok else f'"{name}" must be {_PARAM_HINTS[name]}, not {show(value)}'


def _segment_problem(slug: Any, kind: str, graph: dict, own: str | None) -> str | None:
    if not isinstance(slug, str):
        return f"must be a segment slug (a string), not {kind_of(slug)}"
    if slug not in graph:
        return f"unknown segment {show(slug)}"
    if graph[slug][0] != kind:
        other = graph[slug][0]
        return f"segment {show(slug)} is {'an' if other == 'account' else 'a'} {other} segment; only {kind} " \
               "segments can be named here"
    if own is None:
        return None
    if slug == own:
        return "a segment cannot name itself"
    cycle = _cycle(slug, own, graph)
    if cycle:
        return "segment cycle: " + " names ".join(show(s) for s in [own, *cycle])
    return None


def _cycle(start: str, target: str, graph: dict) -> list[str] | None:
    """A path start -> ... -> target through the segments' references, if any."""
    seen = {start}
    stack = [(start, [start])]
    while stack:
        slug, route = stack.pop()
        for following in sorted(graph.get(slug, ("", frozenset()))[1]):
            if following == target:
                return [*route, target]
            if following not in seen:
                seen.add(following)
                stack.append((following, [*route, following]))
    return None


_VALUE_CHECKS = {
    "number": _Validator.number,
    "text": _Validator.text,
    "choice": _Validator.choice,
    "user": _Validator.user,
    "boolean": _Validator.boolean,
    "date": _Validator.date,
}
