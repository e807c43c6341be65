"""Writes the CSM pages make: note that a segment was viewed; save filters as a draft segment.

Also the nightly step that fills the shared cache with the segment pages' insights.
"""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.custom_attributes import number_to_json
from accounts.filtersets import CUSTOM_PREFIX
from segments import insights
from segments.models import Segment, SegmentKind
from segments.services import segment_refresh_enqueue, segment_validate

# A page view is recorded at most once an hour per segment: the hygiene rule
# ("unviewed for 90 days") needs days, not every request writing a row.
VIEW_RESOLUTION = dt.timedelta(hours=1)


def segment_mark_viewed(*, segment: Segment, now: dt.datetime | None = None) -> None:
    """Record that someone opened the segment's page (one UPDATE, no history entry)."""
    now = now or timezone.now()
    Segment.objects.filter(pk=segment.pk).filter(
        models.Q(last_viewed_at__isnull=True) | models.Q(last_viewed_at__lt=now - VIEW_RESOLUTION)
    ).update(last_viewed_at=now)


def segment_insights_warm(*, as_of: dt.datetime | None = None) -> dict:
    """The nightly step (after the refresh and health): cache every visible segment's insights.

    And the migration page's default matrix: the first view of these pages
    after the night is then a cache hit in any web process. A fixed number
    of queries per segment, none per member.
    """
    as_of = as_of or timezone.now()
    segments = list(Segment.objects.order_by("kind", "order", "name"))
    for segment in segments:
        if segment.visible:
            insights.segment_heavy_insights(segment=segment, as_of=as_of, recompute=True)
    # And the migration page's default view (the matrix is cached per refresh of its segments).
    accounts = [s for s in segments if s.kind == SegmentKind.ACCOUNT]
    chosen = insights.migration_default_segments(accounts)
    if chosen:
        date_from, date_to = insights.migration_days(today=timezone.now().date())
        insights.migration_matrix(segments=chosen, date_from=date_from, date_to=date_to)
    return {"segments": sum(s.visible for s in segments), "migration_segments": len(chosen)}


def segment_insights_warm_one(*, segment_id: int) -> bool:
    """Cache one visible segment's insights as its page shows them now (after a refresh during the day).

    Returns whether anything was computed (hidden or deleted segments are not warmed).
    """
    segment = Segment.objects.filter(pk=segment_id, visible=True).first()
    if segment is None:
        return False
    insights.segment_heavy_insights(segment=segment, as_of=timezone.now(), recompute=True)
    return True


def _number(value: Decimal | int | float) -> int | float:
    return number_to_json(Decimal(str(value)))


def _rule(field: str, op: str, value: Any = None) -> dict:
    return {"field": field, "op": op, "value": value}


def conditions_from_filters(*, filters: Mapping[str, Any], segment: Segment | None = None) -> dict:
    """Turn the cleaned data of AccountFilterSet (and the current tab) into a condition document.

    Each filter becomes the registry field with the same meaning (search:
    name, domain or external ID contains the text; renewal within N days:
    renewal date in the next N days). Empty filters are left out.
    """
    rules: list[dict] = []
    search = (filters.get("q") or "").strip()
    if search:
        rules.append({"match": "any", "rules": [_rule(f, "contains", search) for f in ("name", "domain",
                                                                                       "external_id")]})
    for name in ("plan", "lifecycle_stage", "health_label"):
        if filters.get(name):
            rules.append(_rule(name, "in", sorted(filters[name])))
    if filters.get("csm"):
        rules.append(_rule("csm", "eq", filters["csm"]))
    if filters.get("team"):
        rules.append(_rule("team", "eq", str(filters["team"])))
    for name in ("region", "industry"):
        if filters.get(name):
            rules.append(_rule(name, "eq", filters[name]))
    if filters.get("mrr_min") is not None:
        rules.append(_rule("mrr", "gte", _number(filters["mrr_min"])))
    if filters.get("mrr_max") is not None:
        rules.append(_rule("mrr", "lte", _number(filters["mrr_max"])))
    if filters.get("renewal_within_days") is not None:
        rules.append(_rule("renewal_date", "in_next_days", int(filters["renewal_within_days"])))
    for name, values in sorted(filters.items()):
        if name.startswith(CUSTOM_PREFIX) and values:
            rules.append(_rule(name, "in", sorted(values)))
    if segment is not None:
        rules.append(_rule("segment", "in", [segment.slug]))
    return {"match": "all", "rules": rules}


def _unique_slug(name: str) -> str:
    base = (slugify(name) or "draft")[:90]
    taken = set(Segment.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


@transaction.atomic
def segment_draft_create(*, name: str, conditions: dict, user, description: str = "") -> Segment:
    """Create a hidden account segment (a draft for ops to finish in the admin) and queue its refresh.

    Raises ValidationError (with every problem) when the conditions are invalid.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the segment a name."]})
    last = Segment.objects.aggregate(m=models.Max("order"))["m"]
    segment = Segment(
        slug=_unique_slug(name), name=name[:200], kind=SegmentKind.ACCOUNT, description=description,
        visible=False, order=(last or 0) + 1, conditions=conditions, created_by=user,
    )
    segment_validate(segment=segment)
    segment.save()
    segment_refresh_enqueue(segment=segment)
    return segment
