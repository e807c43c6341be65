"""Writes on segments: validation, refresh (materialise memberships) and its queueing.

A refresh computes the new member set once in the database (into a temporary
table), then applies the difference to the membership table and the change
log in one short transaction: no Python loop over accounts, no moment when
the segment is empty or half-written, and a failure keeps the previous
membership.
"""

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from segments.conditions import (
    ValidationContext,
    compile_conditions,
    custom_definitions,
    matching_queryset,
    validate,
)
from segments.definitions import Definition, definitions_check
from segments.models import AccountMembership, RefreshStatus, Segment, SegmentSnapshot, UserMembership
from segments.registry import CustomDef
from segments.selectors import membership_spec, segment_next_order, segments_in_refresh_order
from segments.shared_metrics import MetricSource, shared_metrics

logger = logging.getLogger(__name__)

# One temporary table per connection holds the freshly computed member ids.
# The SQL below is composed only of table/column names from model _meta
# (quoted) and of the queryset SQL Django compiled; every value is a
# parameter, hence the S608 waivers.
_NEW_MEMBERS = "csbox_refresh_new_members"


def segment_validate(*, segment: Segment, context: ValidationContext | None = None) -> None:
    """Raise ValidationError with every problem of the segment's conditions."""
    if context is None:
        context = ValidationContext.load(slug=segment.slug, exclude_slug=segment.slug)
    errors = validate(segment.conditions, kind=segment.kind, context=context)
    if errors:
        raise ValidationError({"conditions": [f"{e.path}: {e.message}" if e.path else e.message for e in errors]})


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did."""

    slug: str
    ok: bool
    joined: int = 0
    left: int = 0
    members: int = 0
    error: str = ""


def segment_refresh(*, segment: Segment, as_of: dt.datetime | None = None, metrics: MetricSource | None = None,
                    custom: Mapping[str, CustomDef] | None = None) -> RefreshResult:
    """Recompute the segment's members as of `as_of` and record who joined and left.

    Never raises for a failing condition: the previous membership is kept and
    the error is recorded on the segment. A full refresh passes its shared
    engagement aggregates (`metrics`, same as_of) and the custom attribute
    definitions it loaded once (`custom`).
    """
    as_of = as_of or timezone.now()
    Segment.objects.filter(pk=segment.pk).update(refresh_status=RefreshStatus.RUNNING)
    try:
        with _refresh_lock(segment.pk):
            _materialise_new_members(segment=segment, as_of=as_of, metrics=metrics, custom=custom)
            joined, left, members = _apply_new_members(segment=segment, as_of=as_of)
    except Exception as exc:  # noqa: BLE001 - any failure must keep the previous membership
        logger.exception("refresh of segment %s failed", segment.slug)
        message = f"{type(exc).__name__}: {exc}"
        Segment.objects.filter(pk=segment.pk).update(refresh_status=RefreshStatus.FAILED, refresh_error=message)
        return RefreshResult(slug=segment.slug, ok=False, error=message)
    finally:
        _drop_new_members()
    segment.refresh_from_db()
    return RefreshResult(slug=segment.slug, ok=True, joined=joined, left=left, members=members)


def segments_refresh_all(*, as_of: dt.datetime | None = None) -> list[RefreshResult]:
    """Refresh every segment, each after the segments its conditions name.

    The engagement aggregates every segment uses are computed once, up
    front, into temporary tables (segments.shared_metrics), outside any
    write transaction; each segment then reads them.
    """
    as_of = as_of or timezone.now()
    segments = segments_in_refresh_order()
    custom = custom_definitions()

    def compiler_for(segment: Segment):
        return lambda source: compile_conditions(segment.conditions, kind=segment.kind, as_of=as_of, custom=custom,
                                                 metrics=source)

    with shared_metrics(as_of=as_of, compiles=[compiler_for(s) for s in segments]) as source:
        return [segment_refresh(segment=segment, as_of=as_of, metrics=source, custom=custom) for segment in segments]


class _refresh_lock:
    """Serialise refreshes of one segment.

    PostgreSQL: a session advisory lock (released even if the worker dies, as
    the connection closes). SQLite serialises every write transaction anyway,
    and the difference is computed inside the write transaction.
    """

    def __init__(self, segment_id: int):
        self.segment_id = segment_id

    def __enter__(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [7311, self.segment_id])
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [7311, self.segment_id])
        return False


def _materialise_new_members(*, segment: Segment, as_of: dt.datetime, metrics: MetricSource | None,
                             custom: Mapping[str, CustomDef] | None) -> None:
    """Compute the member ids into a temporary table, outside the write transaction.

    On SQLite, writing a TEMP table does not lock the main database, so the
    expensive part of a refresh never blocks web writes.
    """
    queryset = matching_queryset(segment.conditions, kind=segment.kind, as_of=as_of, metrics=metrics, custom=custom)
    sql, params = queryset.order_by().values_list("pk", flat=True).query.sql_with_params()
    _drop_new_members()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {_NEW_MEMBERS} (id BIGINT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {_NEW_MEMBERS} (id) SELECT DISTINCT * FROM ({sql}) AS matching", params)  # noqa: S608


def _drop_new_members() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_NEW_MEMBERS}")


def _apply_new_members(*, segment: Segment, as_of: dt.datetime) -> tuple[int, int, int]:
    """Apply the computed member set: log and delete leavers, log and insert joiners."""
    spec = membership_spec(segment.kind)
    q = connection.ops.quote_name
    table, member, change_table = q(spec.table), q(spec.member_column), q(spec.change_table)
    refreshed_at = timezone.now()
    # Raw SQL bypasses field adaptation: store datetimes as the ORM would.
    db_as_of = connection.ops.adapt_datetimefield_value(as_of)
    db_refreshed_at = connection.ops.adapt_datetimefield_value(refreshed_at)
    current = f"SELECT {member} FROM {table} WHERE segment_id = %s"  # noqa: S608
    # The tables have no database foreign keys (segments/models.py): a member deleted since the
    # set was computed must not be inserted (on SQLite no delete can interleave with this
    # transaction; on PostgreSQL only one committing at the same instant could).
    existing = f"SELECT {q(spec.member_model._meta.pk.column)} FROM {q(spec.member_model._meta.db_table)}"  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {change_table} (segment_id, {member}, change, at, refreshed_at) "  # noqa: S608
            f"SELECT segment_id, {member}, 'left', %s, %s FROM {table} "
            f"WHERE segment_id = %s AND {member} NOT IN (SELECT id FROM {_NEW_MEMBERS})",
            [db_as_of, db_refreshed_at, segment.pk],
        )
        left = cursor.rowcount
        if left:
            cursor.execute(
                f"DELETE FROM {table} WHERE segment_id = %s "  # noqa: S608
                f"AND {member} NOT IN (SELECT id FROM {_NEW_MEMBERS})",
                [segment.pk],
            )
        cursor.execute(
            f"INSERT INTO {change_table} (segment_id, {member}, change, at, refreshed_at) "  # noqa: S608
            f"SELECT %s, id, 'joined', %s, %s FROM {_NEW_MEMBERS} WHERE id NOT IN ({current}) AND id IN ({existing})",
            [segment.pk, db_as_of, db_refreshed_at, segment.pk],
        )
        joined = cursor.rowcount
        if joined:
            cursor.execute(
                f"INSERT INTO {table} (segment_id, {member}, since) "  # noqa: S608
                f"SELECT %s, id, %s FROM {_NEW_MEMBERS} WHERE id NOT IN ({current}) AND id IN ({existing})",
                [segment.pk, db_as_of, segment.pk],
            )
        members, total_mrr = _size(segment=segment, spec=spec)
        Segment.objects.filter(pk=segment.pk).update(
            refresh_status=RefreshStatus.OK,
            refresh_error="",
            last_refreshed_at=refreshed_at,
            last_refresh_as_of=as_of,
            member_count=members,
            expectation_errors=_expectation_errors(segment=segment, spec=spec),
        )
        _snapshot_write(segment=segment, day=as_of.astimezone(dt.UTC).date(), members=members, total_mrr=total_mrr)
    return joined, left, members


def _expectation_errors(*, segment: Segment, spec) -> list[str]:
    """Say which expected members are missing and which expected non-members are in."""
    errors = []
    members = spec.model.objects.filter(segment_id=segment.pk)
    id_field = f"{spec.member_field}__external_id"
    if segment.expect_members:
        present = set(members.filter(**{f"{id_field}__in": segment.expect_members}).values_list(id_field, flat=True))
        errors += [f'{ext} is expected in the segment but is not a member' for ext in segment.expect_members
                   if ext not in present]
    if segment.expect_non_members:
        present = set(
            members.filter(**{f"{id_field}__in": segment.expect_non_members}).values_list(id_field, flat=True)
        )
        errors += [f'{ext} is expected outside the segment but is a member' for ext in segment.expect_non_members
                   if ext in present]
    return errors


def _size(*, segment: Segment, spec) -> tuple[int, Decimal | None]:
    """The number of members and, for account segments, their total MRR (one query)."""
    members = spec.model.objects.filter(segment_id=segment.pk)
    if segment.kind != "account":
        return members.count(), None
    size = members.aggregate(members=Count("*"), total=Sum("account__mrr"))
    return size["members"], size["total"]


def _snapshot_write(*, segment: Segment, day: dt.date, members: int, total_mrr: Decimal | None) -> None:
    """Store (or replace) the segment's size and MRR for the day.

    avg_health is left as it is: the health step fills it after scoring.
    Update first: a snapshot of the day usually exists (one query, no savepoint).
    """
    values = {"members": members, "total_mrr": total_mrr}
    if not SegmentSnapshot.objects.filter(segment_id=segment.pk, date=day).update(**values):
        SegmentSnapshot.objects.create(segment_id=segment.pk, date=day, **values)


def segment_refresh_enqueue(*, segment: Segment, as_of: dt.datetime | None = None) -> None:
    """Queue a refresh as a django-q2 task once the current transaction commits."""
    Segment.objects.filter(pk=segment.pk).update(refresh_status=RefreshStatus.QUEUED)

    def _enqueue() -> None:
        from django_q.tasks import async_task

        async_task(
            "segments.tasks.segment_refresh_task",
            segment.pk,
            as_of.isoformat() if as_of else None,
            task_name=f"refresh:{segment.slug}",
        )

    transaction.on_commit(_enqueue)


class DefinitionsError(ValueError):
    """A file of segment definitions was refused; `errors` lists every problem."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class LoadResult:
    created: list[str]
    updated: list[str]


