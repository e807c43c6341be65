"""Change history: who changed a segment's definition, when, with a readable diff of the conditions."""

import json

import pytest

from segments.admin_history import conditions_json_diff
from tests.segments import admin_support
from tests.segments.admin_support import MRR_ABOVE_500, url

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
enqueued = admin_support.enqueued
ops_client = admin_support.ops_client

PLAN_ENTERPRISE = {"match": "all", "rules": [{"field": "plan", "op": "eq", "value": "enterprise"}]}


def _form(conditions, **fields):
    return {"name": "Big", "visible": "on", "description": "", "conditions": json.dumps(conditions),
            "expect_members": "[]", "expect_non_members": "[]", **fields}


def test_history_shows_the_author_and_the_conditions_before_and_after(ops_client, ops_user, enqueued):
    ops_client.post(url("add"), {**_form(MRR_ABOVE_500), "slug": "big", "kind": "account"})
    from segments.models import Segment

    segment = Segment.objects.get()
    ops_client.post(url("change", segment.pk), _form(PLAN_ENTERPRISE, name="Enterprise"))
    html = ops_client.get(url("history", segment.pk)).content.decode()
    assert ops_user.username in html
    assert "<del>MRR is more than 500</del>" in html
    assert "<ins>plan is Enterprise</ins>" in html
    assert "JSON diff" in html and 'class="sg-diff-del"' in html and 'class="sg-diff-add"' in html
    assert "Big" in html and "Enterprise" in html  # the name change, shown as simple-history does
    assert segment.history.count() == 2


def test_json_diff_marks_removed_and_added_lines():
    lines = conditions_json_diff(MRR_ABOVE_500, PLAN_ENTERPRISE)
    kinds = {line["kind"] for line in lines}
    assert {"+", "-", "@"} <= kinds
    assert any(line["kind"] == "-" and '"mrr"' in line["text"] for line in lines)
    assert any(line["kind"] == "+" and '"enterprise"' in line["text"] for line in lines)
    assert conditions_json_diff(MRR_ABOVE_500, MRR_ABOVE_500) == []
