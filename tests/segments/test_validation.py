"""validate(): every problem at once, with a path and a sentence; never raises."""

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segments.conditions import (
    ConditionError,
    ConditionsInvalid,
    ValidationContext,
    compile_conditions,
    referenced_segments,
    validate,
)
from segments.models import Segment
from segments.registry import CustomDef
from tests.factories import CustomAttributeFactory, StaffFactory

CONTEXT = ValidationContext(
    custom={"nps": CustomDef("nps", "number"), "tier": CustomDef("tier", "choice", ("gold", "silver"))},
    usernames=frozenset({"alice", "bob"}),
    segments={
        "a": ("account", frozenset({"b"})),
        "b": ("account", frozenset()),
        "c": ("account", frozenset({"a"})),
        "users": ("user", frozenset()),
    },
    slug="b",
)


def _group(*rules, **extra):
    return {"match": "all", "rules": list(rules), **extra}


def _errors(conditions, kind="account", context=CONTEXT):
    return [(e.path, e.message) for e in validate(conditions, kind=kind, context=context)]


def _assert_errors(conditions, expected, kind="account", context=CONTEXT):
    """`expected`: (path, a fragment of the message) for every error, in order."""
    errors = _errors(conditions, kind, context)
    assert [path for path, _ in errors] == [path for path, _ in expected], errors
    for (_, message), (_, fragment) in zip(errors, expected, strict=True):
        assert fragment in message, (message, fragment)


def test_valid_conditions_have_no_errors():
    conditions = _group(
        {"field": "mrr", "op": "gt", "value": 5000},
        {"field": "logins", "params": {"days": 30}, "op": "gte", "value": 3},
        {"match": "any", "negate": True, "rules": [
            {"field": "custom.nps", "op": "between", "value": [7, 10]},
            {"field": "segment", "op": "in", "value": ["b"]},
            {"field": "csm", "op": "in", "value": ["alice", "bob"]},
            {"field": "name", "op": "in", "value": ["", "x"]},
            {"field": "renewal_date", "op": "in_current", "value": "quarter"},
            {"field": "mrr", "op": "is_not_set"},
        ]},
    )
    assert _errors(conditions, context=ValidationContext(usernames=CONTEXT.usernames, custom=CONTEXT.custom,
                                                         segments=CONTEXT.segments)) == []


@pytest.mark.parametrize("conditions", [None, "x", 3, [], True])
def test_the_top_level_must_be_a_group(conditions):
    _assert_errors(conditions, [("", "conditions must be a group")])


def test_an_empty_all_group_is_valid_and_the_top_level_needs_match_and_rules():
    assert _errors({"match": "all", "rules": []}) == []
    assert _errors({"match": "any", "rules": [], "negate": False}) == []
    _assert_errors({}, [("", 'missing "match"'), ("", 'missing "rules"')])


def test_group_keys_and_types_are_checked():
    _assert_errors({"match": "some", "rules": {}, "negate": 1, "extra": 2}, [
        ("", 'unknown key "extra"; a group has only "match", "negate", "rules"'),
        ("match", 'must be "all" or "any", not "some"'),
        ("negate", "must be true or false, not 1"),
        ("rules", "must be a list of rules and groups, not an object"),
    ])


def test_rule_keys_are_checked_and_a_node_must_be_a_rule_or_a_group():
    _assert_errors(_group({"field": "mrr", "op": "is_set", "note": "x"}, 3, {"foo": 1}), [
        ("rules[0]", 'unknown key "note"; a rule has only "field", "op", "value", "params"'),
        ("rules[1]", "must be a rule or a group (an object), not a number"),
        ("rules[2]", "must be a rule"),
    ])


@pytest.mark.parametrize("field", [
    "csm__password", "_connector", "_negated", "account__csm__password", "mrr__gt", "pk", "id", "custom",
    "custom__nps", "csm.password", "subscriptions__mrr", "account.mrr", "MRR", " mrr", "segment__slug",
])
def test_orm_paths_and_unknown_fields_are_rejected(field):
    conditions = _group({"field": field, "op": "eq", "value": 1})
    _assert_errors(conditions, [("rules[0].field", f"unknown field {json.dumps(field)} for account segments")])
    with pytest.raises(ConditionsInvalid):
        compile_conditions(conditions, kind="account", as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                           custom=CONTEXT.custom)


@pytest.mark.parametrize("field", ["custom.__class__", "custom.", "custom.nps.x", "custom.NPS", "custom.zzz"])
def test_unknown_custom_attributes_are_rejected(field):
    _assert_errors(_group({"field": field, "op": "is_set"}), [("rules[0].field", "unknown custom attribute")])


