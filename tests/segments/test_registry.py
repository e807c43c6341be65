"""The field registry: contents, descriptions, providers, system checks, test coverage."""

import dataclasses
import datetime as dt
import json

import pytest
from django.db import transaction
from django.db.models import F

from segments.checks import check_field_registry, field_errors
from segments.conditions import matching_queryset
from segments.registry import CustomDef, Field, Registry, column, registry
from tests.segments.engine_cases import (
    ACCOUNT_CASES,
    CUSTOM_CASES,
    DATE_CASES,
    METRIC_CASES,
    USER_CASES,
    account_field_user_cases,
)
from tests.segments.engine_world import CUSTOM

SPEC_ACCOUNT_FIELDS = {
    "name": "text", "external_id": "text", "domain": "text", "industry": "text", "region": "text",
    "lifecycle_stage": "choice", "plan": "choice", "licenses": "integer", "employees": "integer", "mrr": "decimal",
    "arr": "decimal", "potential_arr": "decimal", "expansion_gap": "decimal", "renewal_date": "date",
    "customer_since": "date", "referenceable": "boolean", "use_case": "text", "health_score": "integer",
    "health_label": "choice", "mrr_rank": "integer", "csm": "user", "team": "text",
    "subscription.plan": "choice", "subscription.status": "choice", "subscription.billing_period": "choice",
    "subscription.mrr": "decimal", "subscription.trial_start_date": "date", "subscription.start_date": "date",
    "subscription.end_date": "date", "users": "integer", "active_users": "integer", "inactive_users_pct": "decimal",
    "license_utilization_pct": "decimal", "logins": "integer", "usage": "integer", "usage_change_pct": "decimal",
    "days_since_last_activity": "integer", "touchpoints": "integer", "days_since_last_touchpoint": "integer",
    "open_tickets": "integer", "tickets": "integer", "segment": "choice",
}
SPEC_USER_FIELDS = {"email": "text", "name": "text", "role": "choice", "created_at": "datetime", "logins": "integer",
                    "usage": "integer", "days_since_last_activity": "integer", "segment": "choice"}
SPEC_PARAMS = {
    "users": ["role?"], "active_users": ["days", "role?"], "inactive_users_pct": ["days", "role?"],
    "license_utilization_pct": ["days"], "logins": ["days"], "usage": ["days", "feature?"],
    "usage_change_pct": ["days", "feature?"], "days_since_last_activity": ["role?"],
    "touchpoints": ["days", "kind?"], "days_since_last_touchpoint": ["kind?"], "tickets": ["days"],
}


def _params(field):
    return [p.name + ("?" if p.optional else "") for p in field.params]


def test_account_fields_are_exactly_the_spec_fields_with_their_types():
    fields = registry.static_fields("account")
    assert {f.key: f.type for f in fields} == SPEC_ACCOUNT_FIELDS
    assert {f.key: _params(f) for f in fields if f.params} == SPEC_PARAMS


def test_user_fields_are_exactly_the_spec_fields_with_their_types():
    fields = registry.static_fields("user")
    assert {f.key: f.type for f in fields} == SPEC_USER_FIELDS
    assert {f.key: _params(f) for f in fields if f.params} == {"logins": ["days"], "usage": ["days", "feature?"]}


def test_choices_follow_the_spec():
    choices = {f.key: f.choice_values for f in registry.static_fields("account") if f.choices}
    assert choices["lifecycle_stage"] == ("trial", "onboarding", "nurturing", "renewal", "churned")
    assert choices["plan"] == choices["subscription.plan"] == ("starter", "business", "enterprise")
    assert choices["health_label"] == ("good", "average", "poor")
    assert choices["subscription.status"] == ("trial", "active", "cancelled", "expired")
    assert choices["subscription.billing_period"] == ("monthly", "quarterly", "annual")
    assert registry.get("role", kind="user").choice_values == ("admin", "co_admin", "user", "executive")
    assert registry.get("segment", kind="account").allowed_operators == ("in", "not_in")


