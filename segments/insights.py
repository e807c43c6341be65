"""Reads behind the CSM segment pages: tabs, summaries, trends and the insights.

Completeness (segments.selectors_audit) and usage (segments.usage) are the
admin's own selectors, reused. Everything here is set-based: each function is a fixed number of queries
whatever the number of members (the outliers' quartiles come from a window
function, the overlap from one GROUP BY over memberships, the migration
matrix from one query over the change log). Health comes from the metric a
higher app registers (accounts.extensions), or from the registry's
`health_score` / `health_label` provider; without either, health is left out.
"""

import datetime as dt
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, CumeDist, Floor, RowNumber
from django.utils import timezone

from accounts.extensions import HEALTH_LABELS, AccountMetric, account_extensions
from accounts.models import Account
from accounts.selectors import last_activity_expression
from segments.conditions import custom_definitions, render_english
from segments.models import AccountMembership, ChangeKind, MembershipChange, Segment, SegmentKind, SegmentSnapshot
from segments.registry import registry
from segments.selectors import membership_spec
from segments.selectors_audit import FieldCompleteness, conditions_completeness
from segments.usage import segment_usage

STALE_DAYS = 90
DUPLICATE_SHARE = 0.95
MAX_EXPLAINABLE_RULES = 7
OUTLIER_MIN_MEMBERS = 8
# Outliers are looked for among the segment's biggest members (by MRR): the
# ones that matter first, and a bound on the work whatever the segment's size.
OUTLIER_POPULATION = 1000
TUKEY_K = 1.5


# Health ------------------------------------------------------------------------


def health_metric(key: str) -> AccountMetric | None:
    """The health metric `key` (health_score / health_label), or None when health is not installed."""
    metric = account_extensions.metric(key)
    if metric is not None:
        return metric
    provider = registry.provider(key)
    if provider is None:
        return None
    choices = HEALTH_LABELS if key == "health_label" else ()
    return AccountMetric(key=key, label="Health", expression=provider, choices=choices)


def health_metrics() -> list[AccountMetric]:
    """The registered health metrics (score, label), for list columns."""
    return [m for m in (health_metric("health_score"), health_metric("health_label")) if m is not None]


# Tabs and membership --------------------------------------------------------------


def account_segment_tabs() -> list[Segment]:
    """The visible account segments in their admin order (the tabs of Accounts 360)."""
    return list(
        Segment.objects.filter(kind=SegmentKind.ACCOUNT, visible=True)
        .order_by("order", "name")
        .only("slug", "name", "kind", "visible", "member_count", "order", "refresh_status", "last_refreshed_at")
    )


# From this many members on, membership is tested row by row (EXISTS on the
# unique (segment, account) index) rather than as a list of ids (IN): SQLite
# can then read the rows in the order of the page's index and stop at the
# page, instead of sorting every member (measured in bench/bench_views.py).
EXISTS_MIN_MEMBERS = 20_000


def members_scope(*, queryset: QuerySet, segment: Segment, account_path: str = "pk") -> QuerySet:
    """Restrict `queryset` (accounts, or rows of accounts via `account_path`) to the segment's members."""
    memberships = AccountMembership.objects.filter(segment_id=segment.pk)
    if segment.member_count >= EXISTS_MIN_MEMBERS:
        return queryset.filter(Exists(memberships.filter(account_id=OuterRef(account_path))))
    return queryset.filter(**{f"{account_path}__in": memberships.values("account_id")})


def members_count(*, segment: Segment) -> int:
    """How many accounts are in the segment now (counted on the membership index, not on accounts)."""
    return AccountMembership.objects.filter(segment_id=segment.pk).count()


def account_members(*, segment: Segment) -> QuerySet:
    """The accounts of an account segment (see members_scope)."""
    return members_scope(queryset=Account.objects.all(), segment=segment)


def account_segments(*, account: Account) -> list[AccountMembership]:
    """The segments the account is in, with since when, in admin order."""
    return list(
        AccountMembership.objects.filter(account=account)
        .select_related("segment")
        .order_by("segment__order", "segment__name")
    )


# The segments list ------------------------------------------------------------------


