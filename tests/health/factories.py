"""Factories for the health app (kept here rather than in tests/factories.py, which other apps share)."""

from decimal import Decimal

import factory

from health.models import HealthConfig, HealthParameter
from segments.models import Segment


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    slug = factory.Sequence(lambda n: f"segment-{n}")
    name = factory.Sequence(lambda n: f"Segment {n}")
    kind = "account"
    conditions = factory.LazyFunction(lambda: {"match": "all", "rules": []})


class HealthConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthConfig

    segment = factory.SubFactory(SegmentFactory)
    name = factory.Sequence(lambda n: f"Config {n}")


class HealthParameterFactory(factory.django.DjangoModelFactory):
    """The seeds' example by default: active users >= 70% of licenses is Good, < 10% Poor."""

    class Meta:
        model = HealthParameter

    config = factory.SubFactory(HealthConfigFactory)
    pillar = "product_adoption"
    field = "license_utilization_pct"
    params = factory.LazyFunction(lambda: {"days": 30})
    direction = "higher"
    good = Decimal("70")
    poor = Decimal("10")
    weight = Decimal("1")
