"""Reads behind the segment admin: the builder's schema, previews, lookups and changelist totals.

Everything offered to the person building a segment (fields, groups,
operators, choices) is generated from the registry (DESIGN.md, "The flow of
a segment"). Every read here is a constant number of queries, whatever the
number of accounts or segments on the page.
"""

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, EndUser
from segments.conditions import ValidationContext, compile_conditions, matching_queryset, render_english, validate
from segments.models import AccountMembership, Segment, SegmentSnapshot, UserMembership
from segments.registry import MAX_DAYS, registry
from segments.selectors import membership_spec
from segments.validation import MAX_DEPTH, MAX_LIST, MAX_RULES, PERIODS

# Operator labels per value type, as the builder shows them (the plain-English
# renderer has its own phrasing for sentences).
OPERATOR_LABELS: dict[str, dict[str, str]] = {
    "number": {"eq": "equals", "ne": "does not equal", "gt": "is more than", "gte": "is at least",
               "lt": "is less than", "lte": "is at most", "between": "is between", "in": "is one of",
               "not_in": "is none of"},
    "text": {"eq": "is", "ne": "is not", "contains": "contains", "not_contains": "does not contain",
             "starts_with": "starts with", "ends_with": "ends with", "in": "is one of", "not_in": "is none of"},
    "choice": {"eq": "is", "ne": "is not", "in": "is any of", "not_in": "is none of"},
    "boolean": {"is_true": "is yes", "is_false": "is no"},
    "date": {"eq": "is on", "before": "is before", "after": "is after", "on_or_before": "is on or before",
             "on_or_after": "is on or after", "between": "is between", "in_last_days": "is in the last",
             "in_next_days": "is in the next", "more_than_days_ago": "is more than", "more_than_days_ahead":
             "is more than", "in_current": "is in the current"},
    "user": {"eq": "is", "ne": "is not", "in": "is any of", "not_in": "is none of"},
    "presence": {"is_set": "is set", "is_not_set": "is empty"},
}
# Words shown after a day count, by operator.
DAY_SUFFIXES = {"in_last_days": "days", "in_next_days": "days", "more_than_days_ago": "days ago",
                "more_than_days_ahead": "days ahead"}
SAMPLE_SIZE = 8
LOOKUP_LIMIT = 20


def builder_schema(*, kind: str, exclude_segment: Segment | None = None) -> dict:
    """What the condition builder needs for a `kind` segment: fields, operators, choices, limits."""
    context = ValidationContext.load()
    fields = registry.fields_for(kind, custom_definitions=context.custom.values())
    described = [f.describe() for f in fields]
    group_order = list(dict.fromkeys(f["group"] for f in described))
    segments = Segment.objects.filter(kind=kind).order_by("order", "name")
    if exclude_segment is not None:
        segments = segments.exclude(pk=exclude_segment.pk)
    return {
        "kind": kind,
        "groups": group_order,
        "fields": described,
        "operators": OPERATOR_LABELS,
        "day_suffixes": DAY_SUFFIXES,
        "periods": [{"value": p, "label": p} for p in PERIODS],
        "segments": [{"value": slug, "label": name} for slug, name in segments.values_list("slug", "name")],
        "limits": {"depth": MAX_DEPTH, "rules": MAX_RULES, "list": MAX_LIST, "days": MAX_DAYS},
    }


def staff_choices() -> list[dict]:
    """Every staff username (the `csm` field's values), active people first."""
    users = get_user_model().objects.order_by("-is_active", "username")
    return [
        {"value": u.username, "label": f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username}
        for u in users.only("username", "first_name", "last_name", "is_active")
    ]