def _latest_snapshot(column: str) -> Subquery:
    latest = SegmentSnapshot.objects.filter(segment=OuterRef("pk")).order_by("-date")
    return Subquery(latest.values(column)[:1])


def segment_list(*, search: str = "", kind: str = "") -> QuerySet:
    """Segments for the segments page, with MRR and health of their latest snapshot.

    The snapshot is written at each refresh (health fills avg_health after
    scoring), so the figures are those of the membership shown.
    """
    segments = Segment.objects.annotate(
        total_mrr=_latest_snapshot("total_mrr"), avg_health=_latest_snapshot("avg_health")
    ).order_by("kind", "order", "name")
    if search.strip():
        segments = segments.filter(name__icontains=search.strip())
    if kind in SegmentKind.values:
        segments = segments.filter(kind=kind)
    return segments


def segment_sentences(segments: Iterable[Segment]) -> dict[int, str]:
    """Plain-English definitions by segment id (one query for the custom attribute labels)."""
    custom = custom_definitions()
    return {s.pk: render_english(s.conditions, kind=s.kind, custom=custom) for s in segments}


# One segment --------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentSummary:
    members: int
    total_mrr: Decimal | None
    avg_health: float | None

    @property
    def total_arr(self) -> Decimal | None:
        return None if self.total_mrr is None else self.total_mrr * 12


# Up to this many members the total MRR and the average health are computed
# live; above, they are those of the latest snapshot (written at the refresh,
# the average by the health step after scoring), which describe the same
# membership: members only change at a refresh.
LIVE_SUMMARY_MEMBERS = 5000


def segment_summary(*, segment: Segment, as_of: dt.datetime) -> SegmentSummary:
    """Members (as of the last refresh), total MRR and average health of a segment: one query."""
    if segment.kind != SegmentKind.ACCOUNT:
        return SegmentSummary(members=segment.member_count, total_mrr=None, avg_health=None)
    score = health_metric("health_score")
    if segment.member_count > LIVE_SUMMARY_MEMBERS:
        latest = SegmentSnapshot.objects.filter(segment=segment).order_by("-date").first()
        health = latest.avg_health if latest is not None and score is not None else None
        return SegmentSummary(members=segment.member_count, total_mrr=latest.total_mrr if latest else None,
                              avg_health=None if health is None else float(health))
    members = Account.objects.filter(
        pk__in=AccountMembership.objects.filter(segment_id=segment.pk).values("account_id"))
    aggregates: dict[str, Any] = {"mrr": Sum("mrr")}
    if score is not None:
        members = members.annotate(health_value=score.annotation(as_of=as_of))
        aggregates["health"] = Avg("health_value")
    totals = members.aggregate(**aggregates)
    health = totals.get("health")
    return SegmentSummary(members=segment.member_count, total_mrr=totals["mrr"],
                          avg_health=None if health is None else float(health))


def segment_trend(*, segment: Segment, days: int = 365) -> list[SegmentSnapshot]:
    """The daily snapshots of the last `days` days, oldest first."""
    since = timezone.now().date() - dt.timedelta(days=days)
    return list(SegmentSnapshot.objects.filter(segment=segment, date__gte=since).order_by("date"))


def segment_recent_changes(*, segment: Segment, limit: int = 15) -> list[MembershipChange]:
    """The latest joins and leaves, newest first, with their account or user."""
    return list(
        # Newest first down the (segment, at) index; the order within one refresh does not matter.
        MembershipChange.objects.filter(segment=segment).select_related("account", "user").order_by("-at")[:limit]
    )


def segment_biggest_accounts(*, segment: Segment, as_of: dt.datetime, limit: int = 10) -> list[Account]:
    """The members with the highest MRR, with their last activity and health.

    Two steps, as the lists: the ids by MRR, then the annotations for those rows only.
    """
    ids = biggest_member_ids(segment=segment, limit=limit)
    rows = Account.objects.filter(pk__in=ids).select_related("csm")
    rows = rows.annotate(last_activity=last_activity_expression(as_of=as_of))
    for metric in health_metrics():
        rows = rows.annotate(**{metric.key: metric.annotation(as_of=as_of)})
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