def segments_load(*, data) -> LoadResult:
    """Create or update segments from parsed definitions: all or nothing.

    Memberships are not refreshed here; they change at the next refresh.
    """
    definitions, errors = definitions_check(data)
    if errors:
        raise DefinitionsError(errors)
    created, updated = [], []
    with transaction.atomic():
        next_order = segment_next_order()
        for definition in definitions:
            order = definition.order
            if order is None:
                order, next_order = next_order, next_order + 1
            segment, was_created = _segment_upsert(definition=definition, order=order)
            (created if was_created else updated).append(segment.slug)
    return LoadResult(created=created, updated=updated)


def _segment_upsert(*, definition: Definition, order: int) -> tuple[Segment, bool]:
    fields = {
        "name": definition.name,
        "kind": definition.kind,
        "description": definition.description,
        "visible": definition.visible,
        "order": order,
        "conditions": definition.conditions,
        "expect_members": list(definition.expect_members),
        "expect_non_members": list(definition.expect_non_members),
    }
    segment = Segment.objects.filter(slug=definition.slug).first()
    if segment is None:
        return Segment.objects.create(slug=definition.slug, **fields), True
    if segment.kind != definition.kind:
        # Members of the old kind mean nothing under the new one.
        AccountMembership.objects.filter(segment=segment).delete()
        UserMembership.objects.filter(segment=segment).delete()
        fields.update(member_count=0, refresh_status=RefreshStatus.NEVER)
    for name, value in fields.items():
        setattr(segment, name, value)
    segment.save()
    return segment, False
