"""The builder's JSON endpoints: schema from the registry, preview, completeness, staff and lookups."""

from decimal import Decimal

import pytest

from segments.models import AccountMembership, Segment
from segments.registry import registry
from segments.services import segment_refresh
from tests.factories import AccountFactory, CustomAttributeFactory, EndUserFactory, StaffFactory
from tests.segments import admin_support
from tests.segments.admin_support import MRR_ABOVE_500, make_segment, post_json, url

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
enqueued = admin_support.enqueued
ops_client = admin_support.ops_client


# Schema -------------------------------------------------------------------------


def test_schema_lists_every_registry_field_with_its_group_in_builder_order(ops_client):
    CustomAttributeFactory(key="nps", label="NPS", type="number")
    data = ops_client.get(url("builder_schema"), {"kind": "account"}).json()
    expected = [f.key for f in registry.fields_for("account", custom_definitions=[])]
    keys = [f["key"] for f in data["fields"]]
    assert [k for k in keys if k != "custom.nps"] == expected
    assert "custom.nps" in keys
    assert data["groups"][:2] == ["Account", "Custom attributes"]
    assert {"Team", "Subscription", "Engagement", "Segments"} <= set(data["groups"])


def test_schema_describes_operators_params_and_choices(ops_client):
    fields = {f["key"]: f for f in ops_client.get(url("builder_schema")).json()["fields"]}
    assert fields["plan"]["choices"][0] == {"value": "starter", "label": "Starter"}
    assert "between" in fields["mrr"]["operators"] and "contains" not in fields["mrr"]["operators"]
    assert [p["name"] for p in fields["active_users"]["params"]] == ["days", "role"]
    assert fields["segment"]["operators"] == ["in", "not_in"]
    assert fields["segment"]["choices_from"] == "account_segments"


def test_schema_offers_segments_of_the_kind_except_the_one_being_edited(ops_client):
    edited = make_segment("edited")
    make_segment("other")
    make_segment("users", kind="user", conditions={"match": "all", "rules": []})
    data = ops_client.get(url("builder_schema"), {"kind": "account", "segment": edited.pk}).json()
    assert [s["value"] for s in data["segments"]] == ["other"]
    assert data["operators"]["number"]["gte"] == "is at least"
    assert data["limits"] == {"depth": 6, "rules": 200, "list": 1000, "days": 36500}


def test_schema_for_user_segments_includes_account_fields(ops_client):
    keys = [f["key"] for f in ops_client.get(url("builder_schema"), {"kind": "user"}).json()["fields"]]
    assert keys[0] == "email" and "account.mrr" in keys and "account.csm" in keys


def test_schema_rejects_an_unknown_kind(ops_client):
    response = ops_client.get(url("builder_schema"), {"kind": "team"})
    assert response.status_code == 400
    assert "kind" in response.json()["errors"][0]["message"]


# Preview --------------------------------------------------------------------------


def test_preview_counts_samples_and_describes(ops_client):
    csm = StaffFactory(username="chloe")
    AccountFactory(name="Big", mrr=Decimal("9000"), plan="enterprise", csm=csm)
    AccountFactory(name="Mid", mrr=Decimal("600.50"))
    AccountFactory(name="Small", mrr=Decimal("10"))
    response = post_json(ops_client, url("builder_preview"), {"kind": "account", "conditions": MRR_ABOVE_500})
    data = response.json()
    assert response.status_code == 200
    assert (data["count"], data["total"]) == (2, 3)
    assert data["columns"] == ["Account", "Plan", "MRR", "CSM"]
    assert [row["label"] for row in data["sample"]] == ["Big", "Mid"]
    assert data["sample"][0]["cells"] == ["Enterprise", "9,000", "chloe"]
    assert data["sample"][1]["cells"][1] == "600.50"
    assert data["sentence"] == "MRR is more than 500"
    assert data["compared"] is False
    assert isinstance(data["elapsed_ms"], int)


