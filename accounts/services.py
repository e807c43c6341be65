"""Writes on staff and custom attribute definitions."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Role, StaffProfile, Team


@transaction.atomic
def staff_set_role(*, user, role: str, team: Team | None = None) -> StaffProfile:
    """Give a staff member a role (and team): profile, group and admin access."""
    if role not in Role.values:
        raise ValueError(f'unknown role "{role}"')
    profile, _ = StaffProfile.objects.update_or_create(user=user, defaults={"role": role, "team": team})
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    # Only ops work in the admin; CSMs and viewers use the CSM pages.
    is_staff = role == Role.OPS or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    return profile


def staff_create(*, username: str, role: str, team: Team | None = None, **fields):
    """Create a staff member with a role; `fields` go to the auth user."""
    User = get_user_model()
    user = User.objects.create_user(username=username, **fields)
    staff_set_role(user=user, role=role, team=team)
    return user
