"""Reads of the health app: latest scores, trends, sparklines, breakdowns, previews.

"The score as of day D" is the account's latest stored row dated on or
before D (decisions-health.md), everywhere: the registry's `health_score`
and `health_label`, the CSM pages and the trends. A trend over N days is
score as of D minus score as of D - N.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import CharField, Count, DateField, Expression, F, IntegerField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import as_of_is_current
from health.models import HealthConfig, HealthParameter, HealthScore
from health.scorecard import Scorecard, assigned_accounts, configured_segment_ids, scorecard_sql
from segments.conditions import custom_definitions
from segments.models import Segment, SegmentSnapshot
from segments.registry import CustomDef, registry, sentence_label

TREND_DAYS = (7, 30)


def _day(as_of: dt.datetime | dt.date | None) -> dt.date:
    if as_of is None:
        as_of = timezone.now()
    if isinstance(as_of, dt.datetime):
        return as_of.astimezone(dt.UTC).date()
    return as_of


def _latest_rows(*, day: dt.date, account=None) -> QuerySet:
    account = OuterRef("pk") if account is None else account
    return HealthScore.objects.filter(account=account, date__lte=day).order_by("-date")


def _latest(column: str, *, day: dt.date, output_field) -> Subquery:
    return Subquery(_latest_rows(day=day).values(column)[:1], output_field=output_field)


# Registry providers (health/apps.py): expressions on Account rows -------------


def health_score_expression(*, as_of: dt.datetime) -> Expression:
    """The account's latest stored score dated on or before as_of's (UTC) date; NULL if none."""
    return _latest("score", day=_day(as_of), output_field=IntegerField())


def health_label_expression(*, as_of: dt.datetime) -> Expression:
    """The label of the same row as health_score ("" when unscored or missing)."""
    return _latest("label", day=_day(as_of), output_field=CharField())


# CSM pages' metrics (health/apps.py): the same values, read from CurrentHealth for today ------


def health_is_current(as_of: dt.datetime | dt.date | None) -> bool:
    """True when as_of's (UTC) day is today or later: each account's latest row is then its CurrentHealth."""
    return as_of_is_current(_day(as_of))


def health_list_score_expression(*, as_of: dt.datetime) -> Expression:
    """health_score for the CSM pages: CurrentHealth's (a join, indexed) when as_of is today, else the history.

    CurrentHealth holds each account's latest row, which is the latest row
    dated on or before today unless a run scored a day still to come.
    """
    if health_is_current(as_of):
        return F("current_health__score")
    return health_score_expression(as_of=as_of)


def health_list_label_expression(*, as_of: dt.datetime) -> Expression:
    """health_label for the CSM pages, as health_list_score_expression ("" or NULL when unscored)."""
    if health_is_current(as_of):
        return F("current_health__label")
    return health_label_expression(as_of=as_of)


def health_annotate(queryset: QuerySet, *, as_of: dt.datetime | dt.date | None = None) -> QuerySet:
    """Annotate accounts with health_score, health_label and health_change_7 / _30 (sortable, filterable)."""
    day = _day(as_of)
    annotations = {
        "health_score": _latest("score", day=day, output_field=IntegerField()),
        "health_label": _latest("label", day=day, output_field=CharField()),
    }
    for days in TREND_DAYS:
        past = _latest("score", day=day - dt.timedelta(days=days), output_field=IntegerField())
        annotations[f"health_change_{days}"] = annotations["health_score"] - past
    return queryset.annotate(**annotations)


# CSM pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountHealth:
    """An account's health as of a day: the latest row, and its change over 7 and 30 days."""

    account_id: int
    date: dt.date | None
    score: int | None
    label: str
    config_id: int | None
    config_name: str
    change_7: int | None
    change_30: int | None

    @property
    def trend_7(self) -> str:
        return _arrow(self.change_7)

    @property
    def trend_30(self) -> str:
        return _arrow(self.change_30)


def _arrow(change: int | None) -> str:
    """"up", "down", "flat" or "" (no trend)."""
    if change is None:
        return ""
    return "up" if change > 0 else "down" if change < 0 else "flat"


