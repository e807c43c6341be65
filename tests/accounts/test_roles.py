"""The role groups carry the permissions each role needs, and no more."""

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def _codenames(role):
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_the_three_role_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"ops", "csm", "viewer"}


def test_ops_can_edit_customer_data():
    assert {"add_account", "change_account", "delete_account", "change_customattributedefinition"} <= _codenames("ops")


def test_viewer_and_csm_can_only_read_customer_data():
    for role in ("viewer", "csm"):
        perms = _codenames(role)
        assert "view_account" in perms
        assert not {"add_account", "change_account", "delete_account"} & perms


def test_no_role_group_touches_django_q_schedules():
    for role in ("ops", "csm", "viewer"):
        perms = Group.objects.get(name=role).permissions.filter(content_type__app_label="django_q")
        assert not perms.exists()


def test_staff_role_sets_group_and_admin_access(ops_user, csm_user, viewer_user):
    assert ops_user.is_staff and ops_user.has_perm("accounts.change_account")
    assert not csm_user.is_staff and csm_user.has_perm("accounts.view_account")
    assert not csm_user.has_perm("accounts.change_account")
    assert not viewer_user.has_perm("accounts.change_account")


def test_only_superusers_see_the_django_q_admin(client, ops_user, django_user_model):
    client.force_login(ops_user)
    assert client.get("/admin/django_q/schedule/").status_code == 403
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(admin)
    assert client.get("/admin/django_q/schedule/").status_code == 200
