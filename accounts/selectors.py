"""Reads of the CSM pages on the customer data: sorted, paginated lists and one account's details.

Lists are read in two steps whatever the page size: the primary keys of the
page (filtered, sorted, sliced: only the sort key is computed for every
row), then the page's rows with their annotations (last activity, health)
computed for those rows only. With the paginator's count that is three
queries, none per row. Sorting goes through an allow-list of named sorts.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Expression, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.extensions import AccountMetric
from accounts.models import LOGIN_EVENT, Account, CustomAttributeDefinition, EndUser, Event, Subscription

PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = 50


def as_of_is_current(as_of: dt.datetime | dt.date) -> bool:
    """True when as_of's (UTC) day is today or later: the pages then read the stored current values."""
    day = as_of.astimezone(dt.UTC).date() if isinstance(as_of, dt.datetime) else as_of
    return day >= timezone.now().astimezone(dt.UTC).date()


def last_activity_expression(*, as_of: dt.datetime, account_ref: str = "pk") -> Expression:
    """The latest event (of any name) of the account at or before as_of; NULL when none.

    For today (as_of_is_current) on Account rows, the stored
    `Account.last_activity_at` (the latest event, kept by
    accounts.services.account_last_activity_sync; indexed, so a list of
    100,000 accounts sorts on it without reading events). For an earlier
    day, ORDER BY ... LIMIT 1 on the covering index (account, occurred_at).
    """
    if account_ref == "pk" and as_of_is_current(as_of):
        return F("last_activity_at")
    latest = Event.objects.filter(account=OuterRef(account_ref), occurred_at__lte=as_of).order_by("-occurred_at")
    return Subquery(latest.values("occurred_at")[:1])


@dataclass(frozen=True)
class Sort:
    """A named sort of a list: the label shown and what it orders by."""

    key: str
    label: str
    field: str | None = None  # a model path, or None for an annotation named `key`


ACCOUNT_SORTS: dict[str, Sort] = {
    s.key: s
    for s in (
        Sort("name", "Name", "name"),
        Sort("plan", "Plan", "plan"),
        Sort("mrr", "MRR", "mrr"),
        Sort("arr", "ARR", "mrr"),  # ARR is MRR * 12: the same order
        Sort("health", "Health"),
        Sort("renewal", "Renewal", "renewal_date"),
        Sort("last_activity", "Last activity"),
        Sort("csm", "CSM", "csm__username"),
    )
}
SUBSCRIPTION_SORTS: dict[str, Sort] = {
    s.key: s
    for s in (
        Sort("external_id", "Subscription", "external_id"),
        Sort("account", "Account", "account__name"),
        Sort("plan", "Plan", "plan"),
        Sort("status", "Status", "status"),
        Sort("billing_period", "Billing", "billing_period"),
        Sort("mrr", "MRR", "mrr"),
        Sort("health", "Health"),
        Sort("start", "Start", "start_date"),
        Sort("end", "End", "end_date"),
        Sort("csm", "CSM", "account__csm__username"),
    )
}