# Outliers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutlierMetric:
    """A per-member measure and how to judge distance on it.

    `log`: compare on log(1 + value) (counts and day spans are skewed: a
    dormant account must stand out of a busy segment). `min_spread`: the
    smallest interquartile range used, so that a segment where everyone is
    alike does not flag every small difference.
    """

    key: str
    label: str
    unit: str  # "day" (pluralised when shown) or ""
    expression: Expression
    log: bool
    min_spread: float
    missing_note: str = ""
    lowest: float | None = None  # the smallest possible value
    highest: float | None = None  # the largest possible value


@dataclass
class OutlierReport:
    metric: OutlierMetric
    members: int
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    low: float | None = None
    high: float | None = None
    below: list = field(default_factory=list)
    above: list = field(default_factory=list)
    below_count: int = 0
    above_count: int = 0
    missing: int = 0

    @property
    def low_shown(self) -> float | None:
        """The lower fence, when a value can be below it (days are never negative, scores never below 0)."""
        if self.low is None or (self.metric.lowest is not None and self.low <= self.metric.lowest):
            return None
        return self.low

    @property
    def high_shown(self) -> float | None:
        """The upper fence, when a value can be above it (a score is at most 100)."""
        if self.high is None or (self.metric.highest is not None and self.high >= self.metric.highest):
            return None
        return self.high


def outlier_metrics(*, as_of: dt.datetime) -> list[OutlierMetric]:
    """Days since last activity (dormant members) and, with health installed, the health score."""
    days = _days_since(last_activity_expression(as_of=as_of), as_of=as_of)
    metrics = [OutlierMetric("days_since_last_activity", "Days since last activity", "day", days, log=True,
                             min_spread=1, missing_note="never active", lowest=0)]
    score = health_metric("health_score")
    if score is not None:
        metrics.append(OutlierMetric("health_score", "Health score", "", score.annotation(as_of=as_of),
                                     log=False, min_spread=5, missing_note="not scored", lowest=0, highest=100))
    return metrics


class _JulianDay(Expression):
    """Days (fractional) since a fixed epoch, the same on SQLite and PostgreSQL."""

    def __init__(self, expression):
        super().__init__(output_field=IntegerField())
        self.source = expression

    def get_source_expressions(self):
        return [self.source]

    def set_source_expressions(self, exprs):
        (self.source,) = exprs

    def as_sql(self, compiler, connection):
        inner, params = compiler.compile(self.source)
        return f"(EXTRACT(EPOCH FROM {inner}) / 86400.0)", params

    def as_sqlite(self, compiler, connection):
        inner, params = compiler.compile(self.source)
        return f"(julianday({inner}) - 2440587.5)", params


def _days_since(moment: Expression, *, as_of: dt.datetime) -> Expression:
    """Whole days from `moment` to as_of (NULL when moment is NULL)."""
    as_of_days = as_of.timestamp() / 86400.0
    return Cast(Floor(Value(as_of_days) - _JulianDay(moment)), IntegerField())


def _forward(metric: OutlierMetric, value: float) -> float:
    return math.log1p(max(value, 0)) if metric.log else value


def _backward(metric: OutlierMetric, value: float) -> float:
    return math.expm1(value) if metric.log else value


def _biggest_members(*, segment: Segment) -> QuerySet:
    """The segment's members with an MRR, biggest first.

    Membership as EXISTS whatever the size, and a plain MRR DESC order (no
    NULLS LAST: missing MRRs are filtered out): both databases walk the MRR
    index from the top and stop at the LIMIT instead of sorting every member.
    """
    memberships = AccountMembership.objects.filter(segment_id=segment.pk, account_id=OuterRef("pk"))
    return Account.objects.filter(Exists(memberships), mrr__isnull=False).order_by(F("mrr").desc(), "-pk")


def biggest_member_ids(*, segment: Segment, limit: int = 10) -> list[int]:
    """The ids of the segment's `limit` biggest members by MRR (one query)."""
    return list(_biggest_members(segment=segment).values_list("pk", flat=True)[:limit])


