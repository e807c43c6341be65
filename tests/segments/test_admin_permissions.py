"""Only ops and superusers edit segments: every admin endpoint checks it on the server."""

import json

import pytest
from django.contrib.auth.models import Permission

from segments.models import Segment
from tests.factories import StaffFactory
from tests.segments import admin_support
from tests.segments.admin_support import MRR_ABOVE_500, make_segment, post_json, url

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
enqueued = admin_support.enqueued

CHANGED = {"match": "all", "rules": [{"field": "mrr", "op": "gt", "value": 1}]}


def _get_endpoints(segment):
    return [url("changelist"), url("add"), url("change", segment.pk), url("history", segment.pk),
            url("builder_schema"), url("builder_staff"), url("builder_lookup") + "?q=a", url("status"),
            url("export"), url("members", segment.pk)]


def _post_endpoints(segment):
    body = json.dumps({"conditions": MRR_ABOVE_500})
    return [
        (url("builder_preview"), body), (url("builder_completeness"), body), (url("refresh", segment.pk), ""),
        (url("clone", segment.pk), ""), (url("sortable_update"), json.dumps({"updatedItems": [[segment.pk, 5]]})),
        (url("change", segment.pk), ""), (url("delete", segment.pk), ""),
    ]


@pytest.mark.parametrize("role", ["csm", "viewer"])
def test_csm_and_viewer_reach_no_admin_endpoint(client, role, enqueued):
    user = StaffFactory(role=role)
    assert not user.is_staff
    client.force_login(user)
    segment = make_segment("big", order=1)
    for path in _get_endpoints(segment):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"], path
    for path, body in _post_endpoints(segment):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 302 and "/login/" in response["Location"], path
    response = client.post(url("changelist"), {"action": "make_hidden", "_selected_action": [segment.pk]})
    assert response.status_code == 302
    assert list(Segment.objects.values_list("slug", "order", "visible", "refresh_status")) == [
        ("big", 1, True, "never")]
    assert not enqueued


def test_anonymous_visitors_are_sent_to_log_in(client):
    segment = make_segment("big")
    for path in _get_endpoints(segment):
        assert client.get(path).status_code == 302, path


@pytest.fixture
def view_only_staff(client):
    """A staff member who may only view segments (reaches the admin, edits nothing)."""
    user = StaffFactory(role="viewer")
    user.is_staff = True
    user.save()
    assert user.has_perm("segments.view_segment") and not user.has_perm("segments.change_segment")
    client.force_login(user)
    return client


def test_view_only_staff_may_look_but_not_build_or_act(view_only_staff, enqueued):
    client = view_only_staff
    segment = make_segment("big", order=1)
    for path in (url("changelist"), url("change", segment.pk), url("members", segment.pk), url("status"),
                 url("export")):
        assert client.get(path).status_code == 200, path
    for path in (url("builder_schema"), url("builder_staff"), url("builder_lookup")):
        assert client.get(path).status_code == 403, path
    for path in (url("builder_preview"), url("builder_completeness"), url("refresh", segment.pk),
                 url("clone", segment.pk), url("sortable_update")):
        assert post_json(client, path, {"conditions": MRR_ABOVE_500, "updatedItems": [[segment.pk, 3]]}
                         ).status_code == 403, path
    assert client.post(url("change", segment.pk), {"name": "Renamed", "conditions": json.dumps(CHANGED)}
                       ).status_code == 403
    assert client.get(url("add")).status_code == 403
    assert list(Segment.objects.values_list("name", "order", "refresh_status")) == [("Big", 1, "never")]
    assert not enqueued


def test_view_only_staff_see_no_edit_actions(view_only_staff):
    make_segment("big")
    actions = view_only_staff.get(url("changelist")).context["action_form"].fields["action"].choices
    names = {name for name, _ in actions}
    assert "export_definitions" in names
    assert not names & {"refresh_now", "clone_segments", "make_visible", "make_hidden"}


def test_cloning_needs_the_add_permission(client, enqueued):
    user = StaffFactory(role="viewer")
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="change_segment"))
    client.force_login(user)
    segment = make_segment("big")
    assert client.post(url("clone", segment.pk)).status_code == 403
    assert client.post(url("refresh", segment.pk)).status_code == 302
    assert Segment.objects.count() == 1


def test_ops_and_superusers_may_edit(client, ops_user, enqueued, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw-csbox-123")
    segment = make_segment("big")
    for user in (ops_user, superuser):
        client.force_login(user)
        assert client.get(url("builder_schema")).status_code == 200
        assert post_json(client, url("builder_preview"), {"conditions": MRR_ABOVE_500}).status_code == 200
        assert client.post(url("refresh", segment.pk)).status_code == 302
