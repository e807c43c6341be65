"""Reads: latest scores, trends, sparklines, breakdowns, registry fields, previews."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from health.models import HealthScore
from health.selectors import (
    Distribution,
    health_annotate,
    health_breakdown,
    health_config_preview,
    health_config_stored_distribution,
    health_latest_for_accounts,
    health_sparkline_points,
    health_trend,
    segment_health_series,
)
from health.services import health_score_all
from segments.conditions import matching_queryset
from segments.models import SegmentSnapshot
from tests.factories import AccountFactory
from tests.health.conftest import AS_OF
from tests.health.factories import HealthConfigFactory, HealthParameterFactory, SegmentFactory
from tests.health.helpers import account_with_utilisation, join

pytestmark = pytest.mark.django_db

TODAY = AS_OF.date()


def _history(account, scores: dict[int, int | None], config=None):
    """Store rows `days ago -> score` for the account."""
    for days_ago, score in scores.items():
        label = "" if score is None else "good" if score >= 70 else "poor" if score < 40 else "average"
        HealthScore.objects.create(account=account, date=TODAY - dt.timedelta(days=days_ago), score=score,
                                   label=label, config=config)


# Trends ----------------------------------------------------------------------------------


def test_trend_is_the_score_now_minus_the_score_as_of_n_days_earlier():
    account = AccountFactory()
    _history(account, {0: 72, 6: 99, 7: 60, 8: 1, 30: 80})
    week, month = health_trend(account=account, days=7, as_of=AS_OF), health_trend(account=account, days=30,
                                                                                    as_of=AS_OF)
    assert (week.current, week.previous, week.change, week.arrow) == (72, 60, 12, "up")
    assert (month.previous, month.change, month.arrow) == (80, -8, "down")


def test_trend_uses_the_latest_row_on_or_before_each_day():
    account = AccountFactory()
    _history(account, {2: 50, 9: 50, 40: 45})  # no row today, none exactly 7 or 30 days ago
    week = health_trend(account=account, days=7, as_of=AS_OF)
    month = health_trend(account=account, days=30, as_of=AS_OF)
    assert (week.current, week.previous, week.change, week.arrow) == (50, 50, 0, "flat")
    assert month.change == 5


def test_no_trend_without_an_earlier_score():
    account = AccountFactory()
    _history(account, {0: 50, 7: None})
    assert health_trend(account=account, days=7, as_of=AS_OF).change is None
    assert health_trend(account=account, days=30, as_of=AS_OF).arrow == ""


def test_latest_for_accounts_reads_many_accounts_in_one_query():
    config = HealthConfigFactory(name="Enterprise health")
    up, down, never = AccountFactory(), AccountFactory(), AccountFactory()
    _history(up, {0: 80, 7: 70, 30: 10}, config=config)
    _history(down, {1: 30, 7: 45})
    with CaptureQueriesContext(connection) as queries:
        latest = health_latest_for_accounts([up.pk, down.pk, never.pk], as_of=AS_OF)
    assert len(queries) == 1
    assert latest[up.pk].score == 80 and latest[up.pk].label == "good" and latest[up.pk].date == TODAY
    assert (latest[up.pk].change_7, latest[up.pk].change_30, latest[up.pk].trend_7) == (10, 70, "up")
    assert (latest[up.pk].config_id, latest[up.pk].config_name) == (config.pk, "Enterprise health")
    assert (latest[down.pk].score, latest[down.pk].change_7, latest[down.pk].trend_7) == (30, -15, "down")
    assert latest[down.pk].date == TODAY - dt.timedelta(days=1)
    assert (latest[never.pk].score, latest[never.pk].date, latest[never.pk].trend_30) == (None, None, "")


def test_latest_ignores_rows_after_the_day():
    account = AccountFactory()
    _history(account, {3: 40, -1: 90})
    assert health_latest_for_accounts([account.pk], as_of=AS_OF)[account.pk].score == 40


def test_health_annotate_sorts_accounts_by_score():
    low, high, unscored = AccountFactory(), AccountFactory(), AccountFactory()
    _history(low, {0: 20})
    _history(high, {0: 90})
    ordered = health_annotate(type(low).objects.all(), as_of=AS_OF).order_by("-health_score")
    assert [a.pk for a in ordered if a.health_score is not None] == [high.pk, low.pk]
    assert health_annotate(type(low).objects.filter(pk=unscored.pk), as_of=AS_OF).get().health_label is None


def test_sparkline_has_one_point_per_day_with_gaps():
    account = AccountFactory()
    _history(account, {0: 70, 1: None, 3: 60, 31: 1})
    points = health_sparkline_points(account=account, days=4, as_of=AS_OF)
    assert points == [(TODAY - dt.timedelta(days=4), None), (TODAY - dt.timedelta(days=3), 60),
                      (TODAY - dt.timedelta(days=2), None), (TODAY - dt.timedelta(days=1), None), (TODAY, 70)]
    assert len(health_sparkline_points(account=account, as_of=AS_OF)) == 31


def test_segment_health_series_reads_the_snapshots():
    segment = SegmentFactory()
    SegmentSnapshot.objects.create(segment=segment, date=TODAY - dt.timedelta(days=40), members=1, avg_health=1)
    SegmentSnapshot.objects.create(segment=segment, date=TODAY - dt.timedelta(days=1), members=1, avg_health=55.5)
    SegmentSnapshot.objects.create(segment=segment, date=TODAY, members=1)
    assert segment_health_series(segment=segment, as_of=AS_OF) == [(TODAY - dt.timedelta(days=1), 55.5),
                                                                    (TODAY, None)]


# Breakdown -------------------------------------------------------------------------------


def test_breakdown_explains_the_latest_row(default_config):
    adoption = HealthParameterFactory(config=default_config, position=1)
    logins = HealthParameterFactory(config=default_config, pillar="engagement", field="logins", params={"days": 7},
                                    good=10, poor=0, position=2, weight=2)
    account = account_with_utilisation(licenses=None, active=2)
    health_score_all(as_of=AS_OF)
    breakdown = health_breakdown(account=account, as_of=AS_OF)
    assert (breakdown.score, breakdown.label, breakdown.config, breakdown.date) == (20, "poor", default_config, TODAY)
    first, second = breakdown.parameters
    assert (first.parameter_id, first.missing, first.score, first.pillar_label) == (adoption.pk, True, None,
                                                                                     "Product adoption")
    assert first.text == "License utilization in the last 30 days"
    assert (second.parameter_id, second.value, second.score, second.weight) == (logins.pk, 2, 20, 2.0)
    assert second.text == "Logins in the last 7 days"


def test_breakdown_of_an_unscored_account_is_empty():
    breakdown = health_breakdown(account=AccountFactory(), as_of=AS_OF)
    assert (breakdown.score, breakdown.config, breakdown.parameters) == (None, None, [])


# Registry fields: segments can use health ---------------------------------------------------


def test_health_score_and_label_are_usable_in_segment_conditions_after_scoring(default_config):
    HealthParameterFactory(config=default_config)
    healthy, middling, unhealthy = (account_with_utilisation(active=n) for n in (8, 4, 0))
    unscorable = account_with_utilisation(licenses=None)

    def matching(rule):
        conditions = {"match": "all", "rules": [rule]}
        return set(matching_queryset(conditions, kind="account", as_of=AS_OF).values_list("pk", flat=True))

    assert matching({"field": "health_score", "op": "is_set"}) == set()  # nothing scored yet
    health_score_all(as_of=AS_OF)
    assert matching({"field": "health_score", "op": "gte", "value": 50}) == {healthy.pk, middling.pk}
    assert matching({"field": "health_score", "op": "lt", "value": 50}) == {unhealthy.pk}
    assert matching({"field": "health_label", "op": "eq", "value": "good"}) == {healthy.pk}
    assert matching({"field": "health_label", "op": "in", "value": ["average", "poor"]}) == {middling.pk,
                                                                                          unhealthy.pk}
    assert matching({"field": "health_score", "op": "is_not_set"}) == {unscorable.pk}
    assert matching({"field": "health_label", "op": "is_not_set"}) == {unscorable.pk}


def test_health_fields_read_the_latest_row_on_or_before_as_of():
    account = AccountFactory()
    _history(account, {5: 30, 0: 90})
    conditions = {"match": "all", "rules": [{"field": "health_score", "op": "eq", "value": 30}]}
    earlier = AS_OF - dt.timedelta(days=2)
    assert matching_queryset(conditions, kind="account", as_of=earlier).filter(pk=account.pk).exists()
    assert not matching_queryset(conditions, kind="account", as_of=AS_OF).filter(pk=account.pk).exists()


# Preview ---------------------------------------------------------------------------------------


def test_preview_counts_labels_for_an_unsaved_config_without_writing(default_config):
    segment = SegmentFactory()
    for active in (8, 7, 5, 2, 0):  # 100, 100, 67, 17, 0
        join(account_with_utilisation(active=active), segment)
    join(account_with_utilisation(licenses=None), segment)
    AccountFactory()  # not in the segment
    config = HealthConfigFactory.build(segment=segment, good_cutoff=70, poor_cutoff=40)
    parameters = [HealthParameterFactory.build(config=config)]
    preview = health_config_preview(config=config, parameters=parameters, as_of=AS_OF)
    assert preview == Distribution(good=2, average=1, poor=2, missing=1)
    assert preview.total == 6
    assert not HealthScore.objects.exists()


def test_preview_of_a_segment_config_leaves_out_accounts_of_earlier_configured_segments():
    earlier = HealthConfigFactory(segment=SegmentFactory(order=0))
    segment = SegmentFactory(order=5)
    shared, own = account_with_utilisation(active=8), account_with_utilisation(active=8)
    join(shared, earlier.segment, segment)
    join(own, segment)
    config = HealthConfigFactory.build(segment=segment)
    preview = health_config_preview(config=config, parameters=[HealthParameterFactory.build(config=config)],
                                    as_of=AS_OF)
    assert preview == Distribution(good=1)


def test_preview_of_the_default_config_covers_accounts_in_no_configured_segment(default_config):
    configured = HealthConfigFactory()
    join(account_with_utilisation(active=8), configured.segment)
    account_with_utilisation(active=0)
    preview = health_config_preview(config=default_config, parameters=[HealthParameterFactory.build()], as_of=AS_OF)
    assert preview == Distribution(poor=1)


def test_stored_distribution_counts_the_latest_scored_day(default_config):
    HealthParameterFactory(config=default_config)
    account_with_utilisation(active=8)
    account_with_utilisation(active=1)
    health_score_all(as_of=AS_OF - dt.timedelta(days=1))
    account_with_utilisation(active=5)
    health_score_all(as_of=AS_OF)
    assert health_config_stored_distribution(config=default_config, as_of=AS_OF) == Distribution(good=1, average=1,
                                                                                                 poor=1)
    assert health_config_stored_distribution(config=HealthConfigFactory(), as_of=AS_OF) == Distribution()
