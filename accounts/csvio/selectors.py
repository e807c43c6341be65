"""Reads for the export: the rows of one segment."""

from django.apps import apps
from django.db.models import QuerySet

from accounts.models import Account, EndUser


class SegmentExportError(ValueError):
    """The segment cannot filter this export (unknown slug, wrong kind)."""


def csv_segment_queryset(*, entity: str, slug: str) -> QuerySet:
    """Return the accounts (or users) currently in the segment `slug`, for `export_csv --segment`.

    The segments app sits above accounts (DESIGN.md, direction of imports), so
    its models are looked up by name here instead of imported.
    """
    Segment = apps.get_model("segments", "Segment")
    segment = Segment.objects.filter(slug=slug).first()
    if segment is None:
        raise SegmentExportError(f'no segment with slug "{slug}"')
    if segment.kind == "user":
        if entity != "users":
            raise SegmentExportError(f'"{slug}" is a segment of users: use it with the users entity')
        memberships = apps.get_model("segments", "UserMembership").objects.filter(segment=segment)
        return EndUser.objects.filter(pk__in=memberships.values("user_id"))
    if entity != "accounts":
        raise SegmentExportError(f'"{slug}" is a segment of accounts: use it with the accounts entity')
    memberships = apps.get_model("segments", "AccountMembership").objects.filter(segment=segment)
    return Account.objects.filter(pk__in=memberships.values("account_id"))
