"""Fixtures of the health tests."""

import datetime as dt

import pytest

from health.models import HealthConfig

AS_OF = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def default_config(db):
    """The default config the migration creates (accounts in no configured segment)."""
    return HealthConfig.objects.get(segment__isnull=True)
