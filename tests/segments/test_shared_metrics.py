"""The full refresh's shared metric pass gives exactly the per-segment answers.

Random worlds and conditions (the property test's strategies, rules biased
towards the shared metrics: logins, usage, usage_change_pct,
days_since_last_activity, users, active_users, inactive_users_pct,
license_utilization_pct, also through `account.` in user segments) are
evaluated both ways: standalone (each metric its own subquery) and through
a MetricSource built for all of them at once. Both must equal the
independent evaluator of the spec.
"""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Account, EndUser, Event
from segments.conditions import ValidationContext, compile_conditions, matching_queryset, validate
from segments.models import AccountMembership, Segment
from segments.registry import registry
from segments.services import segment_refresh, segments_refresh_all
from segments.shared_metrics import MetricSource, shared_metrics
from tests.segments.engine_world import CUSTOM
from tests.segments.test_property import PROPERTY_SETTINGS, Evaluator, _store, groups, rule_for_key, rules, worlds

SHARED_KEYS = {"logins", "usage", "usage_change_pct", "days_since_last_activity", "users", "active_users",
               "inactive_users_pct", "license_utilization_pct"}
DAYS = [0, 1, 7, 30, 31, 365]


@st.composite
def shared_rules(draw, kind):
    keys = sorted(SHARED_KEYS & {f.key for f in registry.static_fields(kind)})
    if kind == "user":
        keys += ["account." + k for k in sorted(SHARED_KEYS)]
    if kind == "account":
        keys = [k for k in keys if k not in {"logins", "usage"}] + keys
    key = draw(st.sampled_from(keys))
    return rule_for_key(draw, key=key, kind=kind, days=DAYS)


def _conditions(kind):
    leaf = st.one_of(shared_rules(kind), shared_rules(kind), rules(kind))
    single = st.builds(lambda rule, negate: {"match": "all", "negate": negate, "rules": [rule]}, leaf, st.booleans())
    return st.one_of(single, single, groups(kind))


def _both_ways(world, conditions_list, kind):
    with transaction.atomic():
        _store(world)
        as_of = world["as_of"]
        context = ValidationContext.load()
        evaluator = Evaluator(world)
        for conditions in conditions_list:
            assert validate(conditions, kind=kind, context=context) == [], conditions
        compiles = [lambda source, c=c: compile_conditions(c, kind=kind, as_of=as_of, custom=CUSTOM, metrics=source)
                    for c in conditions_list]
        with shared_metrics(as_of=as_of, compiles=compiles) as source:
            assert source is not None
            for conditions in conditions_list:
                alone = matching_queryset(conditions, kind=kind, as_of=as_of)
                shared = matching_queryset(conditions, kind=kind, as_of=as_of, metrics=source)
                expected = evaluator.matches(conditions, kind)
                assert set(alone.values_list("external_id", flat=True)) == expected, conditions
                assert set(shared.values_list("external_id", flat=True)) == expected, conditions
        transaction.set_rollback(True)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(world=worlds(), kind=st.sampled_from(["account", "user"]), data=st.data())
def test_shared_metrics_select_what_each_segment_selects_alone(world, kind, data):
    conditions_list = data.draw(st.lists(_conditions(kind), min_size=4, max_size=12))
    _both_ways(world, conditions_list, kind)


# Hand-checked cases -------------------------------------------------------------------------

AS_OF = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _rule(field, op, value, **params):
    rule = {"field": field, "op": op, "value": value}
    return {"match": "all", "rules": [{**rule, "params": params} if params else rule]}


@pytest.fixture
def three_accounts():
    busy = Account.objects.create(external_id="busy", name="Busy", licenses=2)
    fading = Account.objects.create(external_id="fading", name="Fading")
    Account.objects.create(external_id="silent", name="Silent")
    user = EndUser.objects.create(external_id="u1", account=busy, role="admin")
    Event.objects.bulk_create([
        Event(account=busy, user=user, name="export", quantity=3, occurred_at=AS_OF - DAY),
        Event(account=busy, user=None, name="login", quantity=1, occurred_at=AS_OF),
        Event(account=fading, name="export", quantity=4, occurred_at=AS_OF - 10 * DAY),
        Event(account=fading, name="export", quantity=1, occurred_at=AS_OF - 2 * DAY),
        Event(account=busy, name="export", quantity=9, occurred_at=AS_OF + DAY),  # after as_of: does not exist
    ])