@pytest.mark.parametrize("field", ["account.csm__password", "account.account.mrr", "account.", "csm", "mrr"])
def test_user_segments_reject_account_paths_and_bare_account_fields(field):
    _assert_errors(_group({"field": field, "op": "is_set"}), [("rules[0].field", "for user segments")], kind="user")


def test_field_and_op_must_be_strings_and_present():
    _assert_errors(_group({"op": "eq"}, {"field": ["mrr"], "op": "eq"}, {"field": "mrr"}, {"field": "mrr", "op": 3}), [
        ("rules[0]", 'missing "field"'),
        ("rules[1].field", "must be a field key (a string), not a list"),
        ("rules[2]", 'missing "op": one of eq, ne, gt'),
        ("rules[3].op", 'operator 3 is not allowed for "mrr"'),
    ])


@pytest.mark.parametrize("field, op", [
    ("name", "gt"), ("mrr", "contains"), ("plan", "gt"), ("referenceable", "eq"), ("renewal_date", "gt"),
    ("csm", "contains"), ("segment", "eq"), ("segment", "is_set"), ("mrr", "__gt"), ("mrr", "exact"),
    ("mrr", "gt; DROP TABLE accounts_account"),
])
def test_operators_not_allowed_for_the_type_are_rejected(field, op):
    _assert_errors(_group({"field": field, "op": op, "value": 1}), [("rules[0].op", "is not allowed for")])


def test_params_are_required_typed_and_known():
    _assert_errors(_group(
        {"field": "logins", "op": "gt", "value": 1},
        {"field": "logins", "params": {"days": True, "__init__": 1}, "op": "gt", "value": 1},
        {"field": "logins", "params": {"days": 36501}, "op": "gt", "value": 1},
        {"field": "logins", "params": {"days": 2.5}, "op": "gt", "value": 1},
        {"field": "mrr", "params": {"days": 30}, "op": "gt", "value": 1},
        {"field": "usage", "params": {"days": 30.0, "feature": "login"}, "op": "gt", "value": 1},
        {"field": "usage", "params": {"days": 30, "feature": ""}, "op": "gt", "value": 1},
        {"field": "usage", "params": {"days": 30, "feature": "x" * 101}, "op": "gt", "value": 1},
        {"field": "touchpoints", "params": {"days": -1, "kind": "visit"}, "op": "gt", "value": 1},
        {"field": "active_users", "params": {"days": 7, "role": "Admin"}, "op": "gt", "value": 1},
        {"field": "logins", "params": None, "op": "gt", "value": 1},
    ), [
        ("rules[0].params.days", 'missing: "logins" needs "days" (a whole number of days from 0 to 36500)'),
        ("rules[1].params", 'unknown parameter "__init__" for "logins"; it takes "days"'),
        ("rules[1].params.days", '"days" must be a whole number of days from 0 to 36500, not true'),
        ("rules[2].params.days", "not 36501"),
        ("rules[3].params.days", "not 2.5"),
        ("rules[4].params", 'unknown parameter "days" for "mrr"; it takes none'),
        ("rules[5].params.feature", '"feature" must be an event name of at most 100 characters other than "login"'),
        ("rules[6].params.feature", 'not ""'),
        ("rules[7].params.feature", "at most 100 characters"),
        ("rules[8].params.days", "not -1"),
        ("rules[8].params.kind", '"kind" must be one of qbr, meeting, call, email, not "visit"'),
        ("rules[9].params.role", '"role" must be one of admin, co_admin, user, executive, not "Admin"'),
        ("rules[10].params", "must be an object of parameters, not null"),
        ("rules[10].params.days", 'missing: "logins" needs "days"'),
    ])


def test_whole_day_counts_may_be_written_with_a_zero_fraction():
    assert _errors(_group(
        {"field": "logins", "params": {"days": 30.0}, "op": "gt", "value": 1},
        {"field": "renewal_date", "op": "in_last_days", "value": 36500.0},
        {"field": "renewal_date", "op": "in_next_days", "value": 0},
    )) == []


