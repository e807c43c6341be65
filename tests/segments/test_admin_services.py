"""Admin services: copy slugs, clone, reorder, show/hide."""

import pytest
from django.core.exceptions import ValidationError

from segments.admin_services import segment_clone, segment_copy_slug, segments_reorder, segments_visible_set
from segments.models import Segment
from tests.segments import admin_support
from tests.segments.admin_support import make_segment

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
enqueued = admin_support.enqueued


def _order():
    return list(Segment.objects.order_by("order").values_list("slug", flat=True))


def test_copy_slugs_are_unique_and_fit():
    make_segment("big")
    assert segment_copy_slug(slug="big") == "big-copy"
    make_segment("big-copy")
    make_segment("big-copy-2")
    assert segment_copy_slug(slug="big") == "big-copy-3"
    long = "x" * 100
    assert len(segment_copy_slug(slug=long)) <= 100


def test_clone_validates_the_copy(ops_user, enqueued):
    bad = make_segment("bad", conditions={"match": "all", "rules": [{"field": "nope", "op": "eq", "value": 1}]})
    with pytest.raises(ValidationError):
        segment_clone(segment=bad, user=ops_user)
    assert Segment.objects.count() == 1


def test_reorder_moves_and_renumbers_densely():
    for slug, order in (("a", 10), ("b", 20), ("c", 30), ("d", 40)):
        make_segment(slug, order=order)
    ids = dict(Segment.objects.values_list("slug", "pk"))
    # Drag d between a and b: the changelist sends the new positions of the rows it moved.
    changed = segments_reorder(positions={ids["d"]: 2, ids["b"]: 3, ids["c"]: 4})
    assert _order() == ["a", "d", "b", "c"]
    assert list(Segment.objects.order_by("order").values_list("order", flat=True)) == [1, 2, 3, 4]
    assert changed == 4


def test_reorder_of_a_filtered_page_keeps_hidden_segments_in_place():
    for slug, order in (("a", 1), ("x", 2), ("b", 3), ("y", 4), ("c", 5)):
        make_segment(slug, order=order)
    ids = dict(Segment.objects.values_list("slug", "pk"))
    # The page shows a (1), b (3), c (5); c is dragged to the top.
    segments_reorder(positions={ids["c"]: 1, ids["a"]: 2, ids["b"]: 3})
    order = _order()
    assert order.index("c") < order.index("a") < order.index("b")
    assert order.index("x") < order.index("y")


def test_reorder_refuses_unknown_ids():
    make_segment("a")
    with pytest.raises(ValueError, match="unknown segment ids"):
        segments_reorder(positions={999: 1})


def test_visible_set_changes_only_what_differs(ops_user):
    make_segment("shown")
    make_segment("hidden", visible=False)
    assert segments_visible_set(segments=Segment.objects.all(), visible=False, user=ops_user) == 1
    assert not Segment.objects.filter(visible=True).exists()
