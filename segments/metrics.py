"""Engagement metrics as correlated subqueries, evaluated as of `as_of`.

Conditions/conditions.md, "Time": a window of N days is (as_of - N*24h,
as_of]; nothing after as_of exists (events, touchpoints, tickets after it,
end users created after it). Counts are pre-aggregated subqueries wrapped in
COALESCE(..., 0) (never missing), read through the covering indexes of
accounts/models.py (event_acct_name_time_idx, event_user_time_idx, ...).
"""

import datetime as dt

from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf

from accounts.models import LOGIN_EVENT, EndUser, Event, SupportTicket, Touchpoint
from segments.operands import BoundDaysSince, CountOperand, ExprOperand, GroupedOperand
from segments.sql import clamp_days


def window(as_of: dt.datetime, days: int, column: str = "occurred_at") -> Q:
    """Rows of the window of `days` days: (as_of - days*24h, as_of]."""
    return Q(**{f"{column}__gt": clamp_days(as_of, -days), f"{column}__lte": as_of})


def existing_users(as_of: dt.datetime, prefix: str = "") -> Q:
    """End users that exist at as_of (no created_at always counts)."""
    return Q(**{f"{prefix}created_at__isnull": True}) | Q(**{f"{prefix}created_at__lte": as_of})


def _total(rows: QuerySet, group: str, aggregate) -> Coalesce:
    """COALESCE((SELECT aggregate FROM rows GROUP BY the correlated key), 0)."""
    subquery = rows.order_by().values(group).annotate(total=aggregate).values("total")
    return Coalesce(Subquery(subquery, output_field=IntegerField()), Value(0), output_field=IntegerField())


def _count(rows: QuerySet, group: str = "account") -> Coalesce:
    return _total(rows, group, Count("*"))


def _quantity(rows: QuerySet, group: str = "account") -> Coalesce:
    return _total(rows, group, Sum("quantity"))


def percentage(numerator, denominator) -> ExpressionWrapper:
    """100 * numerator / denominator as a double, NULL when the denominator is 0 or NULL.

    Multiply first, then one IEEE division of two exact integers: the result
    is the double nearest the true ratio, exactly what Python's
    `100 * a / b` gives, so 3 of 10 is exactly 30.
    """
    hundred_times = Cast(numerator * Value(100), FloatField())
    return ExpressionWrapper(hundred_times / Cast(NullIf(denominator, Value(0)), FloatField()), FloatField())


def count_operand(rows: QuerySet, group: str = "account", *, quantity: bool = False) -> CountOperand:
    """The number of `rows` (or the sum of their quantities) per owner."""
    return CountOperand(_quantity(rows, group) if quantity else _count(rows, group), rows)


def pct_operand(expr) -> ExprOperand:
    return ExprOperand(expr, coalesce=True, number_param="float", list_element="float")


# Account metrics ------------------------------------------------------------


def account_users(*, as_of, role=None, active_days=None) -> QuerySet:
    """End users of the account (by role) existing at as_of, optionally only the active in a window."""
    users = EndUser.objects.filter(existing_users(as_of), account=OuterRef("pk"))
    if role:
        users = users.filter(role=role)
    if active_days is not None:
        users = users.filter(Exists(Event.objects.filter(window(as_of, active_days), user=OuterRef("pk"))))
    return users


def users_operand(ctx, params):
    role = params.get("role")
    operand = count_operand(account_users(as_of=ctx.as_of, role=role))
    source = _shared(ctx)
    return operand if source is None else source.user_count(key=("users", role), fallback=operand)


def active_users_operand(ctx, params):
    role, days = params.get("role"), params["days"]
    operand = count_operand(account_users(as_of=ctx.as_of, role=role, active_days=days))
    source = _shared(ctx)
    return operand if source is None else source.user_count(key=("active", days, role), fallback=operand)


def inactive_users_pct_operand(ctx, params):
    """100 * (users - active users) / users, over each account's users in one grouped pass."""
    source = _shared(ctx)
    shared = source and source.inactive_pct(days=params["days"], role=params.get("role"))
    if shared:
        return shared
    users = EndUser.objects.filter(existing_users(ctx.as_of))
    if params.get("role"):
        users = users.filter(role=params["role"])
    active = Exists(Event.objects.filter(window(ctx.as_of, params["days"]), user=OuterRef("pk")))
    inactive = Sum(Case(When(active, then=Value(0)), default=Value(1)), output_field=IntegerField())
    return GroupedOperand(users, owner="account", value=percentage(inactive, Count("*")))