def member_lookup(*, kind: str, query: str = "", ids: Sequence[str] = ()) -> list[dict]:
    """Accounts (or end users) by external id or name, for the expectations pickers."""
    if kind == "account":
        rows = Account.objects.all()
        search = Q(external_id__istartswith=query) | Q(name__icontains=query)
    else:
        rows = EndUser.objects.all()
        search = Q(external_id__istartswith=query) | Q(email__icontains=query) | Q(name__icontains=query)
    if ids:
        rows = rows.filter(external_id__in=list(ids)[:MAX_LIST])
    elif query:
        rows = rows.filter(search)[:LOOKUP_LIMIT]
    else:
        rows = rows[:LOOKUP_LIMIT]
    return [{"value": m.external_id, "label": _member_label(m)} for m in rows]


def _member_label(member) -> str:
    if isinstance(member, Account):
        return f"{member.name} ({member.external_id})"
    return f"{member.email or member.name or member.external_id} ({member.external_id})"


@dataclass(frozen=True)
class PreviewRequest:
    kind: str
    conditions: Any
    segment: Segment | None = None
    expect_members: tuple[str, ...] = ()
    expect_non_members: tuple[str, ...] = ()


def admin_preview(*, request: PreviewRequest, as_of: dt.datetime | None = None) -> tuple[dict, bool]:
    """Validate and preview conditions for the builder; return (payload, valid).

    Invalid conditions give {"errors": [{path, message}]}; valid ones the
    count, a sample, who joins and leaves, the sentence and the expectations.
    """
    started = time.perf_counter()
    segment = request.segment
    slug = segment.slug if segment else None
    context = ValidationContext.load(slug=slug, exclude_slug=slug)
    errors = validate(request.conditions, kind=request.kind, context=context)
    if errors:
        return {"errors": [{"path": e.path, "message": e.message} for e in errors]}, False
    as_of = as_of or timezone.now()
    compared = segment is not None and segment.kind == request.kind
    counts = preview_counts(conditions=request.conditions, kind=request.kind, segment=segment if compared else None,
                            as_of=as_of, custom=context.custom)
    payload = {
        "errors": [],
        **counts.describe(),
        "compared": compared,
        "sentence": render_english(request.conditions, kind=request.kind, custom=context.custom),
        **_sample_table(request.kind, counts.sample),
        "expectations": expectations_check(request=request, as_of=as_of, custom=context.custom),
    }
    payload["elapsed_ms"] = round((time.perf_counter() - started) * 1000)
    return payload, True


@dataclass(frozen=True)
class PreviewCounts:
    """How many match, out of how many, and the difference with a segment's current members."""

    count: int
    total: int
    current: int = 0
    joining: int = 0
    leaving: int = 0
    sample: tuple = ()
    joining_sample: tuple = ()
    leaving_sample: tuple = ()

    def describe(self) -> dict:
        return {"count": self.count, "total": self.total, "current": self.current, "joining": self.joining,
                "leaving": self.leaving, "joining_sample": [str(m) for m in self.joining_sample],
                "leaving_sample": [str(m) for m in self.leaving_sample]}


