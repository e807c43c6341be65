"""render_english: every condition reads as a sentence, generated from the registry."""

import pytest

from segments.conditions import render_english
from segments.english import format_number
from tests.segments.engine_world import CUSTOM


def _all(*rules, **extra):
    return {"match": "all", "rules": list(rules), **extra}


def _any(*rules, **extra):
    return {"match": "any", "rules": list(rules), **extra}


def _one(rule, kind="account"):
    return render_english(_all(rule), kind=kind, custom=CUSTOM)


def test_the_spec_example_reads_as_in_the_spec():
    conditions = _all({"field": "mrr", "op": "gt", "value": 5000},
                      {"field": "logins", "params": {"days": 30}, "op": "gte", "value": 3})
    assert render_english(conditions, kind="account") == (
        "MRR is more than 5,000 and logins in the last 30 days is at least 3")


def test_the_disengagement_signals_read_naturally():
    conditions = _any(
        {"field": "inactive_users_pct", "params": {"days": 10}, "op": "gt", "value": 30},
        {"field": "touchpoints", "params": {"days": 120, "kind": "qbr"}, "op": "eq", "value": 0},
        {"field": "usage_change_pct", "params": {"days": 30}, "op": "lte", "value": -30},
        {"field": "active_users", "params": {"days": 15, "role": "admin"}, "op": "eq", "value": 0},
    )
    assert render_english(conditions, kind="account") == (
        "inactive users in the last 10 days is more than 30% or QBR touchpoints in the last 120 days is 0 or "
        "usage change in the last 30 days vs the previous period is at most -30% or "
        "active users with the Admin role in the last 15 days is 0")


def test_nested_groups_are_parenthesised_and_negation_reads_not():
    conditions = _all(
        {"field": "plan", "op": "eq", "value": "enterprise"},
        _any({"field": "name", "op": "contains", "value": "acme"}, {"field": "csm", "op": "eq", "value": "alice"}),
        _any({"field": "mrr", "op": "is_set"}, {"field": "arr", "op": "is_set"}, negate=True),
        _all({"field": "referenceable", "op": "is_true"}),
    )
    assert render_english(conditions, kind="account") == (
        'plan is Enterprise and (name contains "acme" or CSM is alice) and not (MRR is set or ARR is set) '
        "and referenceable is true")
    negated = _all({"field": "mrr", "op": "gt", "value": 10}, {"field": "mrr", "op": "lt", "value": 20}, negate=True)
    assert render_english(negated, kind="account") == "not (MRR is more than 10 and MRR is less than 20)"


@pytest.mark.parametrize("conditions, kind, sentence", [
    (_all(), "account", "all accounts"),
    (_any(), "account", "no accounts"),
    (_all(negate=True), "user", "no users"),
    (_any(negate=True), "user", "all users"),
    (_all({"field": "mrr", "op": "is_set"}, _any()), "account", "MRR is set and nothing"),
    (_any({"field": "mrr", "op": "is_set"}, _all()), "account", "MRR is set or everything"),
])
def test_empty_groups_say_everything_or_nothing(conditions, kind, sentence):
    assert render_english(conditions, kind=kind) == sentence