def _selected(conditions, source=None):
    return set(matching_queryset(conditions, kind="account", as_of=AS_OF, metrics=source)
               .values_list("external_id", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize(("conditions", "expected"), [
    (_rule("usage", "eq", 0, days=7), {"silent"}),  # no row in the shared table: 0
    (_rule("usage", "in", [0, 3], days=7), {"silent", "busy"}),
    (_rule("usage", "not_in", [1], days=7), {"silent", "busy"}),
    (_rule("usage", "gte", 1, days=7), {"busy", "fading"}),
    (_rule("usage", "lt", 2, days=7), {"silent", "fading"}),
    (_rule("usage", "gte", 2, days=7), {"busy"}),
    (_rule("usage", "between", [1, 1], days=7), {"fading"}),
    (_rule("usage", "eq", 5, days=30, feature="export"), {"fading"}),
    (_rule("logins", "gt", 0, days=1), {"busy"}),
    (_rule("usage_change_pct", "lte", -75, days=7), {"fading"}),  # 1 this week, 4 the week before: -75%
    (_rule("usage_change_pct", "ne", 0, days=7), {"fading"}),  # missing for the others (no previous usage)
    (_rule("days_since_last_activity", "eq", 2), {"fading"}),
    (_rule("days_since_last_activity", "lte", 0), {"busy"}),
    (_rule("users", "eq", 0), {"fading", "silent"}),
    (_rule("active_users", "eq", 1, days=7), {"busy"}),
    (_rule("active_users", "eq", 0, days=7, role="user"), {"busy", "fading", "silent"}),
    (_rule("inactive_users_pct", "eq", 0, days=7), {"busy"}),  # missing without users
    (_rule("license_utilization_pct", "eq", 50, days=7), {"busy"}),  # 1 of 2 licenses; missing without
    (_rule("license_utilization_pct", "eq", 0, days=7), set()),
    ({"match": "all", "rules": [{"field": "days_since_last_activity", "op": "is_not_set"}]}, {"silent"}),
])
def test_shared_metrics_keep_the_missing_value_rules(three_accounts, conditions, expected):
    source = MetricSource(as_of=AS_OF)
    compile_conditions(conditions, kind="account", as_of=AS_OF, custom={}, metrics=source)
    source.build()
    try:
        assert _selected(conditions, source) == expected
        assert _selected(conditions) == expected
    finally:
        source.drop()


@pytest.mark.django_db
@pytest.mark.parametrize(("conditions", "shared"), [
    (_rule("usage", "gte", 2, days=7), True),
    (_rule("usage_change_pct", "lt", 0, days=7), True),
    (_rule("days_since_last_activity", "gt", 3), True),
    (_rule("usage", "gte", 1, days=7), True),  # the latest event of that name
    (_rule("logins", "eq", 0, days=7), True),
    (_rule("usage", "gte", 0, days=7), False),  # every account: no table at all
    (_rule("days_since_last_activity", "gt", 3, role="admin"), False),
    (_rule("active_users", "gte", 2, days=7), True),
    (_rule("inactive_users_pct", "gt", 10, days=7, role="admin"), True),
    (_rule("license_utilization_pct", "lt", 50, days=7), True),
])
def test_only_the_values_that_need_a_scan_are_shared(conditions, shared):
    source = MetricSource(as_of=AS_OF)
    compile_conditions(conditions, kind="account", as_of=AS_OF, custom={}, metrics=source)
    source.build()
    try:
        sql = str(matching_queryset(conditions, kind="account", as_of=AS_OF, metrics=source).query)
        assert ("csbox_shared_" in sql) is shared
    finally:
        source.drop()


@pytest.mark.django_db
def test_a_full_refresh_equals_refreshing_each_segment_alone(three_accounts):
    specs = {"quiet": _rule("usage", "eq", 0, days=7), "declining": _rule("usage_change_pct", "lt", 0, days=7),
             "idle": _rule("days_since_last_activity", "gte", 2), "big": _rule("mrr", "gt", 5)}
    segments = [Segment.objects.create(slug=slug, name=slug, conditions=c, order=i)
                for i, (slug, c) in enumerate(specs.items())]
    segments_refresh_all(as_of=AS_OF)
    together = set(AccountMembership.objects.values_list("segment__slug", "account__external_id"))
    AccountMembership.objects.all().delete()
    for segment in segments:
        segment_refresh(segment=segment, as_of=AS_OF)
    alone = set(AccountMembership.objects.values_list("segment__slug", "account__external_id"))
    assert together == alone == {("quiet", "silent"), ("declining", "fading"),
                                 ("idle", "fading")}


@pytest.mark.django_db
def test_the_shared_tables_are_dropped_after_the_run(three_accounts):
    Segment.objects.create(slug="quiet", name="quiet", conditions=_rule("usage", "eq", 0, days=7))
    segments_refresh_all(as_of=AS_OF)
    assert Segment.objects.get(slug="quiet").member_count == 1
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM csbox_shared_sums_account")
