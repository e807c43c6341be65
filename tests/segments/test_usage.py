"""What uses a segment: other segments that name it, and providers registered by higher apps."""

import pytest

from segments.models import Segment
from segments.usage import USAGE_PROVIDERS, segment_usage, segments_naming, usage_provider_register

pytestmark = pytest.mark.django_db


def _naming(*slugs):
    return {"match": "any", "rules": [{"field": "segment", "op": "in", "value": list(slugs)}]}


def test_segments_naming_a_segment_are_listed():
    base = Segment.objects.create(slug="base", name="Base")
    other = Segment.objects.create(slug="other", name="Other")
    Segment.objects.create(slug="uses", name="Uses both", conditions=_naming("base", "other"))
    Segment.objects.create(slug="excludes", name="Not base", conditions={"match": "all", "rules": [
        {"field": "segment", "op": "not_in", "value": ["base"]}]})
    found = segments_naming([base.pk, other.pk])
    assert found == {base.pk: ["Segment: Not base", "Segment: Uses both"], other.pk: ["Segment: Uses both"]}


def test_providers_are_registered_once_and_merged(monkeypatch):
    monkeypatch.setattr("segments.usage.USAGE_PROVIDERS", list(USAGE_PROVIDERS))
    base = Segment.objects.create(slug="base", name="Base")
    unused = Segment.objects.create(slug="unused", name="Unused")

    def alerts(ids):
        return {base.pk: ["Alert: Churn risk"], 12345: ["Alert: elsewhere"]}

    usage_provider_register(alerts)
    usage_provider_register(alerts)
    from segments import usage

    assert usage.USAGE_PROVIDERS.count(alerts) == 1
    assert segment_usage(segment_ids=[base.pk, unused.pk]) == {base.pk: ["Alert: Churn risk"], unused.pk: []}
    assert segment_usage(segment_ids=[]) == {}
