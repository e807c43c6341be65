"""seed_demo's health configs: per plan segment with the seeds' feature split, and a month of scores."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Account
from health.demo import DEMO_CONFIGS, HISTORY_DAYS, health_demo_configure
from health.models import HealthConfig, HealthParameter, HealthScore
from health.validation import parameter_errors
from segments.conditions import custom_definitions
from tests.factories import AccountFactory, CustomAttributeFactory
from tests.health.factories import SegmentFactory

pytestmark = pytest.mark.django_db

ANCHOR = dt.date(2026, 6, 1)


def _features(config: HealthConfig) -> set[str]:
    return {p.params["feature"] for p in config.parameters.all() if "feature" in p.params}


def test_every_demo_parameter_is_valid():
    CustomAttributeFactory(key="nps", type="number")
    custom = custom_definitions()
    for _, rows in DEMO_CONFIGS.values():
        for pillar, key, params, direction, good, poor, weight in rows:
            parameter_errors(parameter=HealthParameter(pillar=pillar, field=key, params=params, direction=direction,
                                                       good=good, poor=poor, weight=weight), custom=custom)


def test_plan_segments_get_configs_with_the_seeds_feature_split(default_config):
    CustomAttributeFactory(key="nps", type="number")
    for slug in ("plan-starter", "plan-business", "plan-enterprise"):
        SegmentFactory(slug=slug)
    counts = health_demo_configure(seed=1, anchor=ANCHOR)
    assert counts["health configs"] == 4
    starter, business, enterprise = (HealthConfig.objects.get(segment__slug=f"plan-{p}")
                                     for p in ("starter", "business", "enterprise"))
    assert _features(starter) == {"reports", "dashboards"}
    assert _features(business) == _features(starter) | {"data_import", "integrations"}
    assert _features(enterprise) == _features(business) | {"api"}
    assert starter.parameters.filter(field="license_utilization_pct", good=70, poor=10).exists()  # the seeds' example
    default_config.refresh_from_db()
    assert default_config.parameters.count() == 3
    assert set(starter.parameters.values_list("pillar", flat=True)) >= {"product_adoption", "support", "relationship"}


def test_missing_segments_are_skipped_and_a_rerun_replaces_the_parameters(default_config):
    SegmentFactory(slug="plan-starter")
    health_demo_configure(seed=1, anchor=ANCHOR)
    health_demo_configure(seed=1, anchor=ANCHOR)
    assert HealthConfig.objects.count() == 2
    starter = HealthConfig.objects.get(segment__slug="plan-starter")
    assert starter.parameters.count() == len(DEMO_CONFIGS["plan-starter"][1]) - 1  # no nps attribute: left out
    assert not starter.parameters.filter(field__startswith="custom.").exists()


def test_the_demo_scores_a_month_of_days_up_to_the_anchor(default_config):
    accounts = [AccountFactory() for _ in range(3)]
    counts = health_demo_configure(seed=1, anchor=ANCHOR)
    dates = set(HealthScore.objects.values_list("date", flat=True))
    assert dates == {ANCHOR - dt.timedelta(days=n) for n in range(HISTORY_DAYS + 1)}
    assert HealthScore.objects.count() == counts["health scores"] == 3 * (HISTORY_DAYS + 1)
    assert HealthScore.objects.filter(date=ANCHOR, account__in=accounts).count() == 3


@pytest.mark.slow
def test_seed_demo_loads_configs_per_plan_and_scores_every_account():
    call_command("seed_demo", "--accounts", "60", "--anchor", ANCHOR.isoformat(), stdout=StringIO())
    today = HealthScore.objects.filter(date=ANCHOR)
    assert today.count() == Account.objects.count() == 60
    by_plan = dict(today.values_list("account__plan", "config__segment__slug").distinct())
    assert by_plan == {"starter": "plan-starter", "business": "plan-business", "enterprise": "plan-enterprise"}
    assert set(today.values_list("label", flat=True)) >= {"good", "poor"}