def sort_parse(value: str | None, sorts: Mapping[str, Sort], *, default: str) -> tuple[str, bool]:
    """Return (sort key, descending) for a `sort` parameter like "-mrr"; unknown keys give the default."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in sorts:
        default_descending = default.startswith("-")
        return default.lstrip("-"), default_descending
    return key, descending


def _order(expression: Expression | F, descending: bool, *, nullable: bool = True):
    """Order by `expression`, missing values last both ways.

    NULLS LAST is only written for a nullable sort key: on a NOT NULL column
    it would stop the database from reading the index in order.
    """
    if not nullable:
        return expression.desc() if descending else expression.asc()
    return expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)


def _nullable(model, path: str) -> bool:
    """Whether the value at `path` (a__b__c) can be NULL: a nullable column or a nullable relation on the way."""
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.null:
            return True
        if field.is_relation:
            model = field.related_model
    return False


@dataclass(frozen=True)
class ListAnnotations:
    """Expressions computed per row of a list: by name, e.g. last_activity, health_score."""

    expressions: Mapping[str, Expression]

    def for_sort(self, sort: Sort) -> Expression | F | None:
        if sort.field:
            return F(sort.field)
        return self.expressions.get(sort.key)


def list_page(
    *,
    queryset: QuerySet,
    sort: Sort,
    descending: bool,
    annotations: ListAnnotations,
    page_number: Any,
    per_page: int,
    related: tuple[str, ...] = (),
    count: Callable[[], int] | None = None,
) -> Page:
    """One page of `queryset`, sorted, with the rows annotated: three queries whatever `per_page`.

    The page's `object_list` holds model instances carrying the annotations.
    A sort whose annotation is missing (health without the health app)
    falls back to the primary key. `count`: a cheaper way to count the
    rows, when the caller knows one (else the queryset's, without the sort).

    Two sorts read the rows that have a value first, down the column's
    index, and stop at the page (see _valued_ids): a column of a related
    row (current health: an annotation F("relation__column")), and a
    descending sort on a nullable field (-MRR: DESC NULLS LAST is not the
    order of PostgreSQL's index, which then sorted every row). Only a page
    reaching the rows without a value runs the full ordering too (a fourth
    query).
    """
    order_expr = annotations.for_sort(sort)
    ids = queryset.order_by()
    nullable = True
    valued_path = None
    if isinstance(order_expr, F) and "__" in order_expr.name and not sort.field:
        valued_path = order_expr.name
    if order_expr is not None and not sort.field:
        ids = ids.alias(sort_value=order_expr)
        order_expr = F("sort_value")
    elif sort.field:
        nullable = _nullable(queryset.model, sort.field)
        valued_path = sort.field if nullable and descending else None
    ordering = [_order(order_expr, descending, nullable=nullable)] if order_expr is not None else []
    ids = ids.order_by(*ordering, "-pk" if descending else "pk").values_list("pk", flat=True)
    if count is None:
        count = queryset.order_by().count
    if valued_path is None:
        page = _Paginator(ids, per_page, count=count).get_page(page_number)
        page_ids = list(page.object_list)
    else:
        valued = _valued_ids(queryset, valued_path, descending, related=not sort.field)
        page = _Paginator(valued, per_page, count=count).get_page(page_number)
        page_ids = list(page.object_list)
        expected = page.end_index() - page.start_index() + 1 if page.paginator.count else 0
        if len(page_ids) < expected:  # the page reaches the rows without a value: the full ordering
            page_ids = list(ids[page.start_index() - 1 : page.end_index()])
    rows = queryset.model.objects.filter(pk__in=page_ids).select_related(*related)
    if annotations.expressions:
        rows = rows.annotate(**annotations.expressions)
    by_id = {row.pk: row for row in rows}
    page.object_list = [by_id[pk] for pk in page_ids if pk in by_id]
    return page


def _valued_ids(queryset: QuerySet, path: str, descending: bool, *, related: bool) -> QuerySet:
    """The ids of the rows that have a value at `path`, in the sort's order; rows without one sort last.

    So these rows come first, in the same order as the full sort (ties by
    the account's id), and the databases can read them down the column's
    index and stop at the page. `related`: `path` is "relation__column" of a
    related row (CurrentHealth); ties then go by the related row's key when
    it is the row's own (CurrentHealth's account: the same value), the order
    of the (column, key) index.
    """
    tie = "pk"
    if related:
        relation = path.rsplit("__", 1)[0]
        related_pk = queryset.model._meta.get_field(relation).related_model._meta.pk
        if related_pk.is_relation and related_pk.related_model is queryset.model:
            tie = f"{relation}__pk"
    ordering = [F(path).desc(), F(tie).desc()] if descending else [F(path).asc(), F(tie).asc()]
    return queryset.order_by().filter(**{f"{path}__isnull": False}).order_by(*ordering).values_list("pk", flat=True)


class _Paginator(Paginator):
    """A paginator that may be told how to count its rows."""

    def __init__(self, *args, count: Callable[[], int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._count = count

    @cached_property
    def count(self) -> int:
        return self._count() if self._count is not None else super().count


def account_list_annotations(*, as_of: dt.datetime, metrics: list[AccountMetric]) -> ListAnnotations:
    """Last activity and the registered metrics (health), per account row."""
    expressions: dict[str, Expression] = {"last_activity": last_activity_expression(as_of=as_of)}
    for metric in metrics:
        expressions[metric.key] = metric.annotation(as_of=as_of)
    if "health_score" in expressions:
        expressions["health"] = expressions["health_score"]
    return ListAnnotations(expressions)


def subscription_list_annotations(*, as_of: dt.datetime, metrics: list[AccountMetric]) -> ListAnnotations:
    """The account's registered metrics (health), per subscription row."""
    expressions: dict[str, Expression] = {}
    for metric in metrics:
        per_account = Account.objects.filter(pk=OuterRef("account_id")).annotate(value=metric.annotation(as_of=as_of))
        expressions[metric.key] = Subquery(per_account.values("value")[:1])
    if "health_score" in expressions:
        expressions["health"] = expressions["health_score"]
    return ListAnnotations(expressions)


def per_page_parse(value: Any) -> int:
    """The page size asked for, from the allowed sizes only."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PER_PAGE
    return size if size in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


# One account -----------------------------------------------------------------


def account_custom_attributes(*, account: Account) -> list[dict]:
    """The account's custom attributes, every definition in key order, missing ones included."""
    values = account.custom if isinstance(account.custom, dict) else {}
    return [
        {"key": d.key, "label": d.label or d.key, "type": d.type, "value": values.get(d.key)}
        for d in CustomAttributeDefinition.objects.order_by("key")
    ]


def account_end_users(*, account: Account, as_of: dt.datetime, limit: int = 200) -> list[EndUser]:
    """The account's end users with their last activity and event count, most recently active first."""
    latest = Event.objects.filter(user=OuterRef("pk"), occurred_at__lte=as_of).order_by("-occurred_at")
    return list(
        account.end_users.annotate(last_activity=Subquery(latest.values("occurred_at")[:1]))
        .order_by(F("last_activity").desc(nulls_last=True), "external_id")[:limit]
    )


def account_subscriptions(*, account: Account) -> list[Subscription]:
    return list(account.subscriptions.order_by(F("end_date").desc(nulls_last=True), "external_id"))


@dataclass(frozen=True)
class WeekBucket:
    week: dt.date
    quantity: int
    events: int


def account_weekly_activity(*, account: Account, as_of: dt.datetime, weeks: int = 26) -> list[WeekBucket]:
    """Events per ISO week (Monday) over the last `weeks` weeks up to as_of, empty weeks included."""
    today = as_of.astimezone(dt.UTC).date()
    last_monday = today - dt.timedelta(days=today.weekday())
    first_monday = last_monday - dt.timedelta(weeks=weeks - 1)
    start = dt.datetime.combine(first_monday, dt.time(), tzinfo=dt.UTC)
    rows = (
        Event.objects.filter(account=account, occurred_at__gte=start, occurred_at__lte=as_of)
        .annotate(week=TruncWeek("occurred_at", tzinfo=dt.UTC))
        .values("week")
        .annotate(quantity=Sum("quantity"), events=Count("pk"))
        .order_by("week")
    )
    found = {_as_date(r["week"]): (r["quantity"], r["events"]) for r in rows}
    buckets = []
    for i in range(weeks):
        week = first_monday + dt.timedelta(weeks=i)
        quantity, events = found.get(week, (0, 0))
        buckets.append(WeekBucket(week=week, quantity=quantity or 0, events=events or 0))
    return buckets


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def account_activity_summary(*, account: Account, as_of: dt.datetime) -> dict:
    """Last activity, and logins and feature usage (event quantities) of the last 30 days: one query."""
    window = Q(occurred_at__gt=as_of - dt.timedelta(days=30))
    return Event.objects.filter(account=account, occurred_at__lte=as_of).aggregate(
        last_activity=Max("occurred_at"),
        logins_30d=Coalesce(Sum("quantity", filter=window & Q(name=LOGIN_EVENT)), 0),
        usage_30d=Coalesce(Sum("quantity", filter=window & ~Q(name=LOGIN_EVENT)), 0),
    )