def preview_counts(*, conditions: Any, kind: str, segment: Segment | None, as_of: dt.datetime,
                   custom=None, sample: int = SAMPLE_SIZE, change_sample: int = 5,
                   with_total: bool = True) -> PreviewCounts:
    """Count matches, joiners and leavers of (valid) conditions in one pass, then read small samples.

    The same figures as segments.selectors.segment_preview, but the
    conditions are evaluated once per row: one aggregate over the matches
    counts them and those that are not members yet (joiners); leavers are
    the members minus the members that still match, |members| - (count -
    joining). The total (skipped unless `with_total`) is a plain COUNT(*);
    samples stop after a few rows (`change_sample` joiners and leavers).
    """
    if custom is None:
        custom = ValidationContext.load().custom
    rows = matching_queryset({"match": "all", "rules": []}, kind=kind, as_of=as_of, custom=custom).order_by()
    match = compile_conditions(conditions, kind=kind, as_of=as_of, custom=custom)
    matching = rows.filter(match)
    total = rows.count() if with_total else 0
    if segment is None:
        return PreviewCounts(count=matching.count(), total=total, sample=tuple(_biggest_first(matching, kind, sample)))
    spec = membership_spec(kind)
    member_ids = spec.model.objects.filter(segment_id=segment.pk).values(spec.member_column)
    # The conditions are evaluated once per row (in WHERE); membership only for the matches.
    figures = matching.aggregate(count=Count("pk"), joining=Count("pk", filter=~Q(pk__in=member_ids)))
    current = spec.model.objects.filter(segment_id=segment.pk).count()
    leaving = current - (figures["count"] - figures["joining"])
    # Samples walk the primary key and stop early: correlated EXISTS on indexed keys, not a second scan.
    membership = spec.model.objects.filter(segment_id=segment.pk, **{spec.member_field: OuterRef("pk")})
    joiners = matching.filter(~Exists(membership)).order_by("pk")[:change_sample] if figures["joining"] else []
    leavers = (spec.member_model.objects.filter(Exists(membership)).filter(~Exists(matching.filter(pk=OuterRef("pk"))))
               .order_by("pk")[:change_sample] if leaving else [])
    return PreviewCounts(count=figures["count"], total=total, current=current,
                         joining=figures["joining"], leaving=leaving,
                         sample=tuple(_biggest_first(matching, kind, sample)),
                         joining_sample=tuple(joiners), leaving_sample=tuple(leavers))


def _biggest_first(matching: QuerySet, kind: str, size: int) -> list:
    """A few matches, the biggest accounts first (the ones a person recognises).

    Accounts with an MRR are read down the MRR index and stop at `size`
    (NULLS LAST would sort every match); accounts without one fill up.
    """
    if kind != "account":
        return list(matching.select_related("account").order_by("pk")[:size])
    rows = list(matching.filter(mrr__isnull=False).select_related("csm").order_by("-mrr", "pk")[:size])
    if len(rows) < size:
        rows += matching.filter(mrr__isnull=True).select_related("csm").order_by("pk")[: size - len(rows)]
    return rows


def _sample_table(kind: str, rows: list) -> dict:
    if kind == "account":
        return {
            "columns": ["Account", "Plan", "MRR", "CSM"],
            "sample": [
                {"label": a.name, "detail": a.external_id, "url": reverse("admin:accounts_account_change", args=[a.pk]),
                 "cells": [a.get_plan_display() or "—", money(a.mrr), a.csm.get_username() if a.csm else "—"]}
                for a in rows
            ],
        }
    return {
        "columns": ["User", "Role", "Account"],
        "sample": [
            {"label": u.email or u.name or u.external_id, "detail": u.external_id,
             "url": reverse("admin:accounts_enduser_change", args=[u.pk]),
             "cells": [u.get_role_display() or "—", u.account.name]}
            for u in rows
        ],
    }


def money(amount: Decimal | None) -> str:
    """12345.5 -> "12,345.50"; whole amounts without cents; "—" when missing."""
    if amount is None:
        return "—"
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def expectations_check(*, request: PreviewRequest, as_of: dt.datetime, custom=None) -> list[dict]:
    """Whether each expected member (non-member) is (is not) matched by the conditions; two queries."""
    wanted = list(dict.fromkeys(request.expect_members + request.expect_non_members))[:MAX_LIST]
    if not wanted:
        return []
    matching = matching_queryset(request.conditions, kind=request.kind, as_of=as_of, custom=custom)
    matched = set(matching.filter(external_id__in=wanted).values_list("external_id", flat=True))
    model = Account if request.kind == "account" else EndUser
    labels = {m.external_id: _member_label(m) for m in model.objects.filter(external_id__in=wanted)}
    checks = []
    for ext, expected in [(e, "in") for e in request.expect_members] + [(e, "out") for e in request.expect_non_members]:
        in_preview = ext in matched
        checks.append({"external_id": ext, "label": labels.get(ext, ext), "exists": ext in labels,
                       "expected": expected, "in_preview": in_preview,
                       "honoured": in_preview if expected == "in" else not in_preview})
    return checks


