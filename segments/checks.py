"""System checks of the field registry (like django/contrib/admin/checks.py).

Run at start-up (`manage.py check`, runserver, tests): a broken registry
entry is reported before any condition is compiled with it.
"""

from django.core.checks import Error, register

from segments.registry import (
    GROUPS,
    KEY_RE,
    KINDS,
    OPERATORS,
    PARAM_TYPES,
    PRESENCE_OPERATORS,
    TYPES,
    Field,
    registry,
)

RESERVED_PREFIXES = ("custom.", "account.")


@register("segments")
def check_field_registry(app_configs=None, **kwargs) -> list[Error]:
    """Every registered field is well-formed."""
    errors: list[Error] = []
    for kind in KINDS:
        for field in registry.static_fields(kind):
            errors += field_errors(field, kind=kind)
    return errors


def field_errors(field: Field, *, kind: str) -> list[Error]:
    """The problems of one registry entry (as system check errors)."""
    problems = [(code, text) for code, ok, text in _rules(field) if not ok]
    return [
        Error(f'Field "{field.key}" of {kind} segments: {text}', obj=field.key, id=f"segments.{code}")
        for code, text in problems
    ]


def _rules(field: Field) -> list[tuple[str, bool, str]]:
    allowed = OPERATORS.get(field.value_type, ()) + PRESENCE_OPERATORS
    choice_values = field.choice_values
    param_names = [p.name for p in field.params]
    return [
        ("E001", bool(KEY_RE.match(field.key)), "the key must be lower-case words joined by dots"),
        ("E002", not field.key.startswith(RESERVED_PREFIXES), "custom. and account. keys are derived, not registered"),
        ("E003", bool(field.label.strip()), "the label is empty"),
        ("E004", field.group in GROUPS, f'unknown group "{field.group}"'),
        ("E005", field.type in TYPES, f'unknown type "{field.type}"'),
        ("E006", bool(choice_values) == (field.type == "choice" and not field.segment_kind),
         "choice fields (and only they) list their choices"),
        ("E007", all(v and v == v.lower() for v in choice_values) and len(set(choice_values)) == len(choice_values),
         "choices must be distinct, non-empty and lower-case"),
        ("E008", all(n in PARAM_TYPES for n in param_names) and len(set(param_names)) == len(param_names),
         f"parameters must be distinct names among {', '.join(PARAM_TYPES)}"),
        ("E009", set(field.allowed_operators) <= set(allowed), "an operator is not allowed for the type"),
        ("E010", field.segment_kind in (None, *KINDS) and (not field.segment_kind or field.type == "choice"),
         "segment_kind must be a segment kind, on a choice field"),
        ("E011", callable(field.operand), "operand must be a callable (ctx, params) -> Operand"),
    ]
