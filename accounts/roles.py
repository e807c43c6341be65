"""The three staff roles and the permissions each role's group carries.

ops: edit everything csbox owns; csm: read everything and act on alerts and
tasks (granted by the playbooks app when it defines them); viewer: read only.
django-q2's schedules and tasks are left to superusers: a schedule names any
importable function, so editing one runs code on the workers.
"""

from django.apps import apps as global_apps

from accounts.models import Role

CSBOX_APPS = ("accounts", "segments", "health", "playbooks")
# Extra codenames a CSM may use, registered by higher apps (e.g. playbooks).
CSM_EXTRA_CODENAMES: set[tuple[str, str]] = set()


def role_permissions(apps=global_apps) -> dict[str, list]:
    """Return role name -> the Permission objects its group should hold."""
    Permission = apps.get_model("auth", "Permission")
    owned = Permission.objects.filter(content_type__app_label__in=CSBOX_APPS)
    view = owned.filter(codename__startswith="view_")
    csm = list(view) + [
        p for p in owned if (p.content_type.app_label, p.codename) in CSM_EXTRA_CODENAMES
    ]
    return {Role.OPS: list(owned), Role.CSM: csm, Role.VIEWER: list(view)}


def roles_sync(apps=global_apps) -> None:
    """Create the role groups and set their permissions (idempotent)."""
    Group = apps.get_model("auth", "Group")
    for role, perms in role_permissions(apps).items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(perms)
