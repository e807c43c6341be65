"""The CSM pages: Accounts 360, Account 360, Subscriptions 360, segments, segment migration.

They live in the segments app because each is organised around segments
(tabs, memberships, "why in / not in", "save as segment") and segments may
import accounts, never the reverse (DESIGN.md). Views stay thin: the reads
are accounts.selectors and segments.insights, the writes
segments.page_services; health comes through accounts.extensions.
"""

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.csvio.services import csv_export_chunks
from accounts.extensions import account_extensions
from accounts.filtersets import AccountFilterSet, SubscriptionFilterSet
from accounts.models import Account, Role, Subscription
from accounts.selectors import (
    ACCOUNT_SORTS,
    PER_PAGE_CHOICES,
    SUBSCRIPTION_SORTS,
    Sort,
    account_activity_summary,
    account_custom_attributes,
    account_end_users,
    account_list_annotations,
    account_subscriptions,
    account_weekly_activity,
    list_page,
    per_page_parse,
    sort_parse,
    subscription_list_annotations,
)
from segments import insights
from segments.conditions import ConditionsInvalid, custom_definitions, explain, render_english
from segments.models import Segment, SegmentKind
from segments.page_services import conditions_from_filters, segment_draft_create, segment_mark_viewed

VIEW_ACCOUNTS = "accounts.view_account"
VIEW_SEGMENTS = "segments.view_segment"


def home(request: HttpRequest) -> HttpResponse:
    """Land a CSM on their own accounts, everyone else on all accounts."""
    profile = getattr(request.user, "profile", None)
    if profile is not None and profile.role == Role.CSM and request.user.managed_accounts.exists():
        return redirect(reverse("csm:accounts") + _query(QueryDict(), csm=request.user.get_username()))
    return redirect("csm:accounts")


# Lists: Accounts 360 and Subscriptions 360 ----------------------------------------


@dataclass(frozen=True)
class ListConfig:
    """How one CSM list is read: its model, filterset, sorts and CSV entity."""

    name: str
    model: type
    filterset: type
    sorts: dict[str, Sort]
    default_sort: str
    account_path: str
    entity: str
    related: tuple[str, ...]
    template: str


ACCOUNTS = ListConfig("accounts", Account, AccountFilterSet, ACCOUNT_SORTS, "name", "pk", "accounts",
                      ("csm",), "accounts/accounts_360.html")
SUBSCRIPTIONS = ListConfig("subscriptions", Subscription, SubscriptionFilterSet, SUBSCRIPTION_SORTS, "-mrr",
                           "account_id", "subscriptions", ("account", "account__csm"),
                           "accounts/subscriptions_360.html")


@dataclass
class CurrentView:
    """The rows a list shows: the tab, the filters, and the resulting queryset (all pages)."""

    tabs: list[Segment]
    tab: Segment | None
    filterset: Any
    queryset: QuerySet


def _current_view(request: HttpRequest, config: ListConfig, data: QueryDict | None = None) -> CurrentView:
    data = request.GET if data is None else data
    tabs = insights.account_segment_tabs()
    slug = data.get("segment") or ""
    tab = next((t for t in tabs if t.slug == slug), None)
    if slug and tab is None:
        tab = Segment.objects.filter(slug=slug, kind=SegmentKind.ACCOUNT).first()
    queryset = config.model.objects.all()
    if tab is not None:
        queryset = insights.members_scope(queryset=queryset, segment=tab, account_path=config.account_path)
    elif slug:
        queryset = queryset.none()
    filterset = config.filterset(data, queryset=queryset,
                                 health_label_metric=insights.health_metric("health_label"))
    # An invalid filter shows nothing (with its error) rather than silently ignoring it, as the API answers 400.
    rows = filterset.qs if filterset.is_valid() else queryset.none()
    return CurrentView(tabs=tabs, tab=tab, filterset=filterset, queryset=rows)


def _query(params: QueryDict, **changes) -> str:
    """The query string of `params` with `changes` applied (None removes a key)."""
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def _list_context(request: HttpRequest, config: ListConfig) -> dict:
    view = _current_view(request, config)
    now = timezone.now()
    metrics = insights.health_metrics()
    sort_key, descending = sort_parse(request.GET.get("sort"), config.sorts, default=config.default_sort)
    per_page = per_page_parse(request.GET.get("per_page"))
    annotate = account_list_annotations if config.name == "accounts" else subscription_list_annotations
    page = list_page(
        queryset=view.queryset, sort=config.sorts[sort_key], descending=descending,
        annotations=annotate(as_of=now, metrics=metrics), page_number=request.GET.get("page"),
        per_page=per_page, related=config.related, count=_known_count(request.GET, config, view),
    )
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "config": config,
        "tabs": view.tabs,
        "tab": view.tab,
        "tab_links": _tab_links(params, view),
        "filterset": view.filterset,
        "form": view.filterset.form,
        "page": page,
        "columns": _sort_columns(params, config, sort_key, descending),
        "per_page": per_page,
        "per_page_links": [(n, _query(params, per_page=str(n))) for n in PER_PAGE_CHOICES],
        "query": params.urlencode(),
        "page_query": _query(params, page=None),
        "chips": _filter_chips(params, view.filterset),
        "has_health": bool(metrics),
        "can_save_segment": config.name == "accounts" and request.user.has_perm("segments.add_segment"),
        "now": now,
    }