def test_number_values_are_strict():
    _assert_errors(_group(
        {"field": "mrr", "op": "gt", "value": "3"},
        {"field": "mrr", "op": "gt", "value": True},
        {"field": "mrr", "op": "gt", "value": float("nan")},
        {"field": "mrr", "op": "gt", "value": float("inf")},
        {"field": "mrr", "op": "gt", "value": None},
        {"field": "mrr", "op": "between", "value": [5, 1]},
        {"field": "mrr", "op": "between", "value": [1]},
        {"field": "mrr", "op": "between", "value": [1, "2"]},
        {"field": "mrr", "op": "in", "value": [1, False, "x"]},
        {"field": "mrr", "op": "in", "value": list(range(1001))},
        {"field": "mrr", "op": "not_in", "value": 3},
    ), [
        ("rules[0].value", '"gt" needs a number, not a string ("3")'),
        ("rules[1].value", "not true/false"),
        ("rules[2].value", "not nan (only finite numbers)"),
        ("rules[3].value", "not inf (only finite numbers)"),
        ("rules[4].value", "not null"),
        ("rules[5].value", "the low end 5 is above the high end 1"),
        ("rules[6].value", "between needs a list of two numbers [low, high]"),
        ("rules[7].value[1]", "must be one of two numbers"),
        ("rules[8].value[1]", "must be a number, not true/false"),
        ("rules[8].value[2]", "must be a number, not a string"),
        ("rules[9].value", "a list can hold at most 1000 items (1001 given)"),
        ("rules[10].value", "must be a list, not a number"),
    ])


def test_any_number_compares_with_a_number_field():
    assert _errors(_group(
        {"field": "licenses", "op": "gt", "value": 2.5},
        {"field": "mrr", "op": "between", "value": [1, 1]},
        {"field": "users", "op": "eq", "value": 10**40},
        {"field": "mrr", "op": "in", "value": []},
    )) == []


def test_value_presence_follows_the_operator():
    _assert_errors(_group(
        {"field": "mrr", "op": "is_set", "value": None},
        {"field": "referenceable", "op": "is_true", "value": True},
        {"field": "mrr", "op": "gt"},
    ), [
        ("rules[0].value", '"is_set" takes no value'),
        ("rules[1].value", '"is_true" takes no value'),
        ("rules[2]", 'missing "value": "gt" needs one'),
    ])


def test_text_values_are_strict():
    _assert_errors(_group(
        {"field": "name", "op": "eq", "value": ""},
        {"field": "name", "op": "contains", "value": 3},
        {"field": "name", "op": "in", "value": ["", 3]},
        {"field": "name", "op": "eq", "value": "a\x00b"},
        {"field": "name", "op": "starts_with", "value": None},
    ), [
        ("rules[0].value", 'must not be empty; use "is_set" or "is_not_set"'),
        ("rules[1].value", '"contains" needs a string, not a number'),
        ("rules[2].value[1]", "must be a string, not a number"),
        ("rules[3].value", "NUL"),
        ("rules[4].value", "not null"),
    ])


def test_choices_are_exact_and_lower_case():
    _assert_errors(_group(
        {"field": "plan", "op": "eq", "value": "Enterprise"},
        {"field": "plan", "op": "in", "value": ["starter", "gold"]},
        {"field": "custom.tier", "op": "eq", "value": "bronze"},
        {"field": "subscription.status", "op": "ne", "value": 1},
    ), [
        ("rules[0].value", 'unknown choice "Enterprise" for "plan"; use one of starter, business, enterprise'),
        ("rules[1].value[1]", 'unknown choice "gold"'),
        ("rules[2].value", 'unknown choice "bronze" for "custom.tier"; use one of gold, silver'),
        ("rules[3].value", "unknown choice 1"),
    ])


def test_usernames_are_exact():
    _assert_errors(_group(
        {"field": "csm", "op": "eq", "value": "Alice"},
        {"field": "csm", "op": "in", "value": ["bob", "carol", 1]},
    ), [
        ("rules[0].value", 'unknown username "Alice"'),
        ("rules[1].value[1]", 'unknown username "carol"'),
        ("rules[1].value[2]", "must be a username (a string), not a number"),
    ])


def test_dates_are_strict():
    _assert_errors(_group(
        {"field": "renewal_date", "op": "eq", "value": "2026-02-30"},
        {"field": "renewal_date", "op": "before", "value": "2026-2-3"},
        {"field": "renewal_date", "op": "after", "value": 20260101},
        {"field": "renewal_date", "op": "between", "value": ["2026-03-01", "2026-01-01"]},
        {"field": "renewal_date", "op": "in_last_days", "value": 36501},
        {"field": "renewal_date", "op": "in_next_days", "value": -1},
        {"field": "renewal_date", "op": "more_than_days_ago", "value": 1.5},
        {"field": "renewal_date", "op": "in_current", "value": "decade"},
        {"field": "renewal_date", "op": "on_or_after", "value": "2026-01-01T00:00:00"},
    ), [
        ("rules[0].value", 'must be a date written YYYY-MM-DD, not "2026-02-30"'),
        ("rules[1].value", "YYYY-MM-DD"),
        ("rules[2].value", "YYYY-MM-DD"),
        ("rules[3].value", 'the low end "2026-03-01" is above the high end "2026-01-01"'),
        ("rules[4].value", "the number of days must be a whole number from 0 to 36500, not 36501"),
        ("rules[5].value", "not -1"),
        ("rules[6].value", "not 1.5"),
        ("rules[7].value", "must be one of week, month, quarter, year"),
        ("rules[8].value", "YYYY-MM-DD"),
    ])


