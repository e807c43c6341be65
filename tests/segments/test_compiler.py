"""matching_queryset: every operator of every field against a hand-checked world.

Each case also checks that the negated rule matches exactly the complement:
rules are definite true/false (missing values included), so NOT is plain NOT.
"""

import pytest
from django.db import transaction

from segments.conditions import ValidationContext, matching_queryset, validate
from tests.segments.engine_cases import (
    ACCOUNT_CASES,
    CUSTOM_CASES,
    DATE_CASES,
    METRIC_CASES,
    NO,
    USER_CASES,
    USERS_AT_AS_OF,
    account_field_user_cases,
)
from tests.segments.engine_world import ALL, AS_OF, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Build the world once per module inside a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        objects = build_world()
        context = ValidationContext.load()
        yield objects, context
        transaction.set_rollback(True)


def _rule(field, op, value, params):
    rule = {"field": field, "op": op}
    if value is not NO:
        rule["value"] = value
    if params:
        rule["params"] = params
    return rule


def _ids(qs):
    return set(qs.values_list("external_id", flat=True))


def _check(world, kind, case, everyone):
    field, op, value, params, expected = case
    rule = _rule(field, op, value, params)
    conditions = {"match": "all", "rules": [rule]}
    assert validate(conditions, kind=kind, context=world[1]) == []
    assert _ids(matching_queryset(conditions, kind=kind, as_of=AS_OF)) == set(expected)
    negated = {"match": "any", "negate": True, "rules": [rule]}
    assert _ids(matching_queryset(negated, kind=kind, as_of=AS_OF)) == everyone - set(expected)


def _case_id(case):
    field, op, value, params, _ = case
    shown = "" if value is NO else repr(value)[:40]
    return f"{field}-{op}-{shown}-{params or ''}"


@pytest.mark.django_db
@pytest.mark.parametrize("case", ACCOUNT_CASES + DATE_CASES + METRIC_CASES + CUSTOM_CASES, ids=_case_id)
def test_account_rule_matches_exactly_the_expected_accounts(world, case):
    _check(world, "account", case, ALL)


@pytest.mark.django_db
@pytest.mark.parametrize("case", USER_CASES, ids=_case_id)
def test_user_rule_matches_exactly_the_expected_users(world, case):
    _check(world, "user", case, USERS_AT_AS_OF)


@pytest.mark.django_db
@pytest.mark.parametrize("case", account_field_user_cases(), ids=_case_id)
def test_account_field_in_a_user_segment_applies_to_the_users_account(world, case):
    _check(world, "user", case, USERS_AT_AS_OF)