def test_preview_of_a_saved_segment_says_who_joins_and_leaves(ops_client):
    stays = AccountFactory(name="Stays", mrr=Decimal("5000"))
    leaves = AccountFactory(name="Leaves", mrr=Decimal("700"))
    AccountFactory(name="Joins", mrr=Decimal("2000"))
    segment = make_segment("big")
    segment_refresh(segment=segment)
    assert set(AccountMembership.objects.values_list("account__name", flat=True)) == {"Stays", "Leaves", "Joins"}
    leaves.mrr = Decimal("1")
    leaves.save()
    AccountFactory(name="New", mrr=Decimal("800"))
    conditions = {"match": "all", "rules": [{"field": "mrr", "op": "gte", "value": 2000}]}
    data = post_json(ops_client, url("builder_preview"), {"conditions": conditions, "segment": segment.pk}).json()
    assert data["compared"] is True and data["current"] == 3
    assert (data["count"], data["joining"], data["leaving"]) == (2, 0, 1)
    assert data["leaving_sample"] == [str(leaves)]
    assert stays.name in [row["label"] for row in data["sample"]]


def test_preview_checks_expectations(ops_client):
    AccountFactory(external_id="IN-1", name="Rich", mrr=Decimal("900"))
    AccountFactory(external_id="OUT-1", name="Poor", mrr=Decimal("5"))
    body = {"conditions": MRR_ABOVE_500, "expect_members": ["IN-1", "OUT-1"], "expect_non_members": ["IN-1"]}
    checks = post_json(ops_client, url("builder_preview"), body).json()["expectations"]
    assert [(c["external_id"], c["expected"], c["in_preview"], c["honoured"]) for c in checks] == [
        ("IN-1", "in", True, True), ("OUT-1", "in", False, False), ("IN-1", "out", True, False)]
    assert checks[0]["label"] == "Rich (IN-1)"


def test_invalid_conditions_answer_400_with_paths_the_builder_maps_to_rules(ops_client):
    bad = {"match": "all", "rules": [
        {"field": "mrr", "op": "gt", "value": 1},
        {"field": "logins", "params": {"days": -3}, "op": "gte", "value": 1},
        {"field": "csm__password", "op": "eq", "value": "x"},
    ]}
    response = post_json(ops_client, url("builder_preview"), {"conditions": bad})
    assert response.status_code == 400
    paths = {e["path"] for e in response.json()["errors"]}
    assert {"rules[1].params.days", "rules[2].field"} <= paths