def test_segments_must_exist_be_of_the_right_kind_and_not_cycle():
    _assert_errors(_group({"field": "segment", "op": "in", "value": ["a", "users", "zzz", "b", "c", 3]}), [
        ("rules[0].value[0]", 'segment cycle: "b" names "a" names "b"'),
        ("rules[0].value[1]", 'segment "users" is a user segment; only account segments can be named here'),
        ("rules[0].value[2]", 'unknown segment "zzz"'),
        ("rules[0].value[3]", "a segment cannot name itself"),
        ("rules[0].value[4]", 'segment cycle: "b" names "c" names "a" names "b"'),
        ("rules[0].value[5]", "must be a segment slug (a string), not a number"),
    ])


def test_user_segments_name_user_segments_and_their_accounts_account_segments():
    context = ValidationContext(segments=CONTEXT.segments)
    conditions = _group({"field": "segment", "op": "in", "value": ["users", "a"]},
                        {"field": "account.segment", "op": "not_in", "value": ["a", "users"]})
    _assert_errors(conditions, [
        ("rules[0].value[1]", 'segment "a" is an account segment; only user segments can be named here'),
        ("rules[1].value[1]", 'segment "users" is a user segment; only account segments can be named here'),
    ], kind="user", context=context)


def test_a_segment_without_a_slug_has_no_cycle_check():
    context = ValidationContext(segments=CONTEXT.segments)
    assert _errors(_group({"field": "segment", "op": "in", "value": ["a", "b", "c"]}), context=context) == []


def test_nesting_deeper_than_six_is_an_error_and_is_not_descended():
    deep = node = {"match": "all", "rules": []}
    for _ in range(50_000):  # far deeper than Python's recursion limit
        child = {"match": "all", "rules": [{"field": "nope", "op": "x"}]}
        node["rules"].append(child)
        node = child
    # depth 2..6 each hold one bad rule; the group at depth 7 is reported and not read.
    paths = ["rules[0]" + ".rules[1]" * n for n in range(6)]
    _assert_errors(deep, [(f"{path}.rules[0].field", "unknown field") for path in paths[:5]]
                   + [(paths[5], "nested at most 6 deep")])


def test_six_levels_are_allowed():
    node = leaf = {"field": "mrr", "op": "is_set"}
    for _ in range(6):
        node = {"match": "any", "rules": [node]}
    assert _errors(node) == []
    assert _errors({"match": "all", "rules": [node]})[0][1] == "groups can be nested at most 6 deep"
    assert leaf


def test_more_than_200_rules_is_an_error():
    rule = {"field": "mrr", "op": "is_set"}
    assert _errors(_group(*[rule] * 200)) == []
    _assert_errors(_group(*[rule] * 150, _group(*[rule] * 51)),
                   [("", "a condition can hold at most 200 rules (201 given)")])


def test_a_flood_of_problems_is_capped_with_a_final_note():
    errors = _errors(_group(*[{"field": "nope", "op": "x"}] * 1000))
    assert len(errors) == 501
    assert errors[-1] == ("", "too many problems: only the first 500 are listed")


def test_unknown_segment_kind_is_an_error():
    assert _errors(_group(), kind="team") == [("", 'unknown segment kind "team"; use "account" or "user"')]


def test_errors_print_with_their_path():
    assert str(ConditionError("rules[1].params.days", "x")) == "rules[1].params.days: x"
    assert str(ConditionError("", "x")) == "x"