def health_latest_for_accounts(account_ids: Iterable[int], *, as_of: dt.datetime | dt.date | None = None
                               ) -> dict[int, AccountHealth]:
    """Each account's health as of the day (one query for any number of accounts).

    Accounts never scored map to an AccountHealth with score None and date None.
    """
    day = _day(as_of)
    accounts = health_annotate(Account.objects.filter(pk__in=list(account_ids)), as_of=day).annotate(
        health_date=_latest("date", day=day, output_field=DateField()),
        health_config_id=_latest("config_id", day=day, output_field=IntegerField()),
        health_config_name=_latest("config__name", day=day, output_field=CharField()),
    )
    rows = accounts.order_by().values_list(
        "pk", "health_date", "health_score", "health_label", "health_config_id", "health_config_name",
        "health_change_7", "health_change_30",
    )
    return {
        pk: AccountHealth(account_id=pk, date=_as_date(date), score=score, label=label or "", config_id=config_id,
                          config_name=config_name or "", change_7=change_7, change_30=change_30)
        for pk, date, score, label, config_id, config_name, change_7, change_30 in rows
    }


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class HealthTrend:
    """Score as of a day, as of `days` earlier, and the change (None when either is missing)."""

    days: int
    current: int | None
    previous: int | None

    @property
    def change(self) -> int | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def arrow(self) -> str:
        return _arrow(self.change)


def health_trend(*, account: Account, days: int, as_of: dt.datetime | dt.date | None = None) -> HealthTrend:
    """The change of the account's score over `days` days up to the day (two queries)."""
    day = _day(as_of)
    current = _latest_rows(day=day, account=account).values_list("score", flat=True).first()
    previous = _latest_rows(day=day - dt.timedelta(days=days), account=account).values_list(
        "score", flat=True).first()
    return HealthTrend(days=days, current=current, previous=previous)


def health_sparkline_points(*, account: Account, days: int = 30, as_of: dt.datetime | dt.date | None = None
                            ) -> list[tuple[dt.date, int | None]]:
    """(date, score) for each of the `days` + 1 days ending on the day, oldest first (one query).

    A day without a row, or whose score is missing, has None (a gap in the line).
    """
    day = _day(as_of)
    start = day - dt.timedelta(days=days)
    stored = dict(
        HealthScore.objects.filter(account=account, date__gte=start, date__lte=day).values_list("date", "score")
    )
    return [(start + dt.timedelta(days=n), stored.get(start + dt.timedelta(days=n))) for n in range(days + 1)]


@dataclass(frozen=True)
class ParameterResult:
    """One parameter of an account's breakdown."""

    pillar: str
    pillar_label: str
    text: str
    value: float | None
    score: float | None
    weight: float
    parameter_id: int

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class HealthBreakdown:
    """An account's latest row explained: the config used and each parameter's value and score."""

    date: dt.date | None
    score: int | None
    label: str
    config: HealthConfig | None
    parameters: list[ParameterResult] = field(default_factory=list)


def health_breakdown(*, account: Account, as_of: dt.datetime | dt.date | None = None) -> HealthBreakdown:
    """The Account 360 breakdown of the latest row dated on or before the day (two or three queries)."""
    row = _latest_rows(day=_day(as_of), account=account).select_related("config").first()
    if row is None:
        return HealthBreakdown(date=None, score=None, label="", config=None)
    parameters = list(HealthParameter.objects.filter(config_id=row.config_id).order_by("position", "pk"))
    custom = custom_definitions() if any(p.field.startswith("custom.") for p in parameters) else {}
    results = []
    for parameter in parameters:
        value, score = (row.details or {}).get(str(parameter.pk), [None, None])
        results.append(ParameterResult(
            pillar=parameter.pillar, pillar_label=parameter.get_pillar_display(),
            text=parameter_text(parameter, custom=custom), value=value, score=score,
            weight=float(parameter.weight), parameter_id=parameter.pk,
        ))
    return HealthBreakdown(date=row.date, score=row.score, label=row.label, config=row.config, parameters=results)


