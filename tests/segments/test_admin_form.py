"""The segment form: the builder widget, validation at save, refresh on save, fixed slug and kind."""

import json

import pytest

from segments.models import Segment
from tests.factories import AccountFactory
from tests.segments import admin_support
from tests.segments.admin_support import MRR_ABOVE_500, make_segment, url

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
enqueued = admin_support.enqueued
ops_client = admin_support.ops_client


def _form(**fields):
    data = {"name": "Big", "slug": "big", "kind": "account", "visible": "on", "description": "",
            "conditions": json.dumps(MRR_ABOVE_500), "expect_members": "[]", "expect_non_members": "[]"}
    data.update(fields)
    return data


def test_add_page_renders_the_builder_and_pickers_with_their_endpoints(ops_client):
    html = ops_client.get(url("add")).content.decode()
    assert 'class="cb-root"' in html and 'class="xp-root"' in html
    assert "segments/builder.js" in html and "segments/builder.css" in html
    config = json.loads(html.split('class="cb-root" data-config="')[1].split('"')[0].replace("&quot;", '"'))
    assert config["schemaUrl"] == url("builder_schema") and config["previewUrl"] == url("builder_preview")
    assert config["segment"] is None and config["kindInput"] == "id_kind"


def test_saving_a_new_segment_records_its_author_order_and_queues_a_refresh(
        ops_client, ops_user, enqueued, django_capture_on_commit_callbacks):
    make_segment("existing", order=4)
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(url("add"), _form())
    assert response.status_code == 302
    segment = Segment.objects.get(slug="big")
    assert segment.conditions == MRR_ABOVE_500 and segment.created_by == ops_user and segment.order == 5
    assert [args[0] for _, args, _ in enqueued] == [segment.pk]
    assert segment.refresh_status == "queued"


def test_saving_without_changes_queues_a_refresh_too(ops_client, enqueued, django_capture_on_commit_callbacks):
    segment = make_segment("big")
    data = _form()
    data.pop("slug")
    data.pop("kind")
    with django_capture_on_commit_callbacks(execute=True):
        assert ops_client.post(url("change", segment.pk), data).status_code == 302
    assert [args[0] for _, args, _ in enqueued] == [segment.pk]


def test_invalid_conditions_are_not_saved_and_errors_carry_paths(ops_client, enqueued):
    bad = {"match": "all", "rules": [{"field": "mrr", "op": "gt", "value": 1},
                                     {"field": "logins", "params": {"days": 99999}, "op": "gte", "value": 1}]}
    response = ops_client.post(url("add"), _form(conditions=json.dumps(bad)))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["conditions"]
    assert any(e.startswith("rules[1].params.days: ") for e in errors)
    assert not Segment.objects.exists() and not enqueued


def test_text_that_is_not_json_is_a_form_error(ops_client):
    response = ops_client.post(url("add"), _form(conditions="{not json"))
    assert "conditions" in response.context["adminform"].form.errors
    assert not Segment.objects.exists()


def test_expected_members_must_exist(ops_client):
    AccountFactory(external_id="A-1")
    response = ops_client.post(url("add"), _form(expect_members='["A-1", "A-404"]'))
    assert response.context["adminform"].form.errors["expect_members"] == ["No account with external id A-404."]
    response = ops_client.post(url("add"), _form(expect_non_members='"A-1"'))
    assert "expect_non_members" in response.context["adminform"].form.errors
    ok = ops_client.post(url("add"), _form(expect_members='["A-1", "A-1"]'))
    assert ok.status_code == 302
    assert Segment.objects.get().expect_members == ["A-1"]


def test_slug_and_kind_are_fixed_once_saved(ops_client, enqueued):
    segment = make_segment("big")
    response = ops_client.get(url("change", segment.pk))
    form = response.context["adminform"].form
    assert "slug" not in form.fields and "kind" not in form.fields
    ops_client.post(url("change", segment.pk), _form(slug="renamed", kind="user"))
    segment.refresh_from_db()
    assert (segment.slug, segment.kind) == ("big", "account")


def test_change_page_shows_status_members_and_tools(ops_client):
    segment = make_segment("big", expect_members=["A-1"],
                           expectation_errors=["A-1 is expected in the segment but is not a member"])
    html = ops_client.get(url("change", segment.pk)).content.decode()
    for text in ("Refresh now", "Clone", url("members", segment.pk), "A-1 is expected", "Never refreshed",
                 f"&quot;segment&quot;: {segment.pk}"):
        assert text in html, text


def test_a_segment_cycle_is_refused(ops_client, enqueued):
    make_segment("a", conditions={"match": "all", "rules": [{"field": "segment", "op": "in", "value": ["b"]}]})
    b = make_segment("b")
    data = _form(conditions=json.dumps({"match": "all", "rules": [{"field": "segment", "op": "in", "value": ["a"]}]}))
    data.pop("slug")
    data.pop("kind")
    response = ops_client.post(url("change", b.pk), data)
    assert "cycle" in " ".join(response.context["adminform"].form.errors["conditions"])
    b.refresh_from_db()
    assert b.conditions == MRR_ABOVE_500