def _known_count(params: QueryDict, config: ListConfig, view: CurrentView):
    """A cheaper count of an unfiltered tab of accounts: its memberships (one index range), else None."""
    filtered = any(v.strip() for name in view.filterset.form.fields for v in params.getlist(name))
    if config.name != "accounts" or view.tab is None or filtered:
        return None
    return partial(insights.members_count, segment=view.tab)


def _tab_links(params: QueryDict, view: CurrentView) -> list[dict]:
    links = [{"label": "All", "count": None, "url": _query(params, segment=None), "active": view.tab is None}]
    tabs = list(view.tabs)
    if view.tab is not None and view.tab not in tabs:
        tabs.append(view.tab)
    for segment in tabs:
        links.append({"label": segment.name, "count": segment.member_count, "slug": segment.slug,
                      "url": _query(params, segment=segment.slug), "active": segment == view.tab,
                      "hidden": not segment.visible})
    return links


def _sort_columns(params: QueryDict, config: ListConfig, sort_key: str, descending: bool) -> dict[str, dict]:
    """Per sortable column: its link (toggling the direction when active) and state."""
    columns = {}
    for key, sort in config.sorts.items():
        active = key == sort_key
        # Money and activity are read biggest / latest first; names A to Z, renewals soonest first.
        first_desc = key in ("mrr", "arr", "health", "last_activity", "start")
        next_desc = not descending if active else first_desc
        columns[key] = {"label": sort.label, "active": active, "descending": descending and active,
                        "url": _query(params, sort=("-" if next_desc else "") + key, page=None)}
    return columns


def _filter_chips(params: QueryDict, filterset) -> list[dict]:
    """The active filters as removable chips (label: value, link without it)."""
    chips = []
    form = filterset.form
    for name, field in form.fields.items():
        values = [v for v in params.getlist(name) if v.strip()]
        if not values:
            continue
        choices = dict(getattr(field, "choices", []) or [])
        shown = ", ".join(str(choices.get(v, v)) for v in values)
        chips.append({"label": field.label or name, "value": shown, "url": _query(params, **{name: None}, page=None)})
    return chips


@permission_required(VIEW_ACCOUNTS, raise_exception=True)
def accounts_360(request: HttpRequest) -> HttpResponse:
    return render(request, ACCOUNTS.template, _list_context(request, ACCOUNTS))


@permission_required("accounts.view_subscription", raise_exception=True)
def subscriptions_360(request: HttpRequest) -> HttpResponse:
    return render(request, SUBSCRIPTIONS.template, _list_context(request, SUBSCRIPTIONS))


