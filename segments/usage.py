"""What uses a segment: other segments, and whatever higher apps register.

The segments app cannot import health or playbooks (DESIGN.md, "Direction of
imports"), so they register a provider here from their `AppConfig.ready()`:

    from segments.usage import usage_provider_register
    usage_provider_register(health_configs_using_segments)

A provider takes a collection of segment ids and returns
{segment_id: [label, ...]} for the ids it knows a use of, in a constant
number of queries (the changelist calls every provider once per page).
"""

from collections.abc import Callable, Collection, Mapping

from segments.conditions import referenced_segments
from segments.models import Segment

UsageProvider = Callable[[Collection[int]], Mapping[int, list[str]]]

USAGE_PROVIDERS: list[UsageProvider] = []


def usage_provider_register(provider: UsageProvider) -> UsageProvider:
    """Add a provider once (ready() may run more than once in tests)."""
    if provider not in USAGE_PROVIDERS:
        USAGE_PROVIDERS.append(provider)
    return provider


def segments_naming(segment_ids: Collection[int]) -> dict[int, list[str]]:
    """For each segment id, the other segments whose conditions name it (one query)."""
    rows = list(Segment.objects.order_by("order", "name").values_list("pk", "slug", "name", "conditions"))
    slug_to_id = {slug: pk for pk, slug, _, _ in rows if pk in set(segment_ids)}
    found: dict[int, list[str]] = {}
    for pk, _, name, conditions in rows:
        for slug in referenced_segments(conditions) & slug_to_id.keys():
            if slug_to_id[slug] != pk:
                found.setdefault(slug_to_id[slug], []).append(f"Segment: {name}")
    return found


def segment_usage(*, segment_ids: Collection[int]) -> dict[int, list[str]]:
    """Every known use of each segment, as labels ("Segment: Enterprise", "Alert: Churn risk")."""
    ids = list(segment_ids)
    usage: dict[int, list[str]] = {pk: [] for pk in ids}
    if not ids:
        return usage
    for provider in (segments_naming, *USAGE_PROVIDERS):
        for pk, labels in provider(ids).items():
            if pk in usage:
                usage[pk].extend(labels)
    return usage
