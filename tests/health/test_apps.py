"""What the health app registers into lower apps at start-up, and the nightly pipeline with health."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from accounts.demo import DEMO_EXTENSIONS
from accounts.extensions import account_extensions
from csbox.pipeline import nightly_run, nightly_steps
from health.demo import health_demo_configure
from health.models import HealthScore
from health.selectors import (
    health_account_panel,
    health_label_expression,
    health_list_label_expression,
    health_list_score_expression,
    health_score_expression,
)
from health.services import ScoringResult, health_score_all
from health.templatetags.health_tags import health_sparkline, health_trend_arrow
from segments.models import Segment, SegmentSnapshot
from segments.registry import registry
from tests.health.conftest import AS_OF
from tests.health.factories import HealthParameterFactory
from tests.health.helpers import account_with_utilisation

TODAY = AS_OF.date()


def test_health_runs_in_the_nightly_pipeline_after_the_segments():
    names = [name for name, _ in nightly_steps()]
    assert names[0] == "segments" and "health" in names[1:]
    # The segment pages' insights are warmed once members and health are current.
    assert names.index("segment_insights") > names.index("health")
    assert dict(nightly_steps())["health"] is health_score_all


def test_the_registry_fields_and_the_csm_pages_get_their_sql_from_health():
    assert registry.provider("health_score") is health_score_expression
    assert registry.provider("health_label") is health_label_expression
    # The CSM pages read today's health from CurrentHealth (health_list_*), the engine the history.
    assert account_extensions.metric("health_score").expression is health_list_score_expression
    assert account_extensions.metric("health_label").expression is health_list_label_expression
    assert account_extensions.metric("health_label").choices == (("good", "Good"), ("average", "Average"),
                                                                  ("poor", "Poor"))
    assert [p.context for p in account_extensions.panels() if p.key == "health"] == [health_account_panel]


def test_seed_demo_runs_the_health_demo_extension():
    assert health_demo_configure in DEMO_EXTENSIONS


@pytest.mark.django_db
def test_the_nightly_run_scores_after_refreshing_and_fills_the_snapshot_average(default_config):
    HealthParameterFactory(config=default_config)
    big = Segment.objects.create(slug="big", name="Big", conditions={
        "match": "all", "rules": [{"field": "licenses", "op": "gte", "value": 10}]})
    account_with_utilisation(licenses=10, active=7)  # 100
    account_with_utilisation(licenses=20, active=8)  # 40%: 50
    account_with_utilisation(licenses=5, active=5)  # 100, not in the segment
    results = nightly_run(as_of=AS_OF)
    assert isinstance(results["health"], ScoringResult) and results["health"].scored == 3
    assert SegmentSnapshot.objects.get(segment=big, date=TODAY).avg_health == Decimal("75.0")
    nightly_run(as_of=AS_OF)  # idempotent for the day
    assert HealthScore.objects.count() == 3


# The Account 360 panel ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_panel_shows_the_breakdown_trends_and_sparkline(default_config):
    HealthParameterFactory(config=default_config)
    HealthParameterFactory(config=default_config, pillar="support", field="open_tickets", params={},
                           direction="lower", good=0, poor=4)
    account = account_with_utilisation(licenses=None, active=1)
    HealthScore.objects.create(account=account, date=TODAY - dt.timedelta(days=7), score=80, label="good")
    health_score_all(as_of=AS_OF)
    context = health_account_panel(account=account, as_of=AS_OF, user=None)
    html = render_to_string("health/account_panel.html", {"account": account, **context})
    assert [t.change for t in context["health_trends"]] == [20, None]
    assert "Default health" in html and "Open tickets" in html and "missing" in html
    assert "▲ +20" in html and "<polyline" not in html and "<circle" in html  # two points 7 days apart: dots
    assert [label for label, _ in context["health_pillars"]] == ["Product adoption", "Support"]


@pytest.mark.django_db
def test_the_panel_of_an_unscored_account_says_so():
    account = account_with_utilisation()
    html = render_to_string("health/account_panel.html", health_account_panel(account=account, as_of=AS_OF))
    assert "Not scored yet" in html


@pytest.mark.django_db
def test_account_360_shows_the_health_panel(client, csm_user, default_config):
    try:
        url = reverse("csm:account", args=["A-health"])
    except NoReverseMatch:  # pragma: no cover - the CSM pages are not installed
        pytest.skip("no Account 360 page")
    HealthParameterFactory(config=default_config)
    account_with_utilisation(active=7, external_id="A-health")
    health_score_all()
    client.force_login(csm_user)
    html = client.get(url).content.decode()
    assert "panel-health" in html and "License utilization in the last 30 days" in html


def test_trend_arrows():
    assert str(health_trend_arrow(5)) == '<span class="health-trend up">▲ +5</span>'
    assert "▼ -3" in str(health_trend_arrow(-3)) and "▶ +0" in str(health_trend_arrow(0))
    assert "–" in str(health_trend_arrow(None))


def test_sparkline_breaks_at_missing_days_and_uses_a_0_to_100_scale():
    days = [dt.date(2026, 6, d) for d in range(1, 6)]
    svg = str(health_sparkline(list(zip(days, [0, 100, None, 50, 50], strict=True)), width=104, height=104))
    assert svg.count("<polyline") == 2
    assert 'points="2.0,102.0 27.0,2.0"' in svg and 'points="77.0,52.0 102.0,52.0"' in svg
    assert str(health_sparkline([(days[0], None)])) == ""