def test_operators_come_from_the_type():
    assert registry.get("mrr", kind="account").allowed_operators == (
        "eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_set", "is_not_set")
    assert registry.get("referenceable", kind="account").allowed_operators == (
        "is_true", "is_false", "is_set", "is_not_set")
    assert "in_current" in registry.get("created_at", kind="user").allowed_operators


def test_fields_for_lists_custom_attributes_and_account_fields_for_users_as_json():
    account = registry.fields_for("account", custom_definitions=CUSTOM.values())
    keys = [f.key for f in account]
    assert keys.index("mrr_rank") < keys.index("custom.beta") < keys.index("csm")
    assert {f.key: f.type for f in account if f.key.startswith("custom.")} == {
        "custom.beta": "boolean", "custom.note": "text", "custom.nps": "decimal", "custom.since": "date",
        "custom.tier": "choice"}
    user = registry.fields_for("user", custom_definitions=CUSTOM.values())
    assert [f.key for f in user][:8] == list(SPEC_USER_FIELDS)
    assert {f.key for f in user} >= {"account.mrr", "account.custom.tier", "account.segment", "account.logins"}
    described = json.loads(json.dumps([f.describe() for f in account + user]))
    tier = next(d for d in described if d["key"] == "account.custom.tier")
    assert tier["choices"] == [{"value": "gold", "label": "gold"}, {"value": "silver", "label": "silver"}]
    assert tier["group"] == "Account: Custom attributes" and tier["operators"][:2] == ["eq", "ne"]
    logins = next(d for d in described if d["key"] == "logins")
    assert logins["params"] == [{"name": "days", "optional": False, "min": 0, "max": 36500}]
    segment = next(d for d in described if d["key"] == "segment")
    assert segment["type"] == "choice" and segment["choices_from"] == "account_segments"


def test_resolve_derives_custom_and_account_fields_and_refuses_anything_else():
    custom = {"nps": CustomDef("nps", "number")}
    assert registry.resolve("custom.nps", kind="account", custom=custom).type == "decimal"
    assert registry.resolve("account.custom.nps", kind="user", custom=custom).key == "account.custom.nps"
    assert registry.resolve("account.subscription.mrr", kind="user", custom=custom).type == "decimal"
    for key in ("custom.nps", "account.account.mrr", "account.", "csm"):
        assert registry.resolve(key, kind="user", custom=custom) is None
    for key in ("custom.zz", "account.mrr", None, 3, ["mrr"], "mrr__gt"):
        assert registry.resolve(key, kind="account", custom=custom) is None


def test_a_duplicate_key_is_refused():
    fresh = Registry()
    fresh.register(registry.get("mrr", kind="account"))
    with pytest.raises(ValueError, match="already registered"):
        fresh.register(registry.get("mrr", kind="account"))
    with pytest.raises(ValueError, match="unknown segment kind"):
        fresh.register(registry.get("mrr", kind="account"), kind="team")


def test_providers_are_only_for_declared_fields_and_only_once():
    fresh = Registry()
    with pytest.raises(ValueError, match="not a provided field"):
        fresh.register_provider("mrr", lambda *, as_of: F("mrr"))
    fresh.declare_provided("health_score")
    fresh.register_provider("health_score", lambda *, as_of: F("employees"))
    with pytest.raises(ValueError, match="already registered"):
        fresh.register_provider("health_score", lambda *, as_of: F("employees"))
    assert fresh.provider("health_score") is not None


@pytest.mark.django_db
def test_a_registered_provider_gives_the_sql_of_health_score(monkeypatch):
    from tests.factories import AccountFactory

    AccountFactory(external_id="A", employees=70)
    AccountFactory(external_id="B", employees=None)
    seen = []

    def provider(*, as_of):
        seen.append(as_of)
        return F("employees")

    monkeypatch.setitem(registry._providers, "health_score", provider)
    as_of = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rule = {"match": "all", "rules": [{"field": "health_score", "op": "gte", "value": 70}]}
    assert list(matching_queryset(rule, kind="account", as_of=as_of).values_list("external_id", flat=True)) == ["A"]
    assert seen == [as_of]


def test_the_registry_passes_its_system_checks():
    assert check_field_registry() == []


