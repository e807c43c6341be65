"""Writes on staff, custom attribute definitions and derived account fields."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import OuterRef, Subquery

from accounts.models import Account, Event, Role, StaffProfile, Team


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


def account_last_activity_sync(*, account_ids: Iterable[int] | None = None) -> int:
    """Set `Account.last_activity_at` to each account's latest event time (NULL when none).

    One UPDATE for the accounts named (every account when None), in chunks
    so that the id list never exceeds the databases' parameter limits.
    Returns the number of accounts updated.
    """
    latest = Event.objects.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    if account_ids is None:
        return Account.objects.update(last_activity_at=Subquery(latest))
    ids = sorted(set(account_ids))
    updated = 0
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        updated += Account.objects.filter(pk__in=chunk).update(last_activity_at=Subquery(latest))
    return updated


# SQLite allows 32,766 parameters per statement; stay well below.
_ID_CHUNK = 10_000


def nightly_last_activity_sync(*, as_of=None) -> dict:
    """The pipeline step: re-derive every account's last activity (catches deleted events)."""
    return {"accounts": account_last_activity_sync()}
