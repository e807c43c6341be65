"""Nightly scoring: thresholds, direction, weights, missing values, the priority rule, re-runs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from health.models import HealthScore
from health.services import health_config_clone, health_score_all
from segments.models import SegmentSnapshot
from tests.factories import AccountFactory, CustomAttributeFactory
from tests.health.conftest import AS_OF
from tests.health.factories import HealthConfigFactory, HealthParameterFactory, SegmentFactory
from tests.health.helpers import account_with_utilisation, join, open_tickets

pytestmark = pytest.mark.django_db

TICKETS = {"pillar": "support", "field": "open_tickets", "params": {}, "direction": "lower", "good": 0, "poor": 4}


def _row(account) -> HealthScore:
    return HealthScore.objects.get(account=account, date=AS_OF.date())


# The seeds' example: Good when active users >= 70% of licenses, Poor below 10% ------------


@pytest.mark.parametrize(
    ("active", "score", "label"),
    [
        (10, 100, "good"),  # 100%: beyond Good
        (7, 100, "good"),  # exactly 70%: Good
        (4, 50, "average"),  # 40%: half way from 10% to 70%
        (3, 33, "poor"),  # 30%: 33.3 rounds to 33, below the Poor cut-off 40
        (1, 0, "poor"),  # exactly 10%: Poor
        (0, 0, "poor"),  # 0%
    ],
)
def test_the_seeds_product_adoption_example(default_config, active, score, label):
    HealthParameterFactory(config=default_config)
    account = account_with_utilisation(licenses=10, active=active, inactive=10 - active)
    health_score_all(as_of=AS_OF)
    row = _row(account)
    assert (row.score, row.label) == (score, label)
    assert row.config == default_config
    assert row.details[str(default_config.parameters.get().pk)][0] == pytest.approx(active * 10)


def test_activity_outside_the_30_day_window_does_not_count(default_config):
    HealthParameterFactory(config=default_config)
    account = account_with_utilisation(licenses=10, active=7)
    inside, outside = AS_OF + dt.timedelta(days=27), AS_OF + dt.timedelta(days=29)  # events 29 and 31 days old
    health_score_all(as_of=inside)
    health_score_all(as_of=outside)
    assert HealthScore.objects.get(account=account, date=inside.date()).score == 100
    assert HealthScore.objects.get(account=account, date=outside.date()).score == 0


def test_lower_is_better_mirrors_the_scale(default_config):
    HealthParameterFactory(config=default_config, **TICKETS)
    expected = {}
    for tickets, score in ((0, 100), (1, 75), (2, 50), (4, 0), (6, 0)):
        account = AccountFactory()
        open_tickets(account, tickets)
        expected[account.pk] = score
    health_score_all(as_of=AS_OF)
    assert dict(HealthScore.objects.values_list("account_id", "score")) == expected


def test_the_score_is_the_weighted_average_of_the_parameter_scores(default_config):
    HealthParameterFactory(config=default_config, weight=3)  # 100
    HealthParameterFactory(config=default_config, weight=1, **TICKETS)  # 4 tickets: 0
    account = account_with_utilisation(active=8)
    open_tickets(account, 4)
    health_score_all(as_of=AS_OF)
    assert _row(account).score == 75
    assert _row(account).score_exact == pytest.approx(75.0)


def test_the_score_rounds_half_up(default_config):
    HealthParameterFactory(config=default_config)  # 70%: 100
    HealthParameterFactory(config=default_config, **TICKETS)  # 3 tickets: 25
    account = account_with_utilisation(active=7)
    open_tickets(account, 3)
    health_score_all(as_of=AS_OF)
    row = _row(account)
    assert row.score_exact == pytest.approx(62.5)
    assert row.score == 63


def test_interpolation_is_linear_between_poor_and_good(default_config):
    HealthParameterFactory(config=default_config, field="licenses", params={}, good=Decimal("20"),
                           poor=Decimal("4"))
    scores = {}
    for licenses in (4, 5, 8, 12, 16, 19, 20):
        scores[AccountFactory(licenses=licenses).pk] = round(100 * (licenses - 4) / 16, 4)
    health_score_all(as_of=AS_OF)
    stored = {row.account_id: row for row in HealthScore.objects.all()}
    for pk, exact in scores.items():
        assert stored[pk].score_exact == pytest.approx(exact)
        assert stored[pk].details[str(default_config.parameters.get().pk)][1] == pytest.approx(exact)


def test_a_missing_value_is_left_out_of_the_average_not_counted_as_zero(default_config):
    utilisation = HealthParameterFactory(config=default_config)
    tickets = HealthParameterFactory(config=default_config, **TICKETS)
    account = account_with_utilisation(licenses=None, active=3)  # no licenses: utilisation is missing
    health_score_all(as_of=AS_OF)
    row = _row(account)
    assert row.score == 100  # only the tickets parameter (0 open tickets) counts
    assert row.details[str(utilisation.pk)] == [None, None]
    assert row.details[str(tickets.pk)] == [0, 100]


def test_an_account_with_every_value_missing_has_no_score(default_config):
    HealthParameterFactory(config=default_config)
    account = account_with_utilisation(licenses=None)
    result = health_score_all(as_of=AS_OF)
    row = _row(account)
    assert (row.score, row.score_exact, row.label, row.config_id) == (None, None, "", default_config.pk)
    assert result.missing == 1 and result.scored == 1


def test_a_config_without_parameters_records_the_config_and_no_score(default_config):
    account = AccountFactory()
    health_score_all(as_of=AS_OF)
    assert (_row(account).score, _row(account).config_id) == (None, default_config.pk)


def test_custom_number_attributes_can_be_parameters(default_config):
    CustomAttributeFactory(key="nps", type="number")
    HealthParameterFactory(config=default_config, pillar="relationship", field="custom.nps", params={},
                           good=9, poor=5)
    promoter, neutral, unknown = AccountFactory(custom={"nps": 10}), AccountFactory(custom={"nps": 7.5}), \
        AccountFactory(custom={})
    health_score_all(as_of=AS_OF)
    assert (_row(promoter).score, _row(neutral).score, _row(unknown).score) == (100, 63, None)


def test_cut_offs_of_the_config_decide_the_label():
    config = HealthConfigFactory(good_cutoff=80, poor_cutoff=50)
    HealthParameterFactory(config=config)
    labels = {}
    for active, label in ((6, "good"), (5, "average"), (4, "average"), (3, "poor")):  # 83, 67, 50, 33
        account = account_with_utilisation(active=active)
        join(account, config.segment)
        labels[account.pk] = label
    health_score_all(as_of=AS_OF)
    assert dict(HealthScore.objects.values_list("account_id", "label")) == labels


def test_the_label_follows_the_rounded_score(default_config):
    """79.6 is shown as 80, so it is Good with a Good cut-off of 80."""
    default_config.good_cutoff = 80
    default_config.save()
    HealthParameterFactory(config=default_config, field="licenses", params={}, good=1000, poor=0)
    account = AccountFactory(licenses=796)
    health_score_all(as_of=AS_OF)
    assert (_row(account).score, _row(account).label) == (80, "good")


# The priority rule -----------------------------------------------------------------------


def test_an_account_in_two_configured_segments_is_scored_by_the_first_in_segment_order(default_config):
    first = HealthConfigFactory(segment=SegmentFactory(order=1, name="Zeta"))
    second = HealthConfigFactory(segment=SegmentFactory(order=2, name="Alpha"))
    HealthParameterFactory(config=first)  # utilisation: 40% scores 50
    HealthParameterFactory(config=second, **TICKETS)  # no tickets: 100
    account = account_with_utilisation(active=4)
    join(account, second.segment, first.segment)
    health_score_all(as_of=AS_OF)
    assert (_row(account).config_id, _row(account).score) == (first.pk, 50)

    first.segment.order = 3
    first.segment.save()
    health_score_all(as_of=AS_OF)
    assert (_row(account).config_id, _row(account).score) == (second.pk, 100)


def test_segments_with_equal_order_are_ranked_by_name():
    zeta = HealthConfigFactory(segment=SegmentFactory(order=1, name="Zeta"))
    alpha = HealthConfigFactory(segment=SegmentFactory(order=1, name="Alpha"))
    account = AccountFactory()
    join(account, zeta.segment, alpha.segment)
    health_score_all(as_of=AS_OF)
    assert _row(account).config_id == alpha.pk


def test_a_segment_without_a_config_does_not_take_priority(default_config):
    configured = HealthConfigFactory(segment=SegmentFactory(order=5))
    unconfigured = SegmentFactory(order=1)
    account = AccountFactory()
    join(account, unconfigured, configured.segment)
    health_score_all(as_of=AS_OF)
    assert _row(account).config_id == configured.pk


def test_accounts_in_no_configured_segment_get_the_default_config(default_config):
    configured = HealthConfigFactory()
    outsider, member, in_unconfigured = AccountFactory(), AccountFactory(), AccountFactory()
    join(member, configured.segment)
    join(in_unconfigured, SegmentFactory())
    health_score_all(as_of=AS_OF)
    assert dict(HealthScore.objects.values_list("account_id", "config_id")) == {
        outsider.pk: default_config.pk, member.pk: configured.pk, in_unconfigured.pk: default_config.pk,
    }


def test_every_account_gets_exactly_one_row_per_day(default_config):
    configs = [HealthConfigFactory(segment=SegmentFactory(order=n)) for n in range(3)]
    accounts = [AccountFactory() for _ in range(6)]
    join(accounts[0], *[c.segment for c in configs])
    join(accounts[1], configs[2].segment, configs[1].segment)
    result = health_score_all(as_of=AS_OF)
    assert result.scored == 6 == HealthScore.objects.count()
    assert _row(accounts[0]).config_id == configs[0].pk
    assert _row(accounts[1]).config_id == configs[1].pk


# Re-runs, history and snapshots ------------------------------------------------------------


def test_re_running_a_day_replaces_its_rows_and_keeps_other_days(default_config):
    HealthParameterFactory(config=default_config)
    account = account_with_utilisation(active=4)
    health_score_all(as_of=AS_OF - dt.timedelta(days=1))
    health_score_all(as_of=AS_OF)
    account.licenses = 5  # 4 of 5: 80%
    account.save()
    health_score_all(as_of=AS_OF + dt.timedelta(hours=6))  # same UTC day
    assert HealthScore.objects.filter(account=account).count() == 2
    assert _row(account).score == 100
    assert HealthScore.objects.get(account=account, date=AS_OF.date() - dt.timedelta(days=1)).score == 50


def test_scores_are_stored_for_the_utc_day_of_as_of(default_config):
    account = AccountFactory()
    late_evening_west = dt.datetime(2026, 6, 1, 22, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    health_score_all(as_of=late_evening_west)
    assert HealthScore.objects.get(account=account).date == dt.date(2026, 6, 2)


def test_segment_snapshots_of_the_day_get_the_average_health_of_their_members(default_config):
    HealthParameterFactory(config=default_config)
    segment, empty = SegmentFactory(), SegmentFactory()
    for active in (7, 4, 3):  # 100, 50, 33
        join(account_with_utilisation(active=active), segment)
    join(account_with_utilisation(licenses=None), segment)  # missing: not averaged
    for s in (segment, empty):
        SegmentSnapshot.objects.create(segment=s, date=AS_OF.date(), members=0)
    yesterday = SegmentSnapshot.objects.create(segment=segment, date=AS_OF.date() - dt.timedelta(days=1), members=3)
    health_score_all(as_of=AS_OF)
    assert SegmentSnapshot.objects.get(segment=segment, date=AS_OF.date()).avg_health == Decimal("61.0")
    assert SegmentSnapshot.objects.get(segment=empty, date=AS_OF.date()).avg_health is None
    yesterday.refresh_from_db()
    assert yesterday.avg_health is None


# Query count -------------------------------------------------------------------------------


def _queries_for_a_run(accounts: int, config_segment) -> int:
    for n in range(accounts):
        account = account_with_utilisation(active=n % 5, inactive=1)
        open_tickets(account, n % 3)
        if n % 2:
            join(account, config_segment)
    with CaptureQueriesContext(connection) as queries:
        health_score_all(as_of=AS_OF)
    assert HealthScore.objects.filter(date=AS_OF.date()).count() == Account.objects.count()
    HealthScore.objects.all().delete()
    return len(queries)


def test_the_number_of_queries_does_not_depend_on_the_number_of_accounts(default_config):
    config = HealthConfigFactory()
    for target in (default_config, config):
        HealthParameterFactory(config=target)
        HealthParameterFactory(config=target, **TICKETS)
        HealthParameterFactory(config=target, field="days_since_last_activity", params={}, direction="lower",
                               good=1, poor=30)
    SegmentSnapshot.objects.create(segment=config.segment, date=AS_OF.date(), members=0)
    few = _queries_for_a_run(3, config.segment)
    many = _queries_for_a_run(40, config.segment)
    assert few == many
    assert many <= 18


# Cloning -------------------------------------------------------------------------------------


def test_cloning_copies_the_parameters_to_another_segment():
    source = HealthConfigFactory(good_cutoff=75, poor_cutoff=35)
    HealthParameterFactory(config=source, weight=3)
    HealthParameterFactory(config=source, **TICKETS)
    target = SegmentFactory(name="Enterprise")
    clone = health_config_clone(config=source, segment=target)
    assert (clone.segment, clone.name, clone.good_cutoff, clone.poor_cutoff) == (target, "Enterprise health", 75, 35)
    copied = list(clone.parameters.values_list("field", "weight", "direction"))
    assert copied == list(source.parameters.values_list("field", "weight", "direction"))
    assert source.parameters.count() == 2


def test_cloning_to_a_segment_that_has_a_config_is_refused():
    from django.core.exceptions import ValidationError

    source, taken = HealthConfigFactory(), HealthConfigFactory()
    with pytest.raises(ValidationError):
        health_config_clone(config=source, segment=taken.segment)


def test_a_config_may_have_many_parameters(default_config):
    """More parameters than a SQL function takes arguments: the details object is built in chunks."""
    for n in range(45):
        HealthParameterFactory(config=default_config, field="licenses", params={}, good=20 + n, poor=0, position=n)
    account = AccountFactory(licenses=20)
    health_score_all(as_of=AS_OF)
    row = _row(account)
    assert len(row.details) == 45
    assert row.score == round(sum(100 * 20 / (20 + n) for n in range(45)) / 45)


def test_a_parameter_that_no_longer_validates_counts_as_missing_and_the_run_goes_on(default_config, caplog):
    nps = CustomAttributeFactory(key="nps", type="number")
    HealthParameterFactory(config=default_config, pillar="relationship", field="custom.nps", params={}, good=9,
                           poor=5)
    HealthParameterFactory(config=default_config, **TICKETS)
    account = AccountFactory(custom={"nps": 5})  # nps scores 0, no tickets 100: 50
    health_score_all(as_of=AS_OF)
    assert _row(account).score == 50
    nps.delete()
    health_score_all(as_of=AS_OF)
    assert _row(account).score == 100
    assert "invalid and counts as missing" in caplog.text