def test_the_system_checks_report_a_broken_field():
    broken = dataclasses.replace(registry.get("plan", kind="account"), key="Plan__x", label=" ", group="Misc",
                                 choices=(("Gold", "Gold"), ("Gold", "Gold")), operators=("gt",))
    codes = {e.id for e in field_errors(broken, kind="account")}
    assert codes == {"segments.E001", "segments.E003", "segments.E004", "segments.E007", "segments.E009"}
    text = Field(key="custom.x", label="X", group="Account", type="text", operand=column("name", type_="text"),
                 choices=(("a", "A"),))
    assert {e.id for e in field_errors(text, kind="account")} == {"segments.E002", "segments.E006"}


def _covered(cases, kind):
    return {(kind, field, op) for field, op, *_ in cases}


def test_every_registry_field_has_tests_for_each_of_its_operators():
    """Like NetBox's test_missing_filters: a new field or operator without a test fails here."""
    covered = (_covered(ACCOUNT_CASES + DATE_CASES + METRIC_CASES + CUSTOM_CASES, "account")
               | _covered(USER_CASES + account_field_user_cases(), "user"))
    required = {
        (kind, f.key, op)
        for kind in ("account", "user")
        for f in registry.fields_for(kind, custom_definitions=CUSTOM.values())
        for op in f.allowed_operators
    }
    assert {c.type for c in CUSTOM.values()} == {"text", "number", "date", "boolean", "choice"}
    assert sorted(required - covered) == []


@pytest.mark.django_db
def test_matching_queryset_loads_the_custom_definitions_itself():
    from tests.factories import AccountFactory, CustomAttributeFactory

    CustomAttributeFactory(key="nps", type="number")
    AccountFactory(external_id="A", custom={"nps": 8})
    AccountFactory(external_id="B", custom={"nps": 6})
    rule = {"match": "all", "rules": [{"field": "custom.nps", "op": "gt", "value": 7}]}
    with transaction.atomic():
        found = matching_queryset(rule, kind="account", as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        assert list(found.values_list("external_id", flat=True)) == ["A"]


@pytest.mark.django_db
def test_huge_numbers_in_lists_and_comparisons_do_not_break_the_query():
    from tests.factories import AccountFactory, CustomAttributeFactory

    CustomAttributeFactory(key="nps", type="number")
    AccountFactory(external_id="A", custom={"nps": 8}, licenses=3)
    rules = [
        {"field": "custom.nps", "op": "in", "value": [10**400, 8]},
        {"field": "custom.nps", "op": "lt", "value": 10**400},
        {"field": "licenses", "op": "in", "value": [10**400, 3, 1e308]},
        {"field": "mrr_rank", "op": "lte", "value": 10**400},
        {"field": "inactive_users_pct", "params": {"days": 1}, "op": "not_in", "value": [10**400]},
        {"field": "mrr_rank", "op": "gte", "value": 10**400},
    ]
    as_of = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for rule in rules[:4]:
        found = matching_queryset({"match": "all", "rules": [rule]}, kind="account", as_of=as_of)
        assert list(found.values_list("external_id", flat=True)) == ["A"], rule
    for rule in rules[4:]:
        assert matching_queryset({"match": "all", "rules": [rule]}, kind="account", as_of=as_of).count() == 0, rule


@pytest.mark.django_db
def test_the_field_catalog_is_json_with_the_custom_attributes():
    from segments.conditions import field_catalog
    from tests.factories import CustomAttributeFactory

    CustomAttributeFactory(key="tier", type="choice", choices=["gold", "silver"], label="Tier")
    catalog = json.loads(json.dumps(field_catalog("account")))
    tier = next(f for f in catalog if f["key"] == "custom.tier")
    assert tier == {"key": "custom.tier", "label": "Tier", "group": "Custom attributes", "type": "choice",
                    "operators": ["eq", "ne", "in", "not_in", "is_set", "is_not_set"],
                    "choices": [{"value": "gold", "label": "gold"}, {"value": "silver", "label": "silver"}],
                    "params": [], "unit": "", "help": ""}
    assert any(f["key"] == "account.custom.tier" for f in field_catalog("user"))