@pytest.mark.parametrize("rule, sentence", [
    ({"field": "mrr", "op": "eq", "value": 0.1}, "MRR is 0.1"),
    ({"field": "mrr", "op": "ne", "value": 1234567.5}, "MRR is not 1,234,567.5"),
    ({"field": "licenses", "op": "lt", "value": 2.5}, "licenses is less than 2.5"),
    ({"field": "licenses", "op": "lte", "value": 10**30},
     "licenses is at most 1,000,000,000,000,000,000,000,000,000,000"),
    ({"field": "employees", "op": "between", "value": [10, 50]}, "employees is between 10 and 50"),
    ({"field": "potential_arr", "op": "in", "value": [1, 2, 3]}, "potential ARR is one of 1, 2 or 3"),
    ({"field": "expansion_gap", "op": "not_in", "value": [0]}, "expansion gap is none of 0"),
    ({"field": "mrr", "op": "in", "value": []}, "MRR is one of (no values)"),
    ({"field": "mrr_rank", "op": "lte", "value": 10}, "MRR rank is at most 10"),
    ({"field": "name", "op": "eq", "value": 'Big "Co"'}, 'name is "Big \\"Co\\""'),
    ({"field": "name", "op": "ne", "value": "x"}, 'name is not "x"'),
    ({"field": "domain", "op": "contains", "value": "%"}, 'domain contains "%"'),
    ({"field": "domain", "op": "not_contains", "value": "é"}, 'domain does not contain "é"'),
    ({"field": "industry", "op": "starts_with", "value": "soft"}, 'industry starts with "soft"'),
    ({"field": "region", "op": "ends_with", "value": "EA"}, 'region ends with "EA"'),
    ({"field": "use_case", "op": "in", "value": ["a", "", "b"]}, 'use case is one of "a", "" or "b"'),
    ({"field": "team", "op": "not_in", "value": ["SMB"]}, 'team is none of "SMB"'),
    ({"field": "lifecycle_stage", "op": "ne", "value": "churned"}, "lifecycle stage is not Churned"),
    ({"field": "plan", "op": "not_in", "value": ["starter", "business"]}, "plan is none of Starter or Business"),
    ({"field": "referenceable", "op": "is_false"}, "referenceable is false"),
    ({"field": "csm", "op": "in", "value": ["alice", "bob"]}, "CSM is one of alice or bob"),
    ({"field": "csm", "op": "is_not_set"}, "CSM is not set"),
    ({"field": "renewal_date", "op": "eq", "value": "2026-06-30"}, "renewal date is on 2026-06-30"),
    ({"field": "renewal_date", "op": "before", "value": "2026-06-30"}, "renewal date is before 2026-06-30"),
    ({"field": "renewal_date", "op": "after", "value": "2026-06-30"}, "renewal date is after 2026-06-30"),
    ({"field": "renewal_date", "op": "on_or_before", "value": "2026-06-30"},
     "renewal date is on or before 2026-06-30"),
    ({"field": "renewal_date", "op": "on_or_after", "value": "2026-06-30"}, "renewal date is on or after 2026-06-30"),
    ({"field": "customer_since", "op": "between", "value": ["2026-01-01", "2026-03-31"]},
     "customer since is between 2026-01-01 and 2026-03-31"),
    ({"field": "renewal_date", "op": "in_last_days", "value": 0}, "renewal date is today"),
    ({"field": "renewal_date", "op": "in_last_days", "value": 30.0}, "renewal date is in the last 30 days"),
    ({"field": "renewal_date", "op": "in_next_days", "value": 1}, "renewal date is in the next 1 day"),
    ({"field": "renewal_date", "op": "more_than_days_ago", "value": 90}, "renewal date is more than 90 days ago"),
    ({"field": "renewal_date", "op": "more_than_days_ahead", "value": 7}, "renewal date is more than 7 days ahead"),
    ({"field": "renewal_date", "op": "in_current", "value": "quarter"}, "renewal date is in the current quarter"),
    ({"field": "health_label", "op": "eq", "value": "poor"}, "health label is Poor"),
    ({"field": "subscription.status", "op": "eq", "value": "active"}, "a subscription's status is Active"),
    ({"field": "subscription.plan", "op": "is_not_set"}, "a subscription's plan is not set"),
    ({"field": "subscription.mrr", "op": "gte", "value": 100}, "a subscription's MRR is at least 100"),
    ({"field": "users", "params": {"role": "co_admin"}, "op": "gt", "value": 1},
     "users with the Co-admin role is more than 1"),
    ({"field": "license_utilization_pct", "params": {"days": 30}, "op": "lt", "value": 50},
     "license utilization in the last 30 days is less than 50%"),
    ({"field": "usage", "params": {"days": 7, "feature": "export"}, "op": "eq", "value": 0},
     'usage of "export" in the last 7 days is 0'),
    ({"field": "days_since_last_activity", "params": {"role": "executive"}, "op": "gt", "value": 30},
     "days since last activity of users with the Executive role is more than 30"),
    ({"field": "days_since_last_touchpoint", "params": {"kind": "call"}, "op": "lt", "value": 14},
     "days since last call touchpoint is less than 14"),
    ({"field": "days_since_last_touchpoint", "op": "is_not_set"}, "days since last touchpoint is not set"),
    ({"field": "open_tickets", "op": "gte", "value": 3}, "open tickets is at least 3"),
    ({"field": "tickets", "params": {"days": 0}, "op": "gt", "value": 0}, "tickets opened today is more than 0"),
    ({"field": "segment", "op": "in", "value": ["vip"]}, 'the account is in segment "vip"'),
    ({"field": "segment", "op": "in", "value": ["a", "b"]}, 'the account is in any of the segments "a" or "b"'),
    ({"field": "segment", "op": "not_in", "value": ["vip"]}, 'the account is not in segment "vip"'),
    ({"field": "segment", "op": "not_in", "value": ["a", "b", "c"]},
     'the account is in none of the segments "a", "b" or "c"'),
    ({"field": "custom.nps", "op": "gt", "value": 8}, "NPS is more than 8"),
    ({"field": "custom.tier", "op": "in", "value": ["gold"]}, "tier is one of gold"),
    ({"field": "custom.beta", "op": "is_true"}, "beta is true"),
    ({"field": "custom.since", "op": "before", "value": "2026-01-01"}, "since is before 2026-01-01"),
    ({"field": "custom.note", "op": "starts_with", "value": "vip"}, 'note starts with "vip"'),
])
def test_every_operator_reads_as_a_phrase(rule, sentence):
    assert _one(rule) == sentence


