"""Custom attribute values: how each type is stored in `Account.custom` and checked.

Storage (JSON): text -> string, number -> JSON number (int when whole, else
float), date -> "YYYY-MM-DD", boolean -> true/false, choice -> lower-case
string. A missing value is simply an absent key.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
TYPES = ("text", "number", "date", "boolean", "choice")


def definition_errors(*, key: str, type_: str, choices: Any) -> dict[str, str]:
    """Return field -> message for an invalid custom attribute definition."""
    errors: dict[str, str] = {}
    if not KEY_RE.match(key or ""):
        errors["key"] = "Use lower-case letters, digits and _, starting with a letter."
    if type_ not in TYPES:
        errors["type"] = f'Unknown type "{type_}"; use one of {", ".join(TYPES)}.'
    if not isinstance(choices, list) or not all(isinstance(c, str) and c for c in choices):
        errors["choices"] = "Choices must be a list of non-empty strings."
    elif type_ == "choice" and not choices:
        errors["choices"] = "A choice attribute needs at least one choice."
    elif type_ == "choice" and any(c != c.strip().lower() for c in choices):
        errors["choices"] = "Choices are stored trimmed and lower-case."
    elif type_ != "choice" and choices:
        errors["choices"] = "Only choice attributes have choices."
    return errors


def value_error(*, type_: str, choices: Iterable[str], value: Any) -> str | None:
    """Return why a stored JSON value is not valid for the type, or None."""
    if type_ == "text":
        ok = isinstance(value, str)
    elif type_ == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif type_ == "boolean":
        ok = isinstance(value, bool)
    elif type_ == "date":
        ok = isinstance(value, str) and _is_iso_date(value)
    elif type_ == "choice":
        allowed = list(choices)
        if isinstance(value, str) and value in allowed:
            return None
        return f'"{value}" is not one of {", ".join(allowed)}'
    else:
        return f'unknown type "{type_}"'
    return None if ok else f"{value!r} is not a valid {type_}"


def _is_iso_date(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def custom_value_errors(values: Any, definitions: Mapping[str, Any] | None = None) -> list[str]:
    """Validate an account's `custom` dict against the definitions.

    `definitions` maps key -> CustomAttributeDefinition; loaded when omitted.
    """
    if not isinstance(values, dict):
        return ["Custom attributes must be an object of key -> value."]
    if definitions is None:
        from accounts.models import CustomAttributeDefinition

        definitions = {d.key: d for d in CustomAttributeDefinition.objects.all()}
    errors = []
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            errors.append(f'unknown custom attribute "{key}"')
            continue
        problem = value_error(type_=definition.type, choices=definition.choices, value=value)
        if problem:
            errors.append(f"{key}: {problem}")
    return errors


def number_to_json(value: Decimal) -> int | float:
    """Store a decimal as a JSON number: an int when whole, else a float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