def outlier_population(*, segment: Segment) -> QuerySet:
    """The members outliers are looked for among: all of them, or the OUTLIER_POPULATION biggest by MRR.

    A subquery, not a list of ids: a thousand parameters would be compiled
    into each of the outlier queries.
    """
    if segment.member_count <= OUTLIER_POPULATION:
        return account_members(segment=segment)
    ids = _biggest_members(segment=segment).values("pk")[:OUTLIER_POPULATION]
    return Account.objects.filter(pk__in=ids)


def segment_outliers(*, segment: Segment, as_of: dt.datetime, limit: int = 8) -> list[OutlierReport]:
    """Members far from the segment's typical value, per metric (Tukey's fences on the quartiles).

    Among the segment's OUTLIER_POPULATION biggest members by MRR (all of
    them in most segments). Quartiles are order statistics (CUME_DIST in
    SQL), so the log scale of skewed metrics is applied to three numbers,
    not to rows. A member is an outlier below Q1 - 1.5 IQR or above
    Q3 + 1.5 IQR. Four queries per metric.
    """
    if segment.kind != SegmentKind.ACCOUNT:
        return []
    members = outlier_population(segment=segment)
    return [_metric_outliers(members=members, metric=m, limit=limit) for m in outlier_metrics(as_of=as_of)]


def _metric_outliers(*, members: QuerySet, metric: OutlierMetric, limit: int) -> OutlierReport:
    """Two queries: the quartiles (and how many have no value), then the outliers of each side with their count."""
    valued = members.annotate(metric_value=metric.expression)
    missing = ExpressionWrapper(Q(metric_value__isnull=True), output_field=BooleanField())
    # Ranked apart from the members without a value, whose NULLs the aggregates skip.
    ranked = valued.annotate(rank_share=Window(CumeDist(), partition_by=[missing], order_by=F("metric_value").asc()))
    stats = ranked.aggregate(
        n=Count("pk", filter=Q(metric_value__isnull=False)),
        missing=Count("pk", filter=Q(metric_value__isnull=True)),
        q1=Min("metric_value", filter=Q(rank_share__gte=0.25)),
        median=Min("metric_value", filter=Q(rank_share__gte=0.5)),
        q3=Min("metric_value", filter=Q(rank_share__gte=0.75)),
    )
    report = OutlierReport(metric=metric, members=stats["n"] + stats["missing"], missing=stats["missing"])
    if stats["n"] < OUTLIER_MIN_MEMBERS:
        return report
    q1, median, q3 = (float(stats[k]) for k in ("q1", "median", "q3"))
    f1, f3 = _forward(metric, q1), _forward(metric, q3)
    spread = max(f3 - f1, _forward(metric, metric.min_spread) if metric.log else metric.min_spread)
    low, high = _backward(metric, f1 - TUKEY_K * spread), _backward(metric, f3 + TUKEY_K * spread)
    report.q1, report.median, report.q3, report.low, report.high = q1, median, q3, low, high
    side = Case(When(metric_value__lt=low, then=Value(-1)), default=Value(1), output_field=IntegerField())
    beyond = (
        valued.filter(Q(metric_value__lt=low) | Q(metric_value__gt=high))
        .annotate(side=side)
        .annotate(
            side_count=Window(Count("*"), partition_by=[F("side")]),
            # Most extreme first on each side: lowest below, highest above.
            position=Window(RowNumber(), partition_by=[F("side")],
                            order_by=[(F("side") * F("metric_value")).desc(), F("pk").asc()]),
        )
        .filter(position__lte=limit)
        .select_related("csm")
        .order_by("side", "position")
    )
    for account in beyond:
        if account.side < 0:
            report.below.append(account)
            report.below_count = account.side_count
        else:
            report.above.append(account)
            report.above_count = account.side_count
    return report


# Rules -------------------------------------------------------------------------------------


def _leaf_rules(node: Any) -> list[dict]:
    if not isinstance(node, dict):
        return []
    if "field" in node:
        return [node]
    return [leaf for child in node.get("rules") or [] for leaf in _leaf_rules(child)]


def rule_count(segment: Segment) -> int:
    """The number of leaf rules of the segment's conditions."""
    return len(_leaf_rules(segment.conditions))


