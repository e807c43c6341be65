"""Validate health configs and parameters: one place for the admin, loaders and tests.

A parameter's field and params are checked by the condition language's own
validator, on the one-rule condition {"field": key, "params": params, "op":
"is_set"}: the same messages as the segment builder, and no second copy of
the params rules. Then the field must be one a health parameter can use
(numeric, one value per account: health.fields).
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from health.fields import health_field
from health.models import Direction, HealthConfig, HealthParameter
from segments.conditions import ValidationContext, custom_definitions, validate
from segments.registry import CustomDef


def field_params_errors(*, key, params, custom: Mapping[str, CustomDef]) -> dict[str, list[str]]:
    """Problems of a parameter's field and params, by form field ("field" / "params"); {} when valid."""
    rule = {"field": key, "params": params, "op": "is_set"}
    problems = validate({"match": "all", "rules": [rule]}, kind="account", context=ValidationContext(custom=custom))
    errors: dict[str, list[str]] = {}
    for problem in problems:
        path = problem.path.removeprefix("rules[0]").lstrip(".")
        target = "params" if path.startswith("params") else "field"
        errors.setdefault(target, []).append(f"{path}: {problem.message}" if path.startswith("params.") else
                                             problem.message)
    if "field" not in errors and health_field(key, custom=custom) is None:
        errors["field"] = [f'"{key}" is not a numeric field a health parameter can use']
    return errors


def parameter_errors(*, parameter: HealthParameter, custom: Mapping[str, CustomDef] | None = None) -> None:
    """Raise ValidationError with every problem of the parameter."""
    errors = field_params_errors(key=parameter.field, params=parameter.params,
                                 custom=custom_definitions() if custom is None else custom)
    good, poor = parameter.good, parameter.poor
    if good is not None and poor is not None:
        if parameter.direction == Direction.HIGHER and not good > poor:
            errors.setdefault("good", []).append("When higher is better, Good must be above Poor.")
        if parameter.direction == Direction.LOWER and not good < poor:
            errors.setdefault("good", []).append("When lower is better, Good must be below Poor.")
    if parameter.weight is not None and parameter.weight <= 0:
        errors.setdefault("weight", []).append("The weight must be more than 0.")
    if errors:
        raise ValidationError(errors)


def config_errors(*, config: HealthConfig) -> None:
    """Raise ValidationError with every problem of the config itself (not its parameters)."""
    errors: dict[str, list[str]] = {}
    if config.segment_id is not None and config.segment.kind != "account":
        errors["segment"] = ["Health is configured for account segments only."]
    if config.good_cutoff is not None and config.poor_cutoff is not None:
        if not 0 < config.good_cutoff <= 100:
            errors.setdefault("good_cutoff", []).append("The Good cut-off must be from 1 to 100.")
        if not config.poor_cutoff < config.good_cutoff:
            errors.setdefault("poor_cutoff", []).append("The Poor cut-off must be below the Good cut-off.")
    if errors:
        raise ValidationError(errors)
