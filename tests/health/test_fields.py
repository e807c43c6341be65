"""The fields a parameter may use, and their values: they agree with the condition language."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account
from health.fields import EXCLUDED_KEYS, field_value_expression, health_field, health_fields
from segments.conditions import custom_definitions, matching_queryset
from segments.registry import CustomDef, registry
from tests.factories import (
    AccountFactory,
    CustomAttributeFactory,
    EndUserFactory,
    EventFactory,
    TicketFactory,
    TouchpointFactory,
)
from tests.health.conftest import AS_OF

pytestmark = pytest.mark.django_db

NPS = CustomDef("nps", "number", (), "NPS")
SAMPLE_PARAMS = [{"days": 30}, {"days": 7, "role": "admin"}, {"days": 30, "feature": "reports"},
                 {"days": 90, "kind": "qbr"}, {"kind": "qbr"}, {"role": "admin"}, {"days": 0}, {}]


def test_every_numeric_account_field_is_offered_except_the_documented_exclusions():
    numeric = {f.key for f in registry.fields_for("account", custom_definitions=[NPS]) if f.value_type == "number"}
    offered = {f.key for f in health_fields(custom=[NPS])}
    assert numeric - offered == EXCLUDED_KEYS | {"subscription.mrr"}
    assert {"license_utilization_pct", "usage", "days_since_last_touchpoint", "open_tickets", "usage_change_pct",
            "custom.nps"} <= offered


@pytest.mark.parametrize("key", ["plan", "name", "renewal_date", "referenceable", "segment", "csm", "mrr_rank",
                                 "health_score", "subscription.mrr", "custom.nps", "password", None, 3])
def test_other_fields_are_refused(key):
    assert health_field(key, custom={}) is None


def _world():
    """Accounts covering every kind of value: set, missing, window and days-since boundaries."""
    CustomAttributeFactory(key="nps", type="number")
    full = AccountFactory(licenses=10, employees=50, mrr=Decimal("1234.56"), potential_arr=Decimal("20000"),
                          custom={"nps": 8})
    admin = EndUserFactory(account=full, role="admin", created_at=AS_OF - dt.timedelta(days=100))
    user = EndUserFactory(account=full, role="user")
    EndUserFactory(account=full, role="admin", created_at=AS_OF + dt.timedelta(days=1))  # does not exist yet
    for days_ago, who, name, quantity in ((1, admin, "login", 2), (5, user, "reports", 7), (20, admin, "reports", 3),
                                          (40, user, "reports", 4), (45, None, "api", 100), (-1, user, "login", 9)):
        EventFactory(account=full, user=who, name=name, quantity=quantity,
                     occurred_at=AS_OF - dt.timedelta(days=days_ago))
    TouchpointFactory(account=full, kind="qbr", occurred_at=AS_OF - dt.timedelta(days=40, hours=12))
    TouchpointFactory(account=full, kind="call", occurred_at=AS_OF - dt.timedelta(days=3))
    TicketFactory(account=full, opened_at=AS_OF - dt.timedelta(days=2), status="open")
    TicketFactory(account=full, opened_at=AS_OF - dt.timedelta(days=50), status="closed",
                  closed_at=AS_OF - dt.timedelta(days=49))
    AccountFactory(licenses=None, mrr=None, custom={"nps": "n/a"})  # missing almost everywhere
    for offset in (dt.timedelta(0), dt.timedelta(microseconds=1), -dt.timedelta(microseconds=1)):
        boundary = AccountFactory(licenses=0)
        EventFactory(account=boundary, occurred_at=AS_OF - dt.timedelta(days=3) + offset)
        TouchpointFactory(account=boundary, occurred_at=AS_OF - dt.timedelta(days=3) + offset)


def _cases():
    for field_ in health_fields(custom=[NPS]):
        names = {p.name for p in field_.params}
        required = {p.name for p in field_.params if not p.optional}
        for params in SAMPLE_PARAMS:
            if set(params) <= names and required <= set(params):
                yield field_, params


def _condition(key, params, op, value=None):
    rule = {"field": key, "op": op, **({"params": params} if params else {})}
    if op not in ("is_set", "is_not_set"):
        rule["value"] = value
    return {"match": "all", "rules": [rule]}


def test_values_agree_with_the_condition_language_for_every_field_and_account():
    _world()
    custom = custom_definitions()
    checked = 0
    for field_, params in _cases():
        expression = field_value_expression(key=field_.key, params=params, as_of=AS_OF, custom=custom)
        values = dict(Account.objects.annotate(v=expression).values_list("pk", "v"))
        for pk, value in values.items():
            if value is None:
                rule = _condition(field_.key, params, "is_not_set")
            elif field_.type == "integer":
                assert value == int(value), (field_.key, params, value)
                rule = _condition(field_.key, params, "eq", int(value))
            else:
                rule = {"match": "all", "rules": [_condition(field_.key, params, "gte", value)["rules"][0],
                                                  _condition(field_.key, params, "lte", value)["rules"][0]]}
            matched = matching_queryset(rule, kind="account", as_of=AS_OF, custom=custom).filter(pk=pk).exists()
            assert matched, (field_.key, params, pk, value)
            checked += 1
    assert checked > 100


def _value(key, params, account):
    expression = field_value_expression(key=key, params=params, as_of=AS_OF, custom=custom_definitions())
    return Account.objects.filter(pk=account.pk).annotate(v=expression).values_list("v", flat=True).get()


@pytest.mark.parametrize(("offset", "days"), [(dt.timedelta(0), 3), (dt.timedelta(microseconds=1), 2),
                                              (-dt.timedelta(microseconds=1), 3), (dt.timedelta(hours=71), 0)])
def test_days_since_is_whole_days_rounded_down(offset, days):
    account = AccountFactory()
    EventFactory(account=account, occurred_at=AS_OF - dt.timedelta(days=3) + offset)
    EventFactory(account=account, occurred_at=AS_OF + dt.timedelta(days=1))  # after as_of: does not exist
    assert _value("days_since_last_activity", {}, account) == days


def test_known_values():
    account = AccountFactory(licenses=3)
    users = [EndUserFactory(account=account) for _ in range(2)]
    EventFactory(account=account, user=users[0], occurred_at=AS_OF - dt.timedelta(days=1))
    TouchpointFactory(account=account, kind="qbr", occurred_at=AS_OF - dt.timedelta(days=91, hours=1))
    assert _value("license_utilization_pct", {"days": 30}, account) == pytest.approx(100 / 3)
    assert _value("inactive_users_pct", {"days": 30}, account) == 50
    assert _value("days_since_last_touchpoint", {"kind": "qbr"}, account) == 91
    assert _value("days_since_last_touchpoint", {"kind": "call"}, account) is None
    assert _value("mrr", {}, account) == 1000


def test_an_invalid_field_raises():
    with pytest.raises(ValueError, match="not a numeric field"):
        field_value_expression(key="plan", params={}, as_of=AS_OF, custom={})
