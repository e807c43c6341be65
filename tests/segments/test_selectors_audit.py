"""Data-completeness audit: the share of accounts (or users) where each field a condition uses is missing."""

import datetime as dt
from decimal import Decimal

import pytest

from segments.selectors_audit import conditions_completeness
from tests.factories import AccountFactory, CustomAttributeFactory, EndUserFactory, EventFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)


def _audit(*rules, kind="account"):
    return conditions_completeness(conditions={"match": "all", "rules": list(rules)}, kind=kind, as_of=AS_OF)


def test_text_number_and_custom_fields_report_their_gaps():
    CustomAttributeFactory(key="nps", label="NPS", type="number")
    AccountFactory(industry="Retail", mrr=Decimal("10"), custom={"nps": 8})
    AccountFactory(industry="", mrr=None)
    AccountFactory(industry="", mrr=Decimal("5"))
    AccountFactory(industry="Bank", mrr=Decimal("5"))
    audit = {a.field: a for a in _audit({"field": "industry", "op": "eq", "value": "x"},
                                        {"field": "mrr", "op": "gt", "value": 1},
                                        {"field": "custom.nps", "op": "gt", "value": 1})}
    assert (audit["industry"].missing, audit["industry"].total, audit["industry"].missing_pct) == (2, 4, 50.0)
    assert audit["industry"].sentence == "Industry is empty for 50% of accounts"
    assert audit["mrr"].sentence == "MRR is missing for 25% of accounts"
    assert audit["custom.nps"].missing == 3 and audit["custom.nps"].label == "NPS"


def test_each_field_is_audited_once_per_params_in_document_order():
    AccountFactory()
    audit = _audit({"field": "mrr", "op": "gt", "value": 1},
                   {"match": "any", "rules": [{"field": "mrr", "op": "lt", "value": 9},
                                              {"field": "logins", "params": {"days": 7}, "op": "gt", "value": 1},
                                              {"field": "logins", "params": {"days": 30}, "op": "gt", "value": 1}]})
    assert [(a.field, a.params) for a in audit] == [("mrr", {}), ("logins", {"days": 7}), ("logins", {"days": 30})]


def test_metrics_missing_when_undefined_counts_never():
    with_activity = AccountFactory()
    AccountFactory()
    EventFactory(account=with_activity, occurred_at=AS_OF - dt.timedelta(days=1))
    audit = {a.field: a for a in _audit({"field": "days_since_last_activity", "op": "gt", "value": 1},
                                        {"field": "logins", "params": {"days": 30}, "op": "gt", "value": 1})}
    assert audit["days_since_last_activity"].missing == 1
    assert audit["logins"].missing == 0


def test_subscription_fields_count_accounts_with_no_subscription_carrying_the_value():
    SubscriptionFactory(plan="business")
    SubscriptionFactory(plan="")
    AccountFactory()
    (audit,) = _audit({"field": "subscription.plan", "op": "eq", "value": "business"})
    assert (audit.missing, audit.total) == (2, 3)
    assert audit.sentence == "Subscription plan is set on no subscription for 67% of accounts"


def test_invalid_rules_and_segment_rules_are_left_out():
    AccountFactory()
    audit = _audit({"field": "nope", "op": "eq", "value": 1},
                   {"field": "logins", "params": {"days": -1}, "op": "gt", "value": 1},
                   {"field": "segment", "op": "in", "value": ["x"]})
    assert audit == []
    assert conditions_completeness(conditions="garbage", kind="account", as_of=AS_OF) == []


def test_user_segments_audit_users():
    EndUserFactory(name="Ada")
    EndUserFactory(name="")
    (audit,) = _audit({"field": "name", "op": "eq", "value": "Ada"}, kind="user")
    assert audit.sentence == "Name is empty for 50% of users"


def test_one_aggregate_query_whatever_the_number_of_fields(django_assert_num_queries):
    AccountFactory.create_batch(3)
    from segments.conditions import ValidationContext

    context = ValidationContext.load()
    rules = [{"field": key, "op": "is_set"} for key in ("name", "industry", "mrr", "arr", "renewal_date", "csm")]
    with django_assert_num_queries(1):
        audit = conditions_completeness(conditions={"match": "all", "rules": rules}, kind="account", as_of=AS_OF,
                                        context=context)
    assert len(audit) == 6


def test_no_accounts_gives_a_clear_sentence():
    (audit,) = _audit({"field": "mrr", "op": "gt", "value": 1})
    assert (audit.total, audit.missing_pct, audit.sentence) == (0, 0.0, "there are no accounts yet")