@dataclass(frozen=True)
class Completeness:
    """One field's completeness, for display: the audit's figures and the share filled."""

    audit: FieldCompleteness

    @property
    def filled_pct(self) -> float:
        return round(100 - self.audit.missing_pct, 1)


# Groups of fields whose values are stored data (typed in, imported); the
# others (engagement metrics, health, segments) are computed by csbox.
STORED_GROUPS = ("Account", "Custom attributes", "Team", "Subscription", "User")


def _stored_and_computed(segment: Segment) -> tuple[list[dict], list[str]]:
    """The leaf rules on stored fields, and the labels of the computed fields the conditions use."""
    custom = custom_definitions()
    stored, computed = [], []
    for leaf in _leaf_rules(segment.conditions):
        field_ = registry.resolve(leaf.get("field"), kind=segment.kind, custom=custom)
        if field_ is None:
            continue
        base = field_.key.removeprefix("account.")
        is_stored = field_.group.split(": ")[-1] in STORED_GROUPS and registry.provider(base) is None
        if is_stored:
            stored.append(leaf)
        elif field_.label not in computed:
            computed.append(field_.label)
    return stored, computed


def segment_completeness(*, segment: Segment, as_of: dt.datetime) -> tuple[list[Completeness], list[str]]:
    """How complete the stored data of each field the conditions use is (segments.selectors_audit).

    Only stored fields are audited: their gaps are data to fix, and checking
    them is one cheap aggregate. Computed fields (activity metrics, health,
    segments) are returned by label only: auditing them would evaluate every
    metric for every account on each page view.
    """
    stored, computed = _stored_and_computed(segment)
    if not stored:
        return [], computed
    audits = conditions_completeness(conditions={"match": "all", "rules": stored}, kind=segment.kind, as_of=as_of)
    return [Completeness(audit=a) for a in audits], computed


# Overlap and hygiene --------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    segment: Segment
    common: int
    share_of_this: float  # common / this segment's members
    share_of_other: float  # common / the other segment's members

    @property
    def jaccard(self) -> float:
        union = self.common / self.share_of_this + self.common / self.share_of_other - self.common if self.common else 0
        return self.common / union if union else 0.0


def segment_overlaps(*, segment: Segment, limit: int = 10) -> list[Overlap]:
    """The segments sharing members with this one, most shared first (one GROUP BY)."""
    spec = membership_spec(segment.kind)
    mine = spec.model.objects.filter(segment_id=segment.pk)
    own_count = mine.count()
    if not own_count:
        return []
    shared = (
        spec.model.objects.filter(**{f"{spec.member_column}__in": mine.values(spec.member_column)})
        .exclude(segment_id=segment.pk)
        .values("segment_id")
        .annotate(common=Count("*"))
        .order_by("-common")
    )
    rows = list(shared[:limit])
    others = Segment.objects.in_bulk([r["segment_id"] for r in rows])
    sizes = dict(
        spec.model.objects.filter(segment_id__in=others.keys()).values("segment_id").annotate(n=Count("*"))
        .values_list("segment_id", "n")
    )
    return [
        Overlap(segment=others[r["segment_id"]], common=r["common"], share_of_this=r["common"] / own_count,
                share_of_other=r["common"] / max(sizes.get(r["segment_id"], 0), 1))
        for r in rows
    ]


def segment_used_by(*, segment: Segment) -> list[str]:
    """What uses the segment: other segments naming it, and what higher apps register (segments.usage)."""
    return segment_usage(segment_ids=[segment.pk]).get(segment.pk, [])


@dataclass(frozen=True)
class HygieneFlag:
    code: str
    text: str