def license_utilization_pct_operand(ctx, params):
    source = _shared(ctx)
    active = source and source.active_scalar(days=params["days"])
    if active is None:
        active = _count(account_users(as_of=ctx.as_of, active_days=params["days"]))
    return pct_operand(percentage(active, F("licenses")))


def _events(owner: str):
    return Event.objects.filter(**{owner: OuterRef("pk")})


def _usage_events(owner: str, feature: str | None):
    events = _events(owner)
    return events.filter(name=feature) if feature else events.exclude(name=LOGIN_EVENT)


def _shared(ctx):
    """The run's shared MetricSource (segments.shared_metrics), or None."""
    return getattr(ctx, "metrics", None)


def _shareable_sum(ctx, owner: str, name: str | None, days: int, operand: CountOperand):
    """`operand` (a windowed sum of quantities), read from the run's shared pass when there is one."""
    source = _shared(ctx)
    if source is None:
        return operand
    return source.window_sum(owner=owner, name=name, days=days, fallback=operand)


def logins_operand_for(owner: str):
    def logins_operand(ctx, params):
        events = _events(owner).filter(window(ctx.as_of, params["days"]), name=LOGIN_EVENT)
        return _shareable_sum(ctx, owner, LOGIN_EVENT, params["days"], count_operand(events, owner, quantity=True))

    return logins_operand


def usage_operand_for(owner: str):
    def usage_operand(ctx, params):
        events = _usage_events(owner, params.get("feature")).filter(window(ctx.as_of, params["days"]))
        operand = count_operand(events, owner, quantity=True)
        return _shareable_sum(ctx, owner, params.get("feature"), params["days"], operand)

    return usage_operand


def usage_change_pct_operand(ctx, params):
    """100 * (usage in window - usage in previous window) / previous usage, one grouped pass."""
    days, feature = params["days"], params.get("feature")
    source = _shared(ctx)
    shared = source and source.change_pct(owner="account", name=feature, days=days)
    if shared:
        return shared
    events = Event.objects.filter(name=feature) if feature else Event.objects.exclude(name=LOGIN_EVENT)
    middle = clamp_days(ctx.as_of, -days)
    # + quantity in the window, - in the previous one: the difference in one pass.
    signed = Case(When(occurred_at__gt=middle, then=F("quantity")), default=-F("quantity"), output_field=IntegerField())
    previous = Case(When(occurred_at__lte=middle, then=F("quantity")), default=Value(0), output_field=IntegerField())
    value = percentage(Sum(signed), Sum(previous))
    return GroupedOperand(events.filter(window(ctx.as_of, 2 * days)), owner="account", value=value)


def days_since_activity_operand_for(owner: str):
    def days_since_activity_operand(ctx, params):
        role = params.get("role")
        source = _shared(ctx)
        shared = source and not role and source.latest(owner=owner)
        if shared:
            return shared

        def rows_for(pk):
            events = Event.objects.filter(**{owner: pk})
            if role:
                events = events.filter(existing_users(ctx.as_of, "user__"), user__isnull=False, user__role=role)
            return events

        return BoundDaysSince(rows_for, as_of=ctx.as_of)

    return days_since_activity_operand


def touchpoints_operand(ctx, params):
    touchpoints = Touchpoint.objects.filter(window(ctx.as_of, params["days"]), account=OuterRef("pk"))
    if params.get("kind"):
        touchpoints = touchpoints.filter(kind=params["kind"])
    return count_operand(touchpoints)


def days_since_touchpoint_operand(ctx, params):
    kind = params.get("kind")

    def rows_for(pk):
        touchpoints = Touchpoint.objects.filter(account=pk)
        return touchpoints.filter(kind=kind) if kind else touchpoints

    return BoundDaysSince(rows_for, as_of=ctx.as_of)


def open_tickets_operand(ctx, params):
    as_of = ctx.as_of
    still_open = Q(closed_at__gt=as_of) | Q(closed_at__isnull=True, status="open")
    tickets = SupportTicket.objects.filter(still_open, account=OuterRef("pk"), opened_at__lte=as_of)
    return count_operand(tickets)


def tickets_operand(ctx, params):
    tickets = SupportTicket.objects.filter(window(ctx.as_of, params["days"], "opened_at"), account=OuterRef("pk"))
    return count_operand(tickets)