@pytest.mark.parametrize("rule, sentence", [
    ({"field": "email", "op": "ends_with", "value": "@acme.com"}, 'email ends with "@acme.com"'),
    ({"field": "role", "op": "eq", "value": "co_admin"}, "role is Co-admin"),
    ({"field": "created_at", "op": "in_last_days", "value": 7}, "created at is in the last 7 days"),
    ({"field": "logins", "params": {"days": 30}, "op": "eq", "value": 0}, "logins in the last 30 days is 0"),
    ({"field": "segment", "op": "in", "value": ["power"]}, 'the user is in segment "power"'),
    ({"field": "account.mrr", "op": "gt", "value": 1000}, "account's MRR is more than 1,000"),
    ({"field": "account.logins", "params": {"days": 30}, "op": "gt", "value": 1},
     "account's logins in the last 30 days is more than 1"),
    ({"field": "account.custom.tier", "op": "eq", "value": "gold"}, "account's tier is gold"),
    ({"field": "account.segment", "op": "in", "value": ["vip"]}, "the user's account is in segment \"vip\""),
    ({"field": "account.subscription.status", "op": "ne", "value": "active"},
     "an account subscription's status is not Active"),
])
def test_user_segments_read_with_the_users_account(rule, sentence):
    assert _one(rule, kind="user") == sentence


def test_custom_attributes_without_definitions_show_their_key():
    conditions = _all({"field": "custom.nps", "op": "gt", "value": 3}, {"field": "custom.x", "op": "eq", "value": "y"})
    assert render_english(conditions, kind="account") == 'nps is more than 3 and x is "y"'


@pytest.mark.parametrize("junk", [None, "x", 3, [], {"rules": "x"}, _all(3, {"field": 1}, {"field": "mrr"}),
                                  _all({"field": "mrr", "op": "between", "value": 3})])
def test_rendering_never_raises(junk):
    assert isinstance(render_english(junk, kind="account"), str)


@pytest.mark.parametrize("value, text", [
    (5000, "5,000"), (5000.5, "5,000.5"), (0.1, "0.1"), (-30, "-30"), (1e300, "1e+300"), (2.5e-30, "2.5e-30"),
    (33.333333333333336, "33.333333333333336"), (True, "True"), ("x", "x"), (10**200, "a very large number"),
])
def test_numbers_are_shown_as_written(value, text):
    assert format_number(value) == text