def segment_hygiene(
    *, segment: Segment, overlaps: list[Overlap], used_by: list[str], now: dt.datetime | None = None
) -> list[HygieneFlag]:
    """The housekeeping problems of a segment (seeds: "Review and prune regularly")."""
    now = now or timezone.now()
    flags = []
    if segment.refresh_status == "ok" and segment.member_count == 0:
        flags.append(HygieneFlag("empty", "Empty: no member at the last refresh."))
    if not used_by:
        flags.append(HygieneFlag("unused", "Not used by anything: no other segment, health config, alert, "
                                           "milestone or journey refers to it."))
    if segment_is_stale(segment=segment, now=now):
        flags.append(HygieneFlag("stale", f"Unchanged and unviewed for {STALE_DAYS} days: no edit, no member "
                                          "joined or left, and nobody opened this page."))
    for overlap in overlaps:
        if overlap.jaccard >= DUPLICATE_SHARE:
            flags.append(HygieneFlag("duplicate", f"{overlap.jaccard:.0%} the same members as "
                                                  f"“{overlap.segment.name}”: merge or delete one."))
    leaves = len(_leaf_rules(segment.conditions))
    if leaves > MAX_EXPLAINABLE_RULES:
        flags.append(HygieneFlag("complex", f"{leaves} rules: more than a person can explain in one sentence "
                                            f"(at most {MAX_EXPLAINABLE_RULES})."))
    return flags


def segment_is_stale(*, segment: Segment, now: dt.datetime) -> bool:
    """No edit, no membership change and no page view for STALE_DAYS days (one query)."""
    cutoff = now - dt.timedelta(days=STALE_DAYS)
    if segment.updated_at and segment.updated_at > cutoff:
        return False
    if segment.last_viewed_at and segment.last_viewed_at > cutoff:
        return False
    return not MembershipChange.objects.filter(segment=segment, at__gt=cutoff).exists()


# The heavy insights, cached ----------------------------------------------------------------

# The insights that read every member (outliers, completeness, overlap) are
# kept per segment refresh (and edit): members only change at a refresh, and
# they describe the segment as of it, as its membership does (the page says
# when they were computed). The nightly pipeline computes them right after
# the refresh and the health scores (page_services.segment_insights_warm),
# so that nobody meets the cold path; the cache is shared by every process
# (settings.CACHES: Redis, else a table of the database). A day and a bit:
# an entry outlives the night to the next refresh, whose key is new anyway.
INSIGHTS_TTL = 26 * 60 * 60


@dataclass(frozen=True)
class HeavyInsights:
    outliers: list[OutlierReport]
    completeness: list[Completeness]
    computed_fields: list[str]
    overlaps: list[Overlap]
    computed_at: dt.datetime


def heavy_insights_key(segment: Segment) -> str:
    """The cache key of the segment's insights: new at each refresh and each edit."""
    refreshed = segment.last_refreshed_at.timestamp() if segment.last_refreshed_at else 0
    return f"csbox:segment-insights:{segment.pk}:{refreshed}:{segment.updated_at.timestamp()}"


def segment_heavy_insights(*, segment: Segment, as_of: dt.datetime, recompute: bool = False) -> HeavyInsights:
    """Outliers, completeness and overlap of a segment: from the cache unless absent (or `recompute`)."""
    key = heavy_insights_key(segment)
    found = None if recompute else cache.get(key)
    if found is not None:
        return found
    completeness, computed_fields = segment_completeness(segment=segment, as_of=as_of)
    result = HeavyInsights(
        outliers=segment_outliers(segment=segment, as_of=as_of), completeness=completeness,
        computed_fields=computed_fields, overlaps=segment_overlaps(segment=segment), computed_at=as_of,
    )
    cache.set(key, result, INSIGHTS_TTL)
    return result