def parameter_text(parameter: HealthParameter, *, custom: Mapping[str, CustomDef]) -> str:
    """The parameter's field as words, e.g. "License utilization in the last 30 days"."""
    field_ = registry.resolve(parameter.field, kind="account", custom=custom)
    if field_ is None:
        return parameter.field
    text = field_.phrase(parameter.params) if field_.phrase else sentence_label(field_.label)
    return text[:1].upper() + text[1:]


# Segment averages -------------------------------------------------------------------


def segment_health_series(*, segment: Segment, days: int = 30, as_of: dt.datetime | dt.date | None = None
                          ) -> list[tuple[dt.date, float | None]]:
    """(date, average health) of the segment's daily snapshots over the last `days` days, oldest first."""
    day = _day(as_of)
    snapshots = SegmentSnapshot.objects.filter(segment=segment, date__gte=day - dt.timedelta(days=days),
                                               date__lte=day).order_by("date")
    return [(date, float(avg) if avg is not None else None) for date, avg in snapshots.values_list("date",
                                                                                                   "avg_health")]


# Admin preview -------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """How many accounts a config scores good / average / poor, and how many it cannot score."""

    good: int = 0
    average: int = 0
    poor: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return self.good + self.average + self.poor + self.missing


def health_config_preview(*, config: HealthConfig, parameters: Sequence[HealthParameter],
                          as_of: dt.datetime | None = None, custom: Mapping[str, CustomDef] | None = None
                          ) -> Distribution:
    """The label distribution a (possibly unsaved) config would give its accounts now; writes nothing.

    Its accounts are those the priority rule would give it, as if it were saved.
    """
    as_of = as_of or timezone.now()
    custom = custom_definitions() if custom is None else custom
    ordered = configured_segment_ids(including=config.segment_id)
    scorecard = Scorecard(segment_id=config.segment_id, good_cutoff=config.good_cutoff,
                          poor_cutoff=config.poor_cutoff, parameters=tuple(parameters), config_id=config.pk)
    accounts = assigned_accounts(segment_id=config.segment_id, ordered_segment_ids=ordered)
    sql, params = scorecard_sql(scorecard=scorecard, accounts=accounts, as_of=as_of, custom=custom)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT scored.label, COUNT(*) FROM ({sql}) scored GROUP BY scored.label", params)  # noqa: S608
        counts = dict(cursor.fetchall())
    return Distribution(good=counts.get("good", 0), average=counts.get("average", 0), poor=counts.get("poor", 0),
                        missing=counts.get("", 0))


def health_config_stored_distribution(*, config: HealthConfig, as_of: dt.datetime | dt.date | None = None
                                      ) -> Distribution:
    """The label distribution of the rows the config stored on the latest scored day up to the day."""
    day = _day(as_of)
    latest = HealthScore.objects.filter(config=config, date__lte=day).order_by("-date").values_list(
        "date", flat=True).first()
    if latest is None:
        return Distribution()
    counts = dict(
        HealthScore.objects.filter(config=config, date=latest).order_by().values_list("label").annotate(
            n=Count("pk"))
    )
    return Distribution(good=counts.get("good", 0), average=counts.get("average", 0), poor=counts.get("poor", 0),
                        missing=counts.get("", 0))


# Account 360 panel (registered in accounts.extensions by health/apps.py) ----------------------


def health_account_panel(*, account: Account, as_of: dt.datetime | None = None, user=None) -> dict:
    """The context of the Account 360 health panel: breakdown by pillar, trends, 30-day sparkline."""
    breakdown = health_breakdown(account=account, as_of=as_of)
    pillars: dict[str, list[ParameterResult]] = {}
    for result in breakdown.parameters:
        pillars.setdefault(result.pillar_label, []).append(result)
    return {
        "health": breakdown,
        "health_pillars": list(pillars.items()),
        "health_trends": [health_trend(account=account, days=days, as_of=as_of) for days in TREND_DAYS],
        "health_points": health_sparkline_points(account=account, days=30, as_of=as_of),
    }


def health_configs_using_segments(segment_ids) -> dict[int, list[str]]:
    """For each segment id, the health config that scores it (one query; a segments.usage provider)."""
    rows = HealthConfig.objects.filter(segment_id__in=list(segment_ids)).values_list("segment_id", "name")
    return {segment_id: [f"Health config: {name}"] for segment_id, name in rows}
