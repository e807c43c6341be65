"""Operands: how one field's value (for one evaluation) takes part in a predicate.

The registry gives every field an operand factory; the compiler asks the
operand for predicates (`where`, `at_least`, `is_set`, ...) and wraps the
result with `operand.wrap` (EXISTS over subscriptions, the user's account).
Every predicate an operand returns is a definite true/false, never SQL NULL:
a rule on a missing value is false, so `~Q` (group negate) is a plain NOT.
"""

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Exists, Expression, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, IsNull, LessThan, LessThanOrEqual

from segments.sql import MATCH_ALL, MATCH_NONE, InList, Num, WholeDaysSince, clamp_days, text_value

LOOKUPS = {"eq": Exact, "gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan, "lte": LessThanOrEqual}


def any_of(predicates: list[Q]) -> Q:
    """OR the predicates; no predicate matches nothing."""
    result = MATCH_NONE
    for index, predicate in enumerate(predicates):
        result = predicate if index == 0 else result | predicate
    return result


class Operand:
    """A field's value in SQL, with the predicates the operators need.

    `scale`: for numbers, the value is exact with at most `scale` decimals
    (integers 0, money 2) and comparisons are rewritten exactly to those
    steps; None compares with the given number as is (`number_param`
    "num": exact numeric, "float": doubles, for percentages).
    `date_param`: "date" (a DATE column), "iso" (a YYYY-MM-DD string) or
    "datetime". `list_element`: the InList element type for `in`.
    """

    expr: Expression | None = None
    scale: int | None = None
    number_param = "num"
    date_param = "date"
    list_element = "text"

    def is_set(self) -> Q:
        raise NotImplementedError

    def where(self, build: Callable[[Expression], Expression | list[Expression]]) -> Q:
        """The predicate build(value) (a test or a list of tests, all true), false when missing."""
        raise NotImplementedError

    def compare(self, op: str, param: Expression) -> Q:
        return self.where(lambda value: LOOKUPS[op](value, param))

    def at_least(self, bound: Decimal) -> Q:
        return self.compare("gte", Num(bound))

    def at_most(self, bound: Decimal) -> Q:
        return self.compare("lte", Num(bound))

    def equals(self, bound: Decimal) -> Q:
        return self.compare("eq", Num(bound))

    def in_list(self, values: list) -> Q:
        if not values:
            return MATCH_NONE
        return self.where(lambda value: InList(value, values, element=self.list_element))

    def wrap(self, predicate: Q) -> Q:
        """Turn a predicate on this operand's rows into one on the segment's rows."""
        return predicate

    def explain_value(self, rows: QuerySet) -> Any:
        """The value for the single row of `rows` (explain: one object, a few queries)."""
        return rows.annotate(_value=self.expr).values_list("_value", flat=True).first()

    def value_expression(self) -> Expression | None:
        """The value itself on the evaluated model's rows (NULL when missing), or None without one.

        The condition compiler needs predicates only; health parameters score the
        number (health.fields). None: no single value per row (subscriptions).
        """
        return None


class ExprOperand(Operand):
    """A value that is one SQL expression (a column, a metric subquery...).

    `nullable`: the expression may be NULL (missing). `empty_missing`: "" is
    missing too (text and choice). `coalesce`: guard with COALESCE(test,
    FALSE) instead of `IS NOT NULL AND test`, so that an expensive subquery
    is written once.
    """

    def __init__(self, expr, *, nullable=True, empty_missing=False, coalesce=False, scale=None,
                 number_param="num", date_param="date", list_element="text"):
        self.expr = expr
        self.nullable = nullable
        self.empty_missing = empty_missing
        self.coalesce = coalesce
        self.scale = scale
        self.number_param = number_param
        self.date_param = date_param
        self.list_element = list_element

    def is_set(self) -> Q:
        present = Q(IsNull(self.expr, False)) if self.nullable else MATCH_ALL
        if self.empty_missing:
            present &= ~Q(Exact(self.expr, text_value("")))
        return present

    def where(self, build) -> Q:
        tests = build(self.expr)
        tests = tests if isinstance(tests, list) else [tests]
        if self.coalesce:
            return Q(*[Coalesce(test, Value(False)) for test in tests])
        if not (self.nullable or self.empty_missing):
            return Q(*tests)
        return self.is_set() & Q(*tests)

    def value_expression(self) -> Expression:
        return self.expr


class CountOperand(ExprOperand):
    """A count of rows, or a sum of their (positive) quantities: never missing.

    "At least 1" is "some row exists" and "0" is "no row": those (the most
    common thresholds: `gt 0`, `gte 1`, `eq 0`, `lt 1`) become an EXISTS that
    stops at the first row instead of aggregating them all.
    """

    def __init__(self, expr, rows: QuerySet):
        super().__init__(expr, nullable=False, scale=0, list_element="numeric")
        self.rows = rows

    def at_least(self, bound: Decimal) -> Q:
        if bound <= 0:
            return MATCH_ALL
        return Q(Exists(self.rows)) if bound == 1 else super().at_least(bound)

    def at_most(self, bound: Decimal) -> Q:
        if bound < 0:
            return MATCH_NONE
        return ~Q(Exists(self.rows)) if bound == 0 else super().at_most(bound)

    def equals(self, bound: Decimal) -> Q:
        if bound < 0:
            return MATCH_NONE
        return ~Q(Exists(self.rows)) if bound == 0 else super().equals(bound)


class RankOperand(Operand):
    """`mrr_rank`: 1 + the number of accounts with a higher MRR (SQL RANK()).

    rank <= K  <=>  mrr >= the K-th highest MRR (duplicates counted), so each
    bound is a non-correlated `ORDER BY mrr DESC LIMIT 1 OFFSET K-1` read on
    the mrr index, computed once per query instead of once per account.
    """

    scale = 0

    def __init__(self, model):
        self.model = model

    def is_set(self) -> Q:
        return Q(mrr__isnull=False)

    def _rank_at_most(self, bound: int) -> Q:
        if bound < 1:
            return MATCH_NONE
        ranked = self.model.objects.filter(mrr__isnull=False).order_by("-mrr").values("mrr")
        kth = Subquery(ranked[bound - 1 : bound])
        # No K-th account (K > accounts with MRR): every ranked account qualifies.
        return self.is_set() & Q(Coalesce(GreaterThanOrEqual(F("mrr"), kth), Value(True)))

    def at_most(self, bound: Decimal) -> Q:
        return self._rank_at_most(_clamp_int(bound))

    def at_least(self, bound: Decimal) -> Q:
        return self.is_set() & ~self._rank_at_most(_clamp_int(bound) - 1)

    def equals(self, bound: Decimal) -> Q:
        return self.at_least(bound) & self.at_most(bound)

    def in_list(self, values: list) -> Q:
        return any_of([self.equals(v) for v in values])

    def where(self, build):
        raise TypeError("ranks are compared through at_least / at_most")

    def explain_value(self, rows):
        mrr = rows.values_list("mrr", flat=True).first()
        if mrr is None:
            return None
        return self.model.objects.filter(mrr__gt=mrr).count() + 1


def _clamp_int(value: Decimal) -> int:
    return int(max(min(value, Decimal(2**62)), Decimal(-(2**62))))


class DaysSinceOperand(Operand):
    """Whole days since the latest row of `rows` (events, touchpoints) at or before as_of.

    floor((as_of - t) / 24h) >= n  <=>  t <= as_of - n*24h, so comparisons
    become range tests on the timestamps with the instants as parameters:
    identical on both databases, no date arithmetic in SQL, index-friendly.
    """

    scale = 0

    def __init__(self, rows: QuerySet, *, as_of: dt.datetime, column: str = "occurred_at"):
        self.rows = rows.filter(**{f"{column}__lte": as_of})
        self.as_of = as_of
        self.column = column

    def _exists(self, after: dt.datetime | None = None) -> Q:
        rows = self.rows if after is None else self.rows.filter(**{f"{self.column}__gt": after})
        return Q(Exists(rows))

    def is_set(self) -> Q:
        return self._exists()

    def at_least(self, bound: Decimal) -> Q:
        days = _clamp_int(bound)
        if days <= 0:
            return self.is_set()
        # The latest is at or before as_of - days: nothing after that instant.
        return self.is_set() & ~self._exists(after=clamp_days(self.as_of, -days))

    def at_most(self, bound: Decimal) -> Q:
        days = _clamp_int(bound)
        if days < 0:
            return MATCH_NONE
        return self._exists(after=clamp_days(self.as_of, -(days + 1)))

    def equals(self, bound: Decimal) -> Q:
        return self.at_least(bound) & self.at_most(bound)

    def in_list(self, values: list) -> Q:
        return any_of([self.equals(v) for v in values])

    def where(self, build) -> Q:
        raise TypeError("days-since values are compared through at_least / at_most")

    def explain_value(self, rows):
        from django.db.models import Max

        latest = self.rows.order_by().values(self.column).aggregate(latest=Max(self.column))["latest"]
        if latest is None:
            return None
        return math.floor((self.as_of - latest) / dt.timedelta(days=1))

    def value_expression(self) -> Expression:
        # The latest row at or before as_of (self.rows is already so filtered), read from
        # the (owner, time) index: one top-1 lookup per row (correlated: BoundDaysSince).
        latest = self.rows.order_by(f"-{self.column}").values(self.column)[:1]
        return WholeDaysSince(Subquery(latest), as_of=self.as_of)


class BoundDaysSince(DaysSinceOperand):
    """A DaysSinceOperand whose rows are correlated to the outer row.

    For explain, the outer row is substituted by filtering on its pk.
    """

    def __init__(self, rows_for: Callable[[Any], QuerySet], *, as_of, column="occurred_at"):
        self.rows_for = rows_for
        super().__init__(rows_for(OuterRef("pk")), as_of=as_of, column=column)

    def explain_value(self, rows):
        pk = rows.values_list("pk", flat=True).first()
        bound = DaysSinceOperand(self.rows_for(pk), as_of=self.as_of, column=self.column)
        return bound.explain_value(rows)


class GroupedOperand(Operand):
    """A metric defined only where its rows exist, computed in ONE grouped pass.

    `rows` is NOT correlated (all owners' rows); `value` an aggregate over one
    owner's rows (NULL when undefined). A rule becomes `pk IN (SELECT owner
    FROM rows GROUP BY owner HAVING value IS NOT NULL AND test)`: an owner
    without rows has no value (missing), exactly as the spec wants for the
    percentages, and the database scans the window once instead of running
    two correlated aggregates per account (measured 2-3x faster).
    """

    number_param = "float"
    list_element = "float"

    def __init__(self, rows: QuerySet, *, owner: str, value):
        self.rows = rows
        self.owner = owner
        self.value = value

    def _groups(self, rows: QuerySet | None = None) -> QuerySet:
        rows = self.rows if rows is None else rows
        return rows.order_by().values(self.owner).annotate(_metric=self.value).filter(_metric__isnull=False)

    def is_set(self) -> Q:
        return Q(pk__in=self._groups().values(self.owner))

    def where(self, build) -> Q:
        tests = build(F("_metric"))
        tests = tests if isinstance(tests, list) else [tests]
        return Q(pk__in=self._groups().filter(*tests).values(self.owner))

    def explain_value(self, rows):
        pk = rows.values_list("pk", flat=True).first()
        mine = self._groups(self.rows.filter(**{self.owner: pk}))
        return next(iter(mine.values_list("_metric", flat=True)), None)

    def value_expression(self) -> Expression:
        # The same aggregate over the owner's rows, correlated (NULL without rows: missing).
        mine = self.rows.filter(**{self.owner: OuterRef("pk")}).order_by().values(self.owner)
        return Subquery(mine.annotate(_metric=self.value).values("_metric")[:1])


class ScopedOperand(Operand):
    """Another operand evaluated on related rows, wrapped back onto the segment's rows."""

    def __init__(self, inner: Operand):
        self.inner = inner
        self.expr = inner.expr
        self.scale = inner.scale
        self.number_param = inner.number_param
        self.date_param = inner.date_param
        self.list_element = inner.list_element

    def is_set(self):
        return self.inner.is_set()

    def where(self, build):
        return self.inner.where(build)

    def compare(self, op, param):
        return self.inner.compare(op, param)

    def at_least(self, bound):
        return self.inner.at_least(bound)

    def at_most(self, bound):
        return self.inner.at_most(bound)

    def equals(self, bound):
        return self.inner.equals(bound)

    def in_list(self, values):
        return self.inner.in_list(values)


class SubscriptionOperand(ScopedOperand):
    """"The account has at least one subscription whose ...": one EXISTS per rule."""

    def wrap(self, predicate: Q) -> Q:
        from accounts.models import Subscription

        return Q(Exists(Subscription.objects.filter(account=OuterRef("pk")).filter(self.inner.wrap(predicate))))

    def explain_value(self, rows):
        from accounts.models import Subscription

        subscriptions = Subscription.objects.filter(account__in=rows.values("pk")).order_by("external_id")
        pks = subscriptions.values_list("pk", flat=True)
        return [self.inner.explain_value(subscriptions.filter(pk=pk)) for pk in pks]


class AccountOperand(ScopedOperand):
    """`account.<key>` in a user segment: the rule evaluated on the user's account.

    `account_id IN (accounts matching the rule)`: the account-level rule is
    evaluated once per account, not once per user.
    """

    def wrap(self, predicate: Q) -> Q:
        from accounts.models import Account

        return Q(account__in=Account.objects.filter(self.inner.wrap(predicate)).values("pk"))

    def explain_value(self, rows):
        from accounts.models import Account

        return self.inner.explain_value(Account.objects.filter(pk__in=rows.values("account_id")))


class MembershipOperand(Operand):
    """`segment in [...]`: current materialised membership (never missing)."""

    def __init__(self, membership_model, member_field: str):
        self.model = membership_model
        self.member_field = member_field

    def is_set(self) -> Q:
        return MATCH_ALL

    def in_list(self, values: list) -> Q:
        if not values:
            return MATCH_NONE
        memberships = self.model.objects.filter(**{self.member_field: OuterRef("pk")})
        slugs = InList(F("segment__slug"), values, element="text")
        return Q(Exists(memberships.filter(slugs)))

    def where(self, build):
        raise TypeError("segment membership only supports in / not_in")

    def explain_value(self, rows):
        memberships = self.model.objects.filter(**{f"{self.member_field}__in": rows.values("pk")})
        return sorted(memberships.values_list("segment__slug", flat=True))
