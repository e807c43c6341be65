"""The starter segments of the demo are valid and materialised."""

import datetime as dt

import pytest

from accounts.demo import demo_seed
from segments.conditions import ValidationContext, validate
from segments.demo import STARTER_SEGMENTS, starter_segments_create
from segments.models import RefreshStatus, Segment

pytestmark = pytest.mark.django_db


def test_every_starter_segment_is_valid_and_refreshed():
    anchor = dt.date(2026, 6, 1)
    demo_seed(accounts=40, seed=3, anchor=anchor)
    starter_segments_create(seed=3, anchor=anchor)
    assert Segment.objects.count() == len(STARTER_SEGMENTS)
    for segment in Segment.objects.all():
        assert segment.description
        assert validate(segment.conditions, kind=segment.kind, context=ValidationContext.load(slug=segment.slug)) == []
        assert segment.refresh_status == RefreshStatus.OK
    tiers = Segment.objects.filter(slug__startswith="mrr-tier").values_list("member_count", flat=True)
    assert sum(tiers) > 0


def test_starter_segments_are_idempotent():
    starter_segments_create(seed=1, anchor=dt.date(2026, 6, 1))
    starter_segments_create(seed=1, anchor=dt.date(2026, 6, 1))
    assert Segment.objects.count() == len(STARTER_SEGMENTS)
