"""Writes on segments: validation entry point, refresh, preview (filled by the engine)."""

from django.core.exceptions import ValidationError


def segment_validate(*, segment) -> None:
    """Raise ValidationError with every problem of the segment's conditions."""
    from segments.conditions import ValidationContext, validate

    errors = validate(segment.conditions, kind=segment.kind, context=ValidationContext.load(exclude_slug=segment.slug, slug=segment.slug))
    if errors:
        raise ValidationError({"conditions": [f"{e.path}: {e.message}" if e.path else e.message for e in errors]})
