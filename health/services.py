"""Writes of the health app: the nightly scoring step and config cloning.

Scoring is set-based: per config, one INSERT ... SELECT computes every
assigned account's parameter values, scores, label and details in the
database (health.scorecard / health.sql), into a temporary table. Then one
short transaction replaces the day's rows, each account's current health
(CurrentHealth) and the segments' average health. The number of queries
depends on the number of configs, never on the number of accounts.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Avg, DecimalField, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Round
from django.utils import timezone

from accounts.models import Account
from health.models import CurrentHealth, HealthConfig, HealthParameter, HealthScore
from health.scorecard import assigned_accounts, configured_segment_ids, scorecard_of, scorecard_sql
from segments.conditions import custom_definitions
from segments.models import AccountMembership, Segment, SegmentSnapshot

logger = logging.getLogger(__name__)

# The SQL below is built from table/column names of model _meta (quoted), our
# own temporary table name and the SQL Django and health.sql compiled; every
# value is a parameter (hence the S608 waivers).
_NEW_SCORES = "csbox_health_new_scores"


@dataclass(frozen=True)
class ScoringResult:
    """What one scoring run wrote for its day."""

    date: dt.date
    configs: int
    scored: int
    missing: int


def health_score_all(*, as_of: dt.datetime | None = None) -> ScoringResult:
    """Score every account as of `as_of` and store the day's rows (replacing that day's).

    Each account is scored by the config of its first configured segment in
    segment order, else by the default config. Then every segment snapshot
    of the day gets the average health of its members.
    """
    as_of = (as_of or timezone.now()).astimezone(dt.UTC)
    day = as_of.date()
    configs = list(HealthConfig.objects.select_related("segment").prefetch_related("parameters"))
    ordered = configured_segment_ids()
    custom = custom_definitions()
    _new_scores_create()
    try:
        for config in configs:
            if config.segment_id is not None and config.segment_id not in ordered:
                continue  # a config of a user segment (refused by validation) scores nobody
            scorecard = scorecard_of(config, list(config.parameters.all()))
            accounts = assigned_accounts(segment_id=config.segment_id, ordered_segment_ids=ordered)
            sql, params = scorecard_sql(scorecard=scorecard, accounts=accounts, as_of=as_of, custom=custom)
            _new_scores_insert(config_id=config.pk, sql=sql, params=params)
        with transaction.atomic():
            scored, missing = _day_replace(day=day)
            current_health_refresh(day=day)
            segment_snapshots_health_update(day=day)
    finally:
        _new_scores_drop()
    return ScoringResult(date=day, configs=len(configs), scored=scored, missing=missing)


def _new_scores_create() -> None:
    details = "JSONB" if connection.vendor == "postgresql" else "TEXT"
    _new_scores_drop()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_NEW_SCORES} (account_id BIGINT PRIMARY KEY, config_id BIGINT, "
            f"score INTEGER, score_exact DOUBLE PRECISION, label VARCHAR(10), details {details})"
        )


def _new_scores_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_NEW_SCORES}")


def _new_scores_insert(*, config_id: int, sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_NEW_SCORES} (account_id, config_id, score, score_exact, label, details) "  # noqa: S608
            f"SELECT scored.account_id, %s, scored.score, scored.score_exact, scored.label, scored.details "
            f"FROM ({sql}) scored",
            [config_id, *params],
        )


def _day_replace(*, day: dt.date) -> tuple[int, int]:
    """Replace the day's rows by the new scores; return (rows written, rows without a score)."""
    q = connection.ops.quote_name
    table = q(HealthScore._meta.db_table)
    if connection.vendor == "postgresql":
        # Two runs for one day (nightly and by hand) take turns instead of colliding on
        # (account, date); SQLite serialises write transactions anyway.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7312, day.toordinal()])
    HealthScore.objects.filter(date=day).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, date, config_id, score, score_exact, label, details) "  # noqa: S608
            f"SELECT account_id, %s, config_id, score, score_exact, label, details FROM {_NEW_SCORES}",
            [connection.ops.adapt_datefield_value(day)],
        )
        written = cursor.rowcount
        cursor.execute(f"SELECT COUNT(*) FROM {_NEW_SCORES} WHERE score IS NULL")  # noqa: S608
        missing = cursor.fetchone()[0]
    return written, missing


def current_health_refresh(*, day: dt.date | None = None) -> int:
    """Make CurrentHealth a copy of each account's latest HealthScore row again; return the rows written.

    With `day`, only the accounts whose latest row may have changed when the
    day's rows were replaced: those scored that day and those whose current
    row was that day's. Without, every account. Two statements whatever the
    number of accounts: a DELETE, then one INSERT ... SELECT of the latest
    row (one top-1 read of the (account, date) index per account to write).
    """
    stale = CurrentHealth.objects.all()
    if day is not None:
        stale = stale.filter(Q(date=day) | Q(account_id__in=HealthScore.objects.filter(date=day).values("account_id")))
    stale.delete()
    return _current_health_insert_missing()


def _current_health_insert_missing() -> int:
    """Insert the latest row of every scored account that has no CurrentHealth row."""
    latest = HealthScore.objects.filter(account_id=OuterRef("pk")).order_by("-date").values("pk")[:1]
    missing = Account.objects.filter(~Exists(CurrentHealth.objects.filter(account_id=OuterRef("pk"))))
    rows = HealthScore.objects.filter(pk__in=missing.values(latest_pk=Subquery(latest))).order_by()
    sql, params = rows.values_list("account_id", "date", "score", "label").query.sql_with_params()
    q = connection.ops.quote_name
    columns = ", ".join(q(CurrentHealth._meta.get_field(name).column) for name in ("account", "date", "score",
                                                                                     "label"))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {q(CurrentHealth._meta.db_table)} ({columns}) {sql}", params)  # noqa: S608
        return cursor.rowcount


def segment_snapshots_health_update(*, day: dt.date) -> int:
    """Set avg_health of the day's snapshots from their segment's members' scores of the day.

    One UPDATE for all segments; a segment without scored members gets NULL.
    Only existing snapshots are updated (the segment refresh writes them).
    """
    members = AccountMembership.objects.filter(segment_id=OuterRef(OuterRef("segment_id"))).values("account_id")
    average = (
        HealthScore.objects.filter(date=day, score__isnull=False, account_id__in=members)
        .order_by()
        .values("date")
        .annotate(average=Round(Avg("score"), 1, output_field=DecimalField()))
        .values("average")
    )
    return SegmentSnapshot.objects.filter(date=day, segment__kind="account").update(
        avg_health=Subquery(average, output_field=DecimalField(max_digits=5, decimal_places=1))
    )


def health_config_clone(*, config: HealthConfig, segment: Segment, name: str = "") -> HealthConfig:
    """Copy a config and its parameters to `segment` (which must not have a config yet)."""
    clone = HealthConfig(segment=segment, name=name or f"{segment.name} health", good_cutoff=config.good_cutoff,
                         poor_cutoff=config.poor_cutoff)
    clone.full_clean()
    parameters = list(config.parameters.order_by("position", "pk"))
    with transaction.atomic():
        clone.save()
        for parameter in parameters:
            parameter.pk = None
            parameter.config = clone
        HealthParameter.objects.bulk_create(parameters)
    return clone