def test_referenced_segments_reads_segment_and_account_segment_rules_of_any_document():
    conditions = _group({"field": "segment", "op": "in", "value": ["a", 3]},
                        {"match": "any", "rules": [{"field": "account.segment", "op": "not_in", "value": ["b"]}]},
                        {"field": "mrr", "op": "in", "value": ["c"]})
    assert referenced_segments(conditions) == {"a", "b"}
    for junk in (None, [], "x", {"rules": "x"}, {"rules": [None, {"field": "segment", "value": "x"}]}):
        assert referenced_segments(junk) == set()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["match", "rules", "negate", "field", "op", "value", "params", "days", "x"]), children,
        max_size=4),
    max_leaves=30,
)
rule_like = st.fixed_dictionaries({
    "field": st.sampled_from(["mrr", "name", "plan", "logins", "segment", "renewal_date", "csm", "custom.nps",
                              "referenceable", "account.mrr", "x"]),
    "op": st.sampled_from(["eq", "gt", "in", "between", "is_set", "in_last_days", "contains", "is_true", "zz"]),
}, optional={"value": json_values, "params": json_values})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=json_values | st.fixed_dictionaries({"match": json_values, "rules": st.lists(rule_like | json_values,
                                                                                                max_size=5)}),
       kind=st.sampled_from(["account", "user"]))
def test_validate_never_raises_on_any_json(conditions, kind):
    errors = validate(conditions, kind=kind, context=CONTEXT)
    assert all(isinstance(e, ConditionError) and isinstance(e.message, str) for e in errors)
    referenced_segments(conditions)


@pytest.mark.django_db
def test_context_loads_definitions_usernames_and_segments():
    CustomAttributeFactory(key="nps", type="number")
    StaffFactory(username="alice")
    Segment.objects.create(slug="a", name="A", conditions=_group({"field": "segment", "op": "in", "value": ["b"]}))
    Segment.objects.create(slug="b", name="B", kind="account")
    Segment.objects.create(slug="old", name="Old", kind="user")
    context = ValidationContext.load(slug="b", exclude_slug="old")
    assert context.custom["nps"].type == "number"
    assert "alice" in context.usernames
    assert context.segments == {"a": ("account", frozenset({"b"})), "b": ("account", frozenset())}
    assert context.slug == "b"
    cyclic = _group({"field": "segment", "op": "in", "value": ["a"]}, {"field": "custom.nps", "op": "is_set"},
                    {"field": "csm", "op": "eq", "value": "alice"})
    _assert_errors(cyclic, [("rules[0].value[0]", 'segment cycle: "b" names "a" names "b"')], context=context)


@pytest.mark.django_db
def test_extra_segments_let_a_file_of_definitions_name_each_other():
    Segment.objects.create(slug="a", name="A")
    extra = {"a": ("account", _group({"field": "segment", "op": "in", "value": ["new"]})),
             "new": ("account", _group())}
    context = ValidationContext.load(slug="new", extra_segments=extra)
    assert _errors(_group({"field": "segment", "op": "in", "value": ["a"]}), context=context) == [
        ("rules[0].value[0]", 'segment cycle: "new" names "a" names "new"')]
    context = ValidationContext.load(slug="a", extra_segments=extra)
    assert _errors(extra["a"][1], context=context) == []


@pytest.mark.parametrize("conditions", [
    _group({"field": "custom.tier", "op": "eq", "value": 5}),  # a definition whose type changed since
    _group({"field": "custom.nps", "op": "contains", "value": "x"}),
    _group({"field": "mrr", "op": "gt", "value": "5"}),
    _group({"field": "logins", "op": "gt", "value": 5}),
    _group({"field": "logins", "params": {"days": True}, "op": "gt", "value": 5}),
    _group({"field": "renewal_date", "op": "eq", "value": "tomorrow"}),
    _group({"field": "segment", "op": "in", "value": [1]}),
    _group({"field": "name", "op": "eq", "value": "x", "extra": 1}),
    {"match": "all", "rules": "x"},
    {"match": "most", "rules": []},
    [],
])
def test_the_compiler_refuses_what_validation_refuses(conditions):
    with pytest.raises(ConditionsInvalid):
        compile_conditions(conditions, kind="account", as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                           custom=CONTEXT.custom)


def test_the_compiler_refuses_deep_nesting_without_recursing_forever():
    deep = node = {"match": "all", "rules": []}
    for _ in range(10_000):
        child = {"match": "all", "rules": []}
        node["rules"].append(child)
        node = child
    with pytest.raises(ConditionsInvalid):
        compile_conditions(deep, kind="account", as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), custom={})


def test_the_compiler_does_not_check_usernames_or_slugs_against_the_database():
    conditions = _group({"field": "csm", "op": "eq", "value": "someone"},
                        {"field": "segment", "op": "in", "value": ["anything"]})
    assert compile_conditions(conditions, kind="account", as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), custom={})
