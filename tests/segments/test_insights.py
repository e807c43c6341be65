"""Segment insights: overlap, hygiene flags, outliers, summary, health fallback, migration from the change log."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.extensions import account_extensions
from accounts.models import Account
from accounts.services import account_last_activity_sync
from segments import insights
from segments.models import MembershipChange, Segment, SegmentSnapshot
from segments.page_services import segment_mark_viewed
from segments.services import segment_refresh
from tests.factories import AccountFactory, EventFactory
from tests.segments.csm_world import FakeHealth, rule, segment_make, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


def test_overlap_counts_common_members_and_both_shares(w):
    overlaps = insights.segment_overlaps(segment=w["segments"]["big"])
    by_slug = {o.segment.slug: o for o in overlaps}
    assert set(by_slug) == {"emea"}
    emea = by_slug["emea"]
    assert (emea.common, emea.share_of_this, round(emea.share_of_other, 3)) == (2, 1.0, 0.667)
    assert round(emea.jaccard, 3) == 0.667
    assert insights.segment_overlaps(segment=segment_make("none", rule("mrr", "gt", 10**9))) == []


def _codes(segment, now=None):
    overlaps = insights.segment_overlaps(segment=segment)
    used_by = insights.segment_used_by(segment=segment)
    return {f.code for f in insights.segment_hygiene(segment=segment, overlaps=overlaps, used_by=used_by, now=now)}


def test_an_empty_segment_is_flagged(w):
    assert "empty" in _codes(segment_make("nobody", rule("mrr", "gt", 10**9)))
    assert "empty" not in _codes(w["segments"]["big"])


def test_a_segment_named_by_another_is_used(w):
    assert "unused" in _codes(w["segments"]["big"])
    segment_make("big-emea", {"match": "all", "rules": [{"field": "segment", "op": "in", "value": ["big"]}]})
    assert insights.segment_used_by(segment=w["segments"]["big"]) == ["Segment: Big Emea"]
    assert "unused" not in _codes(w["segments"]["big"])


def test_unchanged_and_unviewed_for_90_days_is_stale(w):
    segment = w["segments"]["emea"]
    now = timezone.now()
    long_ago = now - dt.timedelta(days=91)
    assert "stale" not in _codes(segment)
    Segment.objects.filter(pk=segment.pk).update(updated_at=long_ago, last_viewed_at=long_ago)
    MembershipChange.objects.filter(segment=segment).update(at=long_ago)
    segment.refresh_from_db()
    assert "stale" in _codes(segment, now=now)
    segment_mark_viewed(segment=segment)
    segment.refresh_from_db()
    assert "stale" not in _codes(segment, now=now)


def test_a_recent_membership_change_keeps_a_segment_fresh(w):
    segment = w["segments"]["emea"]
    long_ago = timezone.now() - dt.timedelta(days=200)
    Segment.objects.filter(pk=segment.pk).update(updated_at=long_ago, last_viewed_at=None)
    segment.refresh_from_db()
    assert "stale" not in _codes(segment)  # members joined at today's refresh


def test_two_segments_with_95_percent_the_same_members_are_flagged(w):
    twin = segment_make("emea-twin", rule("region", "in", ["EMEA", "Nowhere"]))
    codes = _codes(twin)
    assert "duplicate" in codes
    assert "duplicate" not in _codes(w["segments"]["big"])


def test_more_than_seven_rules_is_too_complex(w):
    rules = [{"field": "mrr", "op": "gt", "value": n} for n in range(8)]
    assert "complex" in _codes(segment_make("complex", {"match": "all", "rules": rules}))
    assert "complex" not in _codes(segment_make("simple", {"match": "all", "rules": rules[:7]}))


def test_marking_a_segment_viewed_writes_at_most_once_an_hour(w, django_assert_num_queries):
    segment = w["segments"]["big"]
    now = timezone.now()
    segment_mark_viewed(segment=segment, now=now)
    segment_mark_viewed(segment=segment, now=now + dt.timedelta(minutes=30))
    segment.refresh_from_db()
    assert segment.last_viewed_at == now
    segment_mark_viewed(segment=segment, now=now + dt.timedelta(hours=2))
    segment.refresh_from_db()
    assert segment.last_viewed_at == now + dt.timedelta(hours=2)


def _active(account, days_ago, now):
    EventFactory(account=account, occurred_at=now - dt.timedelta(days=days_ago, hours=2))
    account_last_activity_sync(account_ids=[account.pk])


def test_dormant_members_of_an_active_segment_are_outliers():
    now = timezone.now()
    busy = [AccountFactory(region="Top", mrr=Decimal(20000 + i)) for i in range(10)]
    for i, account in enumerate(busy):
        _active(account, i % 3, now)
    dormant = AccountFactory(region="Top", name="Sleepy", mrr=Decimal(50000))
    _active(dormant, 60, now)
    never = AccountFactory(region="Top", name="Never")
    segment = segment_make("top", rule("region", "eq", "Top"))
    report = next(r for r in insights.segment_outliers(segment=segment, as_of=now)
                  if r.metric.key == "days_since_last_activity")
    assert report.members == 12 and report.missing == 1  # `never` has no activity at all
    assert [a.name for a in report.above] == ["Sleepy"] and report.above[0].metric_value == 60
    assert report.below == [] and report.low_shown is None
    assert report.median == 1 and report.high < 60
    assert never not in report.above


def test_health_outliers_with_the_registered_metric():
    now = timezone.now()
    for i in range(10):
        _active(AccountFactory(region="R", mrr=Decimal(8000 + 100 * i)), 1, now)
    AccountFactory(region="R", name="Poor one", mrr=Decimal(100))
    segment = segment_make("r", rule("region", "eq", "R"))
    with FakeHealth():
        reports = {r.metric.key: r for r in insights.segment_outliers(segment=segment, as_of=now)}
    health = reports["health_score"]
    assert [a.name for a in health.below] == ["Poor one"] and health.below_count == 1


def test_too_few_members_gives_no_outlier_verdict(w):
    report = insights.segment_outliers(segment=w["segments"]["big"], as_of=timezone.now())[0]
    assert report.median is None and report.above == [] and report.members == 2


def test_summary_counts_live_members_mrr_and_average_health(w):
    with FakeHealth():
        summary = insights.segment_summary(segment=w["segments"]["emea"], as_of=timezone.now())
    assert summary.members == 3 and summary.total_mrr == Decimal("54090")
    assert summary.total_arr == Decimal("649080")
    assert summary.avg_health == pytest.approx((100 + 100 + 0) / 3)


def test_health_metric_falls_back_to_the_registry_provider(w):
    with FakeHealth():
        saved = account_extensions.metric("health_score")
        account_extensions.unregister("health_score")
        try:
            metric = insights.health_metric("health_score")
        finally:
            account_extensions.metric_register(saved)
    from segments.registry import registry

    assert metric is not None and metric.expression is registry.provider("health_score")


def test_completeness_reuses_the_audit(w):
    AccountFactory(external_id="NO-REGION", region="")
    rows, computed = insights.segment_completeness(segment=w["segments"]["emea"], as_of=timezone.now())
    assert [(r.audit.field, r.audit.missing, r.audit.total) for r in rows] == [("region", 2, 7)]
    assert rows[0].filled_pct == round(100 - 100 * 2 / 7, 1)
    assert computed == []


def test_completeness_audits_stored_fields_and_names_the_computed_ones(w):
    conditions = {"match": "any", "rules": [
        {"field": "custom.tier", "op": "eq", "value": "core"},
        {"field": "subscription.plan", "op": "eq", "value": "starter"},
        {"match": "all", "rules": [{"field": "logins", "params": {"days": 30}, "op": "gt", "value": 1},
                                   {"field": "health_score", "op": "gt", "value": 50},
                                   {"field": "team", "op": "eq", "value": "SMB"}]}]}
    segment = segment_make("mixed", conditions)
    rows, computed = insights.segment_completeness(segment=segment, as_of=timezone.now())
    assert [r.audit.field for r in rows] == ["custom.tier", "subscription.plan", "team"]
    assert [(r.audit.missing, r.audit.total) for r in rows] == [(2, 6), (6, 6), (1, 6)]
    assert computed == ["Logins", "Health score"]


# Migration ---------------------------------------------------------------------------


def _log(segment, account, change, day, hour=12):
    moment = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
    MembershipChange.objects.create(segment=segment, account=account, change=change, at=moment, refreshed_at=moment)


@pytest.fixture
def moves():
    """Two segments over three days: a stays in S1, b moves S1->S2, c leaves, d arrives, e leaves and comes back."""
    s1 = Segment.objects.create(slug="s1", name="S1")
    s2 = Segment.objects.create(slug="s2", name="S2")
    a, b, c, d, e = (AccountFactory(external_id=x) for x in "abcde")
    day1, day2, day3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
    for account, segment in ((a, s1), (b, s1), (c, s2), (e, s1)):
        _log(segment, account, "joined", day1)
    _log(s1, b, "left", day2)
    _log(s2, b, "joined", day2)
    _log(s2, c, "left", day3, hour=23)
    _log(s2, d, "joined", day3)
    _log(s1, e, "left", day2)
    _log(s1, e, "joined", day3)
    return {"s1": s1, "s2": s2, "days": (day1, day2, day3)}


def test_membership_at_a_date_is_joins_minus_leaves_up_to_its_end(moves):
    day1, day2, day3 = moves["days"]
    ids = [moves["s1"].pk, moves["s2"].pk]
    at = {d: sorted((r["segment_id"], r["account_id"]) for r in insights.members_at(segment_ids=ids, day=d))
          for d in moves["days"]}
    names = dict(Account.objects.values_list("pk", "external_id"))
    shown = {d: sorted((Segment.objects.get(pk=s).slug, names[a]) for s, a in pairs) for d, pairs in at.items()}
    assert shown[day1] == [("s1", "a"), ("s1", "b"), ("s1", "e"), ("s2", "c")]
    assert shown[day2] == [("s1", "a"), ("s2", "b"), ("s2", "c")]
    assert shown[day3] == [("s1", "a"), ("s1", "e"), ("s2", "b"), ("s2", "d")]  # c left at 23:00 on day 3


def test_migration_matrix_counts_moves_between_and_out_of_the_segments(moves):
    day1, _, day3 = moves["days"]
    s1, s2 = moves["s1"], moves["s2"]
    matrix = insights.migration_matrix(segments=[s1, s2], date_from=day1, date_to=day3)
    assert matrix.cells == {(s1.pk, s1.pk): 2, (s1.pk, s2.pk): 1, (s2.pk, None): 1, (None, s2.pk): 1}
    rows = matrix.rows()
    assert [[c["count"] for c in r["cells"]] for r in rows] == [[2, 1, 0], [0, 0, 1], [0, 1, 0]]
    assert rows[0]["cells"][0]["stayed"] and not rows[0]["cells"][1]["stayed"]


@pytest.mark.parametrize(("source", "target", "expected"),
                         [("s1", "s1", ["a", "e"]), ("s1", "s2", ["b"]), ("s2", None, ["c"]), (None, "s2", ["d"]),
                          (None, None, [])])
def test_migration_accounts_are_the_accounts_of_one_cell(moves, source, target, expected):
    day1, _, day3 = moves["days"]
    chosen = [moves["s1"], moves["s2"]]
    accounts = insights.migration_accounts(segments=chosen, source=moves.get(source), target=moves.get(target),
                                           date_from=day1, date_to=day3)
    assert sorted(accounts.values_list("external_id", flat=True)) == expected


def test_a_refresh_feeds_the_matrix(w):
    """End to end: two refreshes a day apart, the change log they write, and the matrix read from it."""
    big, emea = w["segments"]["big"], w["segments"]["emea"]
    account = w["accounts"]["A-5"]
    account.mrr = Decimal(99000)
    account.save()
    tomorrow = timezone.now() + dt.timedelta(days=1)
    segment_refresh(segment=big, as_of=tomorrow)
    matrix = insights.migration_matrix(segments=[big, emea], date_from=timezone.now().date(),
                                       date_to=tomorrow.date())
    assert matrix.cell(emea.pk, big.pk) == 3 and matrix.cell(big.pk, big.pk) == 2


def test_outliers_of_a_big_segment_are_looked_for_among_its_biggest_members(monkeypatch):
    monkeypatch.setattr(insights, "OUTLIER_POPULATION", 10)
    now = timezone.now()
    for i in range(10):
        _active(AccountFactory(region="Big", mrr=Decimal(10000 + i)), 1, now)
    small = AccountFactory(region="Big", name="Small sleeper", mrr=Decimal(5))
    _active(small, 80, now)
    segment = segment_make("bigseg", rule("region", "eq", "Big"))
    assert insights.outlier_population(segment=segment).count() == 10
    report = insights.segment_outliers(segment=segment, as_of=now)[0]
    assert report.members == 10 and report.above == []  # the smallest member is out of the population


def test_a_big_segment_reads_its_mrr_and_average_health_from_the_latest_snapshot(w, monkeypatch):
    monkeypatch.setattr(insights, "LIVE_SUMMARY_MEMBERS", 1)
    SegmentSnapshot.objects.filter(segment=w["segments"]["emea"]).update(avg_health=Decimal("42.5"),
                                                                         total_mrr=Decimal("7"))
    with FakeHealth():
        summary = insights.segment_summary(segment=w["segments"]["emea"], as_of=timezone.now())
    assert (summary.members, summary.total_mrr, summary.avg_health) == (3, Decimal("7"), 42.5)


def test_heavy_insights_are_cached_until_the_next_refresh(w):
    segment = w["segments"]["emea"]
    first = insights.segment_heavy_insights(segment=segment, as_of=timezone.now())
    AccountFactory(external_id="NEW-EMEA", region="EMEA")
    segment_refresh(segment=segment)  # the new member is in a segment's overlap only after a refresh
    again = insights.segment_heavy_insights(segment=Segment.objects.get(pk=segment.pk), as_of=timezone.now())
    assert [o.common for o in first.overlaps] == [2, 1]  # big, starters
    assert again.computed_at > first.computed_at
    same = insights.segment_heavy_insights(segment=Segment.objects.get(pk=segment.pk), as_of=timezone.now())
    assert same.computed_at == again.computed_at


def test_the_matrix_by_bits_is_the_matrix_by_join_on_a_random_log():
    rng = random.Random(6)
    segments = [Segment.objects.create(slug=f"r{i}", name=f"R{i}") for i in range(5)]
    accounts = [AccountFactory() for _ in range(40)]
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(6)]
    for account in accounts:
        for segment in rng.sample(segments, rng.randint(0, 4)):
            member = False
            for day in days:  # joins and leaves alternate, as the refresh writes them
                if rng.random() < 0.4:
                    _log(segment, account, "left" if member else "joined", day, hour=rng.randint(0, 23))
                    member = not member
    for date_from, date_to in [(days[0], days[-1]), (days[2], days[2]), (days[4], days[1]), (days[1], days[3])]:
        chosen = rng.sample(segments, 3)
        by_bits = insights._migration_cells_by_bits(segments=chosen, date_from=date_from, date_to=date_to)
        by_join = insights._migration_cells_by_join(segments=chosen, date_from=date_from, date_to=date_to)
        assert by_bits == by_join and sum(by_bits.values()) > 0


def test_the_matrix_is_cached_until_a_chosen_segment_is_refreshed(moves):
    day1, _, day3 = moves["days"]
    s1, s2 = moves["s1"], moves["s2"]
    before = insights.migration_matrix(segments=[s1, s2], date_from=day1, date_to=day3).cells
    _log(s2, AccountFactory(), "joined", day3)  # written by a refresh, which also stamps the segment
    assert insights.migration_matrix(segments=[s1, s2], date_from=day1, date_to=day3).cells == before
    Segment.objects.filter(pk=s2.pk).update(last_refreshed_at=timezone.now())
    s2.refresh_from_db()
    after = insights.migration_matrix(segments=[s1, s2], date_from=day1, date_to=day3).cells
    assert after[(None, s2.pk)] == before[(None, s2.pk)] + 1


def test_the_log_s_first_and_last_day_and_the_default_days(moves):
    day1, _, day3 = moves["days"]
    assert insights.last_change_days() == (day1, day3)
    assert insights.migration_days(today=dt.date(2027, 1, 1)) == (day1, day3)
    assert insights.migration_days(date_to=dt.date(2026, 6, 1), today=dt.date(2027, 1, 1)) == (
        dt.date(2026, 5, 2), dt.date(2026, 6, 1))
    MembershipChange.objects.all().delete()
    assert insights.last_change_days() == (None, None)