# Migration between segments ------------------------------------------------------------------


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` (UTC): membership "at" a day counts that day's refreshes."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def members_at(*, segment_ids: Iterable[int], day: dt.date) -> QuerySet:
    """(segment_id, account_id) pairs of members at the end of `day`, from the change log.

    A member at D joined at or before D more often than it left: joins and
    leaves alternate, so the net count is 1 for members and 0 otherwise.
    """
    net = Sum(Case(When(change=ChangeKind.JOINED, then=Value(1)), default=Value(-1), output_field=IntegerField()))
    return (
        MembershipChange.objects.filter(segment_id__in=list(segment_ids), account__isnull=False, at__lt=end_of_day(day))
        .values("segment_id", "account_id")
        .annotate(net=net)
        .filter(net__gt=0)
        .values("segment_id", "account_id")
        .order_by()
    )


@dataclass
class MigrationMatrix:
    segments: list[Segment]
    date_from: dt.date
    date_to: dt.date
    cells: dict[tuple[int | None, int | None], int]

    def cell(self, source: int | None, target: int | None) -> int:
        return self.cells.get((source, target), 0)

    def rows(self) -> list[dict]:
        """Rows for display: each source (then "none") with its counts per target (then "none")."""
        ids = [s.pk for s in self.segments] + [None]
        names = {s.pk: s for s in self.segments}
        return [
            {"source": names.get(src), "source_id": src,
             "cells": [{"target": names.get(dst), "target_id": dst, "count": self.cell(src, dst),
                        "stayed": src is not None and src == dst} for dst in ids]}
            for src in ids
        ]


# Up to this many chosen segments, an account's memberships on a day fit in
# one integer of bits (BIGINT): the matrix is then two GROUP BY, no join.
MAX_BITMASK_SEGMENTS = 62


def migration_matrix(*, segments: list[Segment], date_from: dt.date, date_to: dt.date) -> MigrationMatrix:
    """How many accounts were in each segment at date_from and in each segment at date_to (one query).

    An account in several chosen segments counts in each pair; "none" (None)
    is an account in none of the chosen segments on that date. Cached per
    choice of segments and days until one of them is refreshed or edited
    (the nightly step warms the page's default view).
    """
    key = _migration_key(segments, date_from, date_to)
    cells = cache.get(key)
    if cells is None:
        if len(segments) <= MAX_BITMASK_SEGMENTS:
            cells = _migration_cells_by_bits(segments=segments, date_from=date_from, date_to=date_to)
        else:
            cells = _migration_cells_by_join(segments=segments, date_from=date_from, date_to=date_to)
        cache.set(key, cells, INSIGHTS_TTL)
    return MigrationMatrix(segments=segments, date_from=date_from, date_to=date_to, cells=cells)


def _migration_key(segments: list[Segment], date_from: dt.date, date_to: dt.date) -> str:
    """New whenever a chosen segment is refreshed or edited (the only writes of the change log)."""
    stamps = ",".join(f"{s.pk}.{s.last_refreshed_at.timestamp() if s.last_refreshed_at else 0}"
                      f".{s.updated_at.timestamp()}" for s in segments)
    digest = hashlib.sha256(stamps.encode()).hexdigest()[:32]
    return f"csbox:segment-migration:{date_from}:{date_to}:{digest}"


def _migration_cells_by_bits(*, segments: list[Segment], date_from: dt.date,
                             date_to: dt.date) -> dict[tuple[int | None, int | None], int]:
    """The matrix from two GROUP BY over the change log: no join, whatever the number of members.

    Per (segment, account), the net joins up to each day (one pass for both
    days, down the (segment, account, at, change) index); per account, the
    chosen segments it was in on each day as bits of two integers; then the
    number of accounts per pair of bit sets (a few hundred at most), which
    are spread over the cells here: a loop over combinations, not accounts.
    """
    bit = Case(*[When(segment_id=s.pk, then=Value(1 << i)) for i, s in enumerate(segments)],
               default=Value(0), output_field=BigIntegerField())
    joined = Case(When(change=ChangeKind.JOINED, then=Value(1)), default=Value(-1), output_field=IntegerField())

    def net(day: dt.date) -> Sum:
        return Sum(Case(When(at__lt=end_of_day(day), then=joined), default=Value(0), output_field=IntegerField()))

    per_member = (
        MembershipChange.objects.filter(segment_id__in=[s.pk for s in segments], account__isnull=False,
                                        at__lt=end_of_day(max(date_from, date_to)))
        .values("segment_id", "account_id")
        .annotate(net_from=net(date_from), net_to=net(date_to), bit=Max(bit))
        .order_by()
    )
    sql, params = per_member.query.sql_with_params()
    # Only ORM-compiled SQL and fixed text: every value is a parameter.
    query = (
        "SELECT bits_from, bits_to, COUNT(*) FROM ("  # noqa: S608
        "SELECT account_id, SUM(CASE WHEN net_from > 0 THEN bit ELSE 0 END) AS bits_from, "
        f"SUM(CASE WHEN net_to > 0 THEN bit ELSE 0 END) AS bits_to FROM ({sql}) per_member GROUP BY account_id"
        ") per_account WHERE bits_from > 0 OR bits_to > 0 GROUP BY bits_from, bits_to"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        combinations = cursor.fetchall()
    cells: dict[tuple[int | None, int | None], int] = {}
    for bits_from, bits_to, count in combinations:
        sources = [s.pk for i, s in enumerate(segments) if int(bits_from) >> i & 1] or [None]
        targets = [s.pk for i, s in enumerate(segments) if int(bits_to) >> i & 1] or [None]
        for source in sources:
            for target in targets:
                cells[(source, target)] = cells.get((source, target), 0) + count
    return cells


def _migration_cells_by_join(*, segments: list[Segment], date_from: dt.date,
                             date_to: dt.date) -> dict[tuple[int | None, int | None], int]:
    """The matrix by joining the members of each day on the account (any number of segments)."""
    ids = [s.pk for s in segments]
    sql1, params1 = members_at(segment_ids=ids, day=date_from).query.sql_with_params()
    sql2, params2 = members_at(segment_ids=ids, day=date_to).query.sql_with_params()
    # Only ORM-compiled subqueries and fixed text: every value is a parameter.
    sql = (
        f"WITH m1 AS ({sql1}), m2 AS ({sql2}) "  # noqa: S608
        "SELECT m1.segment_id, m2.segment_id, COUNT(*) FROM m1 JOIN m2 ON m1.account_id = m2.account_id "
        "GROUP BY m1.segment_id, m2.segment_id "
        "UNION ALL SELECT m1.segment_id, NULL, COUNT(*) FROM m1 "
        "WHERE m1.account_id NOT IN (SELECT account_id FROM m2) GROUP BY m1.segment_id "
        "UNION ALL SELECT NULL, m2.segment_id, COUNT(*) FROM m2 "
        "WHERE m2.account_id NOT IN (SELECT account_id FROM m1) GROUP BY m2.segment_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params1, *params2])
        return {(src, dst): count for src, dst, count in cursor.fetchall()}


def migration_accounts(
    *, segments: list[Segment], source: Segment | None, target: Segment | None, date_from: dt.date, date_to: dt.date
) -> QuerySet:
    """The accounts behind one cell of the matrix (None: in none of `segments` on that day)."""
    ids = [s.pk for s in segments]

    def on(day: dt.date, segment: Segment | None) -> Q:
        if segment is None:
            return ~Q(pk__in=members_at(segment_ids=ids, day=day).values("account_id"))
        return Q(pk__in=members_at(segment_ids=[segment.pk], day=day).values("account_id"))

    accounts = Account.objects.filter(on(date_from, source) & on(date_to, target))
    if source is None and target is None:
        return accounts.none()
    return accounts


def last_change_days() -> tuple[dt.date | None, dt.date | None]:
    """The first and last day with a recorded membership change of an account (the migration form's defaults).

    One query of two top-1 reads of the (at) index of account changes.
    """
    changes = MembershipChange.objects.filter(account__isnull=False)
    bounds = changes.annotate(
        first=Subquery(changes.order_by("at").values("at")[:1]),
        last=Subquery(changes.order_by("-at").values("at")[:1]),
    ).values_list("first", "last")[:1]
    found = next(iter(bounds), (None, None))
    return tuple(None if v is None else v.astimezone(dt.UTC).date() for v in found)  # type: ignore[return-value]


def migration_days(*, date_from: dt.date | None = None, date_to: dt.date | None = None,
                   today: dt.date) -> tuple[dt.date, dt.date]:
    """The migration page's days: those given, else the last day of the log and 30 days before (at most its first)."""
    first, last = last_change_days()
    date_to = date_to or last or today
    return date_from or max(first or date_to, date_to - dt.timedelta(days=30)), date_to


def migration_default_segments(available: list[Segment]) -> list[Segment]:
    """The segments the migration page shows by default: the first 8 visible ones."""
    return [s for s in available if s.visible][:8]