# The changelist ---------------------------------------------------------------


class _Count(Func):
    """COUNT(*) in a subquery without GROUP BY (Django would group by an aggregate)."""

    function = "COUNT"
    template = "%(function)s(*)"
    output_field = IntegerField()


def segments_annotate_totals(queryset: QuerySet) -> QuerySet:
    """Add `total_mrr`, `total_arr`, `avg_health` and `position` to a Segment queryset (subqueries).

    `position` is the segment's 1-based place in the admin order (order,
    name, id), used by drag and drop so that equal `order` values still sort.
    """
    mrr = (AccountMembership.objects.filter(segment_id=OuterRef("pk")).order_by().values("segment_id")
           .annotate(total=Sum("account__mrr")).values("total"))
    health = (SegmentSnapshot.objects.filter(segment_id=OuterRef("pk"), avg_health__isnull=False)
              .order_by("-date").values("avg_health")[:1])
    before = Segment.objects.filter(
        Q(order__lt=OuterRef("order"))
        | Q(order=OuterRef("order"), name__lt=OuterRef("name"))
        | Q(order=OuterRef("order"), name=OuterRef("name"), pk__lt=OuterRef("pk"))
    ).order_by().annotate(n=_Count()).values("n")
    money_field = DecimalField(max_digits=20, decimal_places=2)
    return queryset.annotate(
        total_mrr=Subquery(mrr, output_field=money_field),
        avg_health=Subquery(health, output_field=DecimalField(max_digits=5, decimal_places=1)),
        position=Coalesce(Subquery(before, output_field=IntegerField()), Value(0)) + 1,
    ).annotate(total_arr=ExpressionWrapper(F("total_mrr") * 12, output_field=money_field))


def segment_statuses(*, segment_ids: Sequence[int]) -> list[dict]:
    """The refresh state of segments, for the changelist's live status (one query)."""
    rows = Segment.objects.filter(pk__in=list(segment_ids)[:500]).order_by("pk")
    return [
        {"id": s.pk, "status": s.refresh_status, "status_label": s.get_refresh_status_display(),
         "last_refreshed_at": s.last_refreshed_at.isoformat() if s.last_refreshed_at else None,
         "member_count": s.member_count, "error": s.refresh_error,
         "expectation_errors": list(s.expectation_errors or [])}
        for s in rows.only("pk", "refresh_status", "last_refreshed_at", "member_count", "refresh_error",
                           "expectation_errors")
    ]


def account_segment_list(*, account: Account) -> list[Segment]:
    """The account segments an account is currently in, in the admin order (one query)."""
    return list(Segment.objects.filter(account_memberships__account=account).order_by("order", "name"))


def segment_member_rows(*, segment: Segment) -> QuerySet:
    """Memberships of a segment with their member, for the members page."""
    if segment.kind == "account":
        return (AccountMembership.objects.filter(segment=segment).select_related("account", "account__csm")
                .order_by(F("account__mrr").desc(nulls_last=True), "account__name", "pk"))
    return UserMembership.objects.filter(segment=segment).select_related("user", "user__account").order_by(
        "user__email", "pk")



def account_health(*, account: Account, as_of: dt.datetime | None = None) -> tuple[Any, str]:
    """The account's health score and label from the provider the health app registers (or None)."""
    score_provider, label_provider = registry.provider("health_score"), registry.provider("health_label")
    if score_provider is None:
        return None, ""
    as_of = as_of or timezone.now()
    label = label_provider(as_of=as_of) if label_provider else Value("")
    row = (Account.objects.filter(pk=account.pk).annotate(score=score_provider(as_of=as_of), label=label)
           .values_list("score", "label").first())
    return (row[0], row[1] or "") if row else (None, "")