def test_preview_refuses_a_body_that_is_not_json(ops_client):
    response = ops_client.post(url("builder_preview"), data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["errors"][0]["message"]


def test_preview_refuses_bad_expectations_and_unknown_segments(ops_client):
    bad = post_json(ops_client, url("builder_preview"), {"conditions": MRR_ABOVE_500, "expect_members": "A-1"})
    assert bad.status_code == 400
    missing = post_json(ops_client, url("builder_preview"), {"conditions": MRR_ABOVE_500, "segment": 999})
    assert missing.status_code == 400 and "no segment" in missing.json()["errors"][0]["message"]


def test_preview_is_post_only(ops_client):
    assert ops_client.get(url("builder_preview")).status_code == 405


def test_preview_writes_nothing(ops_client):
    AccountFactory(mrr=Decimal("900"))
    segment = make_segment("big")
    post_json(ops_client, url("builder_preview"), {"conditions": MRR_ABOVE_500, "segment": segment.pk})
    assert not AccountMembership.objects.exists()
    assert Segment.objects.get().refresh_status == "never"


def test_preview_query_count_does_not_grow_with_accounts(ops_client, django_assert_max_num_queries):
    AccountFactory.create_batch(3, mrr=Decimal("900"))
    segment = make_segment("big")
    body = {"conditions": MRR_ABOVE_500, "segment": segment.pk, "expect_members": ["A-x"]}
    with django_assert_max_num_queries(20) as few:
        post_json(ops_client, url("builder_preview"), body)
    AccountFactory.create_batch(40, mrr=Decimal("900"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        post_json(ops_client, url("builder_preview"), body)


def test_preview_of_a_user_segment_samples_users(ops_client):
    EndUserFactory(email="ada@customer.test", role="admin")
    conditions = {"match": "all", "rules": [{"field": "role", "op": "eq", "value": "admin"}]}
    data = post_json(ops_client, url("builder_preview"), {"kind": "user", "conditions": conditions}).json()
    assert data["count"] == 1
    assert data["columns"] == ["User", "Role", "Account"]
    assert data["sample"][0]["label"] == "ada@customer.test"


# Completeness, staff, lookups -----------------------------------------------------------


def test_completeness_endpoint_reports_each_field_used(ops_client):
    AccountFactory(industry="Retail")
    AccountFactory(industry="")
    conditions = {"match": "all", "rules": [{"field": "industry", "op": "eq", "value": "Retail"}]}
    data = post_json(ops_client, url("builder_completeness"), {"kind": "account", "conditions": conditions}).json()
    assert data["fields"] == [{"field": "industry", "label": "Industry", "params": {}, "missing": 1, "total": 2,
                               "missing_pct": 50.0, "sentence": "Industry is empty for 50% of accounts"}]


def test_staff_endpoint_lists_usernames(ops_client, ops_user):
    StaffFactory(username="maria", first_name="Maria", last_name="Lopez")
    results = ops_client.get(url("builder_staff")).json()["results"]
    assert {"value": "maria", "label": "Maria Lopez (maria)"} in results
    assert ops_user.username in [r["value"] for r in results]


def test_lookup_finds_accounts_by_external_id_prefix_or_name(ops_client):
    AccountFactory(external_id="ACME-1", name="Acme Corp")
    AccountFactory(external_id="X-2", name="Big Acme")
    AccountFactory(external_id="Z-3", name="Zeta")
    found = ops_client.get(url("builder_lookup"), {"kind": "account", "q": "acme"}).json()["results"]
    assert {r["value"] for r in found} == {"ACME-1", "X-2"}
    by_ids = ops_client.get(url("builder_lookup"), {"kind": "account", "ids": "Z-3"}).json()["results"]
    assert by_ids == [{"value": "Z-3", "label": "Zeta (Z-3)"}]


def test_lookup_finds_users_by_email(ops_client):
    EndUserFactory(external_id="U-9", email="grace@customer.test")
    found = ops_client.get(url("builder_lookup"), {"kind": "user", "q": "grace"}).json()["results"]
    assert found == [{"value": "U-9", "label": "grace@customer.test (U-9)"}]


@pytest.mark.parametrize("kind", ["account", "user"])
def test_preview_counts_agree_with_the_engine_preview(kind):
    import datetime as dt

    from segments.admin_selectors import preview_counts
    from segments.selectors import segment_preview

    as_of = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    for n, mrr in enumerate(["10", None, "900", "5000", None, "700", "20"]):
        account = AccountFactory(mrr=Decimal(mrr) if mrr else None)
        EndUserFactory(account=account, role="admin" if n % 2 else "user",
                       created_at=as_of + dt.timedelta(days=1) if n == 3 else None)
    first = ({"match": "all", "rules": [{"field": "mrr", "op": "gt", "value": 500}]} if kind == "account"
             else {"match": "all", "rules": [{"field": "role", "op": "eq", "value": "admin"}]})
    second = ({"match": "any", "rules": [{"field": "mrr", "op": "is_not_set"},
                                         {"field": "mrr", "op": "lt", "value": 800}]}
              if kind == "account" else {"match": "all", "negate": True, "rules": [
                  {"field": "role", "op": "eq", "value": "admin"}]})
    segment = make_segment("s", kind=kind, conditions=first)
    segment_refresh(segment=segment, as_of=as_of)
    mine = preview_counts(conditions=second, kind=kind, segment=segment, as_of=as_of, sample=20)
    engine = segment_preview(conditions=second, kind=kind, segment=segment, as_of=as_of, sample=20)
    assert (mine.count, mine.joining, mine.leaving) == (engine.count, engine.joining, engine.leaving)
    assert {m.pk for m in mine.sample} == {m.pk for m in engine.sample}
    assert [m.pk for m in mine.joining_sample] == [m.pk for m in engine.joining_sample][:5]
    assert [m.pk for m in mine.leaving_sample] == [m.pk for m in engine.leaving_sample][:5]
    assert mine.joining and mine.leaving