def _export(request: HttpRequest, config: ListConfig) -> StreamingHttpResponse:
    view = _current_view(request, config)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    name = f"{config.entity}-{view.tab.slug if view.tab else 'all'}-{stamp}.csv"
    response = StreamingHttpResponse(csv_export_chunks(entity=config.entity, queryset=view.queryset),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@permission_required(VIEW_ACCOUNTS, raise_exception=True)
def accounts_export(request: HttpRequest) -> StreamingHttpResponse:
    """The accounts of the current view (tab and filters, every page) in the interchange CSV format."""
    return _export(request, ACCOUNTS)


@permission_required("accounts.view_subscription", raise_exception=True)
def subscriptions_export(request: HttpRequest) -> StreamingHttpResponse:
    return _export(request, SUBSCRIPTIONS)


@require_POST
@permission_required("segments.add_segment", raise_exception=True)
def accounts_save_segment(request: HttpRequest) -> HttpResponse:
    """Save the current tab and filters of Accounts 360 as a hidden draft segment; open it in the admin."""
    data = QueryDict(request.POST.get("query", ""))
    view = _current_view(request, ACCOUNTS, data=data)
    back = f"{reverse('csm:accounts')}?{data.urlencode()}"
    if not view.filterset.is_valid():
        messages.error(request, "Fix the filters before saving them as a segment.")
        return redirect(back)
    conditions = conditions_from_filters(filters=view.filterset.form.cleaned_data, segment=view.tab)
    try:
        segment = segment_draft_create(name=request.POST.get("name", ""), conditions=conditions, user=request.user)
    except ValidationError as exc:
        messages.error(request, "Could not save the segment: " + "; ".join(exc.messages))
        return redirect(back)
    messages.success(request, f"Saved “{segment.name}” as a hidden draft segment; its members are being computed.")
    return redirect(_admin_change_url(segment))


def _admin_change_url(segment: Segment) -> str:
    try:
        return reverse("admin:segments_segment_change", args=[segment.pk])
    except NoReverseMatch:  # the segments admin is not registered
        return reverse("csm:segment", args=[segment.slug])


@permission_required(VIEW_ACCOUNTS, raise_exception=True)
def csm_autocomplete(request: HttpRequest) -> JsonResponse:
    """Usernames of staff matching `q` (username or name), for the CSM filter: at most 20."""
    text = request.GET.get("q", "").strip()
    users = get_user_model().objects.filter(is_active=True)
    if text:
        users = users.filter(Q(username__icontains=text) | Q(first_name__icontains=text) |
                             Q(last_name__icontains=text))
    rows = users.order_by("username").values_list("username", "first_name", "last_name")[:20]
    return JsonResponse({"results": [
        {"value": username, "label": f"{first} {last}".strip() or username} for username, first, last in rows
    ]})


# Account 360 ------------------------------------------------------------------------------------


@permission_required(VIEW_ACCOUNTS, raise_exception=True)
def account_360(request: HttpRequest, external_id: str) -> HttpResponse:
    now = timezone.now()
    health = {m.key: m.annotation(as_of=now) for m in insights.health_metrics()}
    account = get_object_or_404(
        Account.objects.select_related("csm", "csm__profile__team").annotate(**health), external_id=external_id
    )
    weeks = account_weekly_activity(account=account, as_of=now)
    context = {
        "account": account,
        "now": now,
        "custom": account_custom_attributes(account=account),
        "subscriptions": account_subscriptions(account=account),
        "end_users": account_end_users(account=account, as_of=now),
        "memberships": insights.account_segments(account=account),
        "activity": account_activity_summary(account=account, as_of=now),
        "weeks": [(w.week.strftime("%d %b"), w.quantity) for w in weeks],
        "touchpoints": list(account.touchpoints.filter(occurred_at__lte=now).order_by("-occurred_at")[:10]),
        "tickets": list(account.tickets.order_by("-opened_at")[:10]),
        "open_tickets": account.tickets.filter(status="open").count(),
        "panels": _panels(request, account=account, as_of=now),
        "has_health": bool(health),
        "can_edit": request.user.is_staff and request.user.has_perm("accounts.change_account"),
    }
    context.update(_explain_context(request, account=account, as_of=now))
    return render(request, "accounts/account_360.html", context)


def _panels(request: HttpRequest, *, account: Account, as_of: dt.datetime) -> list[dict]:
    """The panels higher apps add (health, later alerts...), rendered with their own context."""
    rendered = []
    for panel in account_extensions.panels():
        context = {"account": account, **panel.context(account=account, as_of=as_of, user=request.user)}
        rendered.append({"key": panel.key, "title": panel.title,
                         "html": render_to_string(panel.template, context, request=request)})
    return rendered


def _explain_context(request: HttpRequest, *, account: Account, as_of: dt.datetime) -> dict:
    """"Why in / not in": the chosen account segment's rules, each held or not for this account."""
    choices = list(Segment.objects.filter(kind=SegmentKind.ACCOUNT).order_by("order", "name"))
    slug = request.GET.get("why") or ""
    chosen = next((s for s in choices if s.slug == slug), None)
    rows, error = [], ""
    if chosen is not None:
        try:
            rows = explain(chosen.conditions, kind="account", obj=account, as_of=as_of)
        except ConditionsInvalid as exc:
            error = f"The conditions of this segment cannot be evaluated: {exc}"
    member_ids = {m.segment_id for m in insights.account_segments(account=account)} if chosen else set()
    return {"why_choices": choices, "why": chosen, "why_rows": rows, "why_error": error,
            "why_is_member": chosen is not None and chosen.pk in member_ids}


# Segments ----------------------------------------------------------------------------------------------


@permission_required(VIEW_SEGMENTS, raise_exception=True)
def segment_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    page = Paginator(insights.segment_list(search=search, kind=kind), 50).get_page(request.GET.get("page"))
    sentences = insights.segment_sentences(page.object_list)
    rows = [{"segment": s, "sentence": sentences[s.pk], "rules": insights.rule_count(s),
             "total_arr": None if s.total_mrr is None else s.total_mrr * 12} for s in page.object_list]
    return render(request, "segments/segment_list.html", {
        "page": page, "rows": rows, "search": search, "kind": kind,
        "complex_limit": insights.MAX_EXPLAINABLE_RULES, "page_query": _query(request.GET, page=None),
    })


@permission_required(VIEW_SEGMENTS, raise_exception=True)
def segment_detail(request: HttpRequest, slug: str) -> HttpResponse:
    segment = get_object_or_404(Segment, slug=slug)
    now = timezone.now()
    custom = custom_definitions()
    heavy = insights.segment_heavy_insights(segment=segment, as_of=now)
    used_by = insights.segment_used_by(segment=segment)
    trend = insights.segment_trend(segment=segment)
    context = {
        "segment": segment,
        "now": now,
        "sentence": render_english(segment.conditions, kind=segment.kind, custom=custom),
        "summary": insights.segment_summary(segment=segment, as_of=now),
        "size_points": [(s.date.isoformat(), s.members) for s in trend],
        "mrr_points": [(s.date.isoformat(), s.total_mrr) for s in trend],
        "changes": insights.segment_recent_changes(segment=segment),
        "biggest": insights.segment_biggest_accounts(segment=segment, as_of=now)
        if segment.kind == SegmentKind.ACCOUNT else [],
        "outliers": heavy.outliers,
        "outlier_population": insights.OUTLIER_POPULATION,
        "completeness": heavy.completeness,
        "computed_fields": heavy.computed_fields,
        "insights_at": heavy.computed_at,
        "overlaps": heavy.overlaps,
        "used_by": used_by,
        "hygiene": insights.segment_hygiene(segment=segment, overlaps=heavy.overlaps, used_by=used_by, now=now),
        "has_health": insights.health_metric("health_score") is not None,
        "can_edit": request.user.is_staff and request.user.has_perm("segments.change_segment"),
        "admin_url": _admin_change_url(segment) if request.user.is_staff else "",
    }
    # After the reads: "unviewed for 90 days" is judged on the view before this one.
    segment_mark_viewed(segment=segment, now=now)
    return render(request, "segments/segment_detail.html", context)


# Migration ----------------------------------------------------------------------------------------------


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _migration_params(request: HttpRequest) -> tuple[list[Segment], list[Segment], dt.date, dt.date]:
    """The account segments to choose from, the chosen ones (default: the visible ones) and the two days."""
    available = list(Segment.objects.filter(kind=SegmentKind.ACCOUNT).order_by("order", "name"))
    wanted = set(request.GET.getlist("segments"))
    chosen = [s for s in available if s.slug in wanted] or insights.migration_default_segments(available)
    date_from, date_to = insights.migration_days(date_from=_date(request.GET.get("date_from")),
                                                 date_to=_date(request.GET.get("date_to")),
                                                 today=timezone.now().date())
    return available, chosen, date_from, date_to


@permission_required(VIEW_SEGMENTS, raise_exception=True)
def segment_migration(request: HttpRequest) -> HttpResponse:
    available, chosen, date_from, date_to = _migration_params(request)
    matrix = insights.migration_matrix(segments=chosen, date_from=date_from, date_to=date_to) if chosen else None
    base = QueryDict(mutable=True)
    base.setlist("segments", [s.slug for s in chosen])
    base["date_from"], base["date_to"] = date_from.isoformat(), date_to.isoformat()
    return render(request, "segments/migration.html", {
        "available": available, "chosen": chosen, "chosen_slugs": {s.slug for s in chosen},
        "date_from": date_from, "date_to": date_to, "matrix": matrix, "base_query": base.urlencode(),
    })


@permission_required(VIEW_SEGMENTS, raise_exception=True)
def segment_migration_accounts(request: HttpRequest) -> HttpResponse:
    """The accounts of one cell of the migration matrix."""
    _available, chosen, date_from, date_to = _migration_params(request)
    by_slug = {s.slug: s for s in chosen}
    names = (request.GET.get("from", ""), request.GET.get("to", ""))
    if any(n and n not in by_slug for n in names):
        raise Http404("unknown segment")
    source, target = (by_slug.get(n) if n else None for n in names)
    accounts = insights.migration_accounts(segments=chosen, source=source, target=target,
                                           date_from=date_from, date_to=date_to)
    page = Paginator(accounts.select_related("csm").order_by("name", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "segments/migration_accounts.html", {
        "page": page, "source": source, "target": target, "date_from": date_from, "date_to": date_to,
        "page_query": _query(request.GET, page=None), "back_query": _query(request.GET, page=None, **{"from": None},
                                                                             to=None),
    })
