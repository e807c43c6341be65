"""Admin-specific writes on segments: clone, reorder, show/hide.

Each is a service in the HackSoft sense (keyword-only, one transaction); the
admin's actions and views only call them.
"""

from collections.abc import Iterable, Mapping

from django.db import transaction
from simple_history.utils import bulk_update_with_history

from segments.models import Segment
from segments.selectors import segment_next_order
from segments.services import segment_refresh_enqueue

SLUG_MAX = Segment._meta.get_field("slug").max_length
NAME_MAX = Segment._meta.get_field("name").max_length


def segment_copy_slug(*, slug: str) -> str:
    """A free slug for a copy: "<slug>-copy", then "<slug>-copy-2", ... (within the length limit)."""
    base = f"{slug[: SLUG_MAX - len('-copy-999')]}-copy"
    taken = set(Segment.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


@transaction.atomic
def segment_clone(*, segment: Segment, user) -> Segment:
    """Copy a segment (definition, description, expectations) under a new slug, last in the order.

    The copy's memberships are computed by a refresh queued on commit; the
    change history records the copy as created by `user`.
    """
    name = f"{segment.name} (copy)"
    copy = Segment(
        slug=segment_copy_slug(slug=segment.slug),
        name=name if len(name) <= NAME_MAX else segment.name,
        kind=segment.kind,
        description=segment.description,
        visible=segment.visible,
        order=segment_next_order(),
        conditions=segment.conditions,
        expect_members=list(segment.expect_members),
        expect_non_members=list(segment.expect_non_members),
        created_by=user,
    )
    copy.full_clean()
    copy._history_user = user
    copy.save()
    segment_refresh_enqueue(segment=copy)
    return copy


@transaction.atomic
def segments_reorder(*, positions: Mapping[int, int]) -> int:
    """Move segments to new 1-based positions in the admin order; renumber every segment 1..n.

    `positions` maps segment ids to the position each should take (from the
    changelist's drag and drop). Segments not named keep their relative
    place; at equal positions a moved segment goes first. Renumbering makes
    the order unique even when several segments shared an order value.
    Return how many segments changed order.
    """
    current = list(Segment.objects.select_for_update().order_by("order", "name", "pk"))
    known = {s.pk for s in current}
    unknown = set(positions) - known
    if unknown:
        raise ValueError(f"unknown segment ids: {sorted(unknown)}")

    def key(indexed):
        index, segment = indexed
        moved = segment.pk in positions
        return (positions[segment.pk] if moved else index + 1, 0 if moved else 1, index)

    ordered = [segment for _, segment in sorted(enumerate(current), key=key)]
    changed = []
    for number, segment in enumerate(ordered, start=1):
        if segment.order != number:
            segment.order = number
            changed.append(segment)
    Segment.objects.bulk_update(changed, ["order"])
    return len(changed)


def segments_visible_set(*, segments: Iterable[Segment], visible: bool, user) -> int:
    """Show or hide segments as CSM tabs, recording the change in their history."""
    changed = [s for s in segments if s.visible != visible]
    for segment in changed:
        segment.visible = visible
    if changed:
        bulk_update_with_history(changed, Segment, ["visible"], default_user=user)
    return len(changed)
