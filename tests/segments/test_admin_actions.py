"""Changelist actions and object tools: refresh now, clone, export, show/hide, reorder."""

import json
from decimal import Decimal

import pytest

from segments.definitions import definition_dump
from segments.models import RefreshStatus, Segment
from tests.factories import AccountFactory
from tests.segments import admin_support
from tests.segments.admin_support import make_segment, post_json, url

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
enqueued = admin_support.enqueued
ops_client = admin_support.ops_client


def _action(client, action, *segments, **extra):
    return client.post(url("changelist"), {"action": action, "_selected_action": [s.pk for s in segments]}, **extra)


def test_refresh_now_queues_each_selected_segment_on_commit(ops_client, enqueued, django_capture_on_commit_callbacks):
    first, second = make_segment("first"), make_segment("second")
    make_segment("untouched")
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(ops_client, "refresh_now", first, second)
    assert response.status_code == 302
    assert sorted(args[0] for _, args, _ in enqueued) == sorted([first.pk, second.pk])
    assert all(func == "segments.tasks.segment_refresh_task" for func, _, _ in enqueued)
    statuses = dict(Segment.objects.values_list("slug", "refresh_status"))
    assert statuses == {"first": "queued", "second": "queued", "untouched": "never"}


def test_refresh_button_answers_json_with_the_queued_status(ops_client, enqueued, django_capture_on_commit_callbacks):
    segment = make_segment("big")
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(url("refresh", segment.pk), HTTP_ACCEPT="application/json")
    assert response.status_code == 202
    assert response.json()["segments"][0]["status"] == "queued"
    assert [args[0] for _, args, _ in enqueued] == [segment.pk]


def test_refresh_from_the_change_form_redirects_back_with_a_message(ops_client, enqueued):
    segment = make_segment("big")
    response = ops_client.post(url("refresh", segment.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("change", segment.pk)
    assert "is queued" in response.content.decode()
    assert ops_client.get(url("refresh", segment.pk)).status_code == 405


def test_clone_copies_everything_but_the_slug_and_opens_the_copy(ops_client, ops_user, enqueued,
                                                                  django_capture_on_commit_callbacks):
    AccountFactory(external_id="A-1", mrr=Decimal("900"))
    original = make_segment("big", name="Big", description="why", visible=False, expect_members=["A-1"],
                            expect_non_members=[], order=3, member_count=7, refresh_status=RefreshStatus.OK)
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(url("clone", original.pk))
    copy = Segment.objects.exclude(pk=original.pk).get()
    assert response.status_code == 302 and response["Location"] == url("change", copy.pk)
    assert copy.slug == "big-copy" and copy.name == "Big (copy)"
    assert (copy.kind, copy.description, copy.visible, copy.conditions, copy.expect_members) == (
        original.kind, "why", False, original.conditions, ["A-1"])
    assert copy.member_count == 0 and copy.created_by == ops_user and copy.order == 4
    assert [args[0] for _, args, _ in enqueued] == [copy.pk]
    assert copy.history.get().history_user == ops_user


def test_clone_action_on_one_segment_opens_the_copy_and_on_several_stays(ops_client, enqueued):
    one, two = make_segment("one"), make_segment("two")
    response = _action(ops_client, "clone_segments", one)
    assert response["Location"] == url("change", Segment.objects.get(slug="one-copy").pk)
    response = _action(ops_client, "clone_segments", one, two)
    assert response.status_code == 302 and response["Location"].endswith(url("changelist"))
    assert {"one-copy-2", "two-copy"} <= set(Segment.objects.values_list("slug", flat=True))


def test_export_action_downloads_the_definitions_as_json(ops_client):
    first = make_segment("first", order=2)
    second = make_segment("second", order=1)
    make_segment("third")
    response = _action(ops_client, "export_definitions", first, second)
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="segments.json"'
    assert json.loads(response.content) == [definition_dump(second), definition_dump(first)]


def test_export_all_button_downloads_every_segment(ops_client):
    make_segment("a")
    make_segment("b")
    response = ops_client.get(url("export"))
    assert [d["slug"] for d in json.loads(response.content)] == ["a", "b"]


def test_visible_on_and_off_record_history(ops_client, ops_user):
    shown, hidden = make_segment("shown"), make_segment("hidden")
    _action(ops_client, "make_hidden", hidden)
    assert Segment.objects.get(pk=hidden.pk).visible is False
    assert hidden.history.latest().history_user == ops_user
    _action(ops_client, "make_visible", hidden, shown)
    assert set(Segment.objects.values_list("visible", flat=True)) == {True}


def test_drag_and_drop_reorders_and_renumbers(ops_client):
    a, b, c = make_segment("a", order=0), make_segment("b", order=0), make_segment("c", order=0)
    # Positions are a=1, b=2, c=3 (ties broken by name); drag c to the top.
    response = post_json(ops_client, url("sortable_update"), {"updatedItems": [[c.pk, 1], [a.pk, 2], [b.pk, 3]]})
    assert response.status_code == 200
    assert list(Segment.objects.order_by("order").values_list("slug", "order")) == [("c", 1), ("a", 2), ("b", 3)]


def test_reorder_refuses_unknown_ids_and_bad_positions(ops_client):
    a = make_segment("a", order=1)
    assert post_json(ops_client, url("sortable_update"), {"updatedItems": [[999, 1]]}).status_code == 400
    assert post_json(ops_client, url("sortable_update"), {"updatedItems": [[a.pk, 0]]}).status_code == 400
    assert post_json(ops_client, url("sortable_update"), {"updatedItems": "x"}).status_code == 400
    assert Segment.objects.get().order == 1
