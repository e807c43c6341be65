"""The segment pages and admin know which health config uses a segment."""

import pytest

from health.models import HealthConfig
from segments.models import Segment
from segments.usage import segment_usage

pytestmark = pytest.mark.django_db


def test_a_segment_with_a_health_config_is_used_by_it():
    scored = Segment.objects.create(slug="enterprise", name="Enterprise")
    unused = Segment.objects.create(slug="other", name="Other")
    HealthConfig.objects.create(segment=scored, name="Enterprise health")
    usage = segment_usage(segment_ids=[scored.pk, unused.pk])
    assert usage[scored.pk] == ["Health config: Enterprise health"]
    assert usage[unused.pk] == []
