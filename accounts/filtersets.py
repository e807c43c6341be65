"""The filtersets of the customer data: one per list, shared by pages, API and export.

AccountFilterSet serves Accounts 360, the REST API (accounts/api/views.py)
and the "Export CSV" of the current view; SubscriptionFilterSet serves
Subscriptions 360. Every filter maps a request parameter onto a fixed field
or expression chosen here (an allow-list): no parameter name or value ever
becomes an ORM keyword. Custom attributes of type choice get a filter each,
named `custom.<key>` (as the CSV column), built from the definitions.
"""

import datetime as dt

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import In
from django.utils import timezone

from accounts.extensions import HEALTH_LABEL, HEALTH_LABELS, AccountMetric, account_extensions
from accounts.models import (
    Account,
    AttributeType,
    BillingPeriod,
    CustomAttributeDefinition,
    LifecycleStage,
    Plan,
    Subscription,
    SubscriptionStatus,
    Team,
)

CUSTOM_PREFIX = "custom."


def _checkboxes(**kwargs) -> django_filters.MultipleChoiceFilter:
    """A multiple-choice filter shown as checkboxes.

    No DISTINCT (django-filter's default): these filters never follow a
    to-many relation, and DISTINCT makes the database sort every row.
    """
    return django_filters.MultipleChoiceFilter(widget=forms.CheckboxSelectMultiple, distinct=False, **kwargs)
MAX_DAYS = 36500


def _search(queryset: QuerySet, value: str, fields: tuple[str, ...]) -> QuerySet:
    value = value.strip()
    if not value:
        return queryset
    query = Q()
    for name in fields:
        query |= Q(**{f"{name}__icontains": value})
    return queryset.filter(query)


def _within_days(queryset: QuerySet, field: str, days) -> QuerySet:
    """Rows whose date `field` is between today and today + days (inclusive)."""
    today = timezone.now().date()
    return queryset.filter(**{f"{field}__gte": today, f"{field}__lte": today + dt.timedelta(days=int(days))})


def health_label_account_ids(labels: list[str], metric: AccountMetric | None) -> QuerySet:
    """The ids of the accounts whose health label is one of `labels`, as a subquery (none without health).

    A label stored on a related row (F("relation__column"): today's
    CurrentHealth) is read from that table alone, down the label's index;
    any other expression is computed per account.
    """
    if metric is None or not labels:
        return Account.objects.none().values("pk")
    expression = metric.annotation(as_of=timezone.now())
    if isinstance(expression, F) and expression.name.count("__") == 1:
        relation, column = expression.name.split("__")
        related = Account._meta.get_field(relation)
        return related.related_model.objects.filter(**{f"{column}__in": list(labels)}).values(related.field.attname)
    return Account.objects.filter(In(expression, list(labels))).values("pk")


def health_label_accounts(labels: list[str], metric: AccountMetric | None) -> QuerySet:
    """Accounts whose health label is one of `labels` (none when health is not installed)."""
    return Account.objects.filter(pk__in=health_label_account_ids(labels, metric))


class AccountFiltersBase(django_filters.FilterSet):
    """What both filtersets share: team choices, health label, custom choice attributes.

    Adds one `custom.<key>` multiple-choice filter per custom attribute of type
    choice. `account_path` is the path from the filtered model to the account
    ("" for Account itself). The definition key reaches SQL only as a JSON key
    parameter (KeyTextTransform), never as a lookup. `health_label_metric`:
    the health label metric (default: the one registered in accounts.extensions).
    """

    account_path = ""

    def __init__(self, *args, health_label_metric: AccountMetric | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.health_label_metric = health_label_metric or account_extensions.metric(HEALTH_LABEL)
        # One query for the team names, used both to validate and to render.
        self.filters["team"].extra["choices"] = [(n, n) for n in Team.objects.values_list("name", flat=True)]
        definitions = CustomAttributeDefinition.objects.filter(type=AttributeType.CHOICE).order_by("key")
        for definition in definitions:
            name = CUSTOM_PREFIX + definition.key
            self.filters[name] = _checkboxes(
                choices=[(c, c) for c in definition.choices],
                label=definition.label or definition.key,
                method=self._custom_method(definition.key),
            )
            self.filters[name].model = self._meta.model
            self.filters[name].parent = self

    def _custom_method(self, key: str):
        column = f"{self.account_path}custom"

        def filter_custom(queryset, name, values):
            if not values:
                return queryset
            return queryset.filter(In(KeyTextTransform(key, column), list(values)))

        return filter_custom


class AccountFilterSet(AccountFiltersBase):
    """Filter accounts by the attributes CSMs ask about."""

    q = django_filters.CharFilter(method="filter_search", label="Search")
    plan = _checkboxes(choices=Plan.choices)
    lifecycle_stage = _checkboxes(choices=LifecycleStage.choices, label="Lifecycle stage")
    # A username, completed by the CSM autocomplete: no dropdown of every staff member.
    csm = django_filters.CharFilter(field_name="csm__username", label="CSM")
    team = django_filters.ChoiceFilter(field_name="csm__profile__team__name", label="Team")
    region = django_filters.CharFilter(lookup_expr="iexact")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    health_label = _checkboxes(choices=HEALTH_LABELS, method="filter_health_label", label="Health")
    mrr_min = django_filters.NumberFilter(field_name="mrr", lookup_expr="gte", label="MRR at least", min_value=0)
    mrr_max = django_filters.NumberFilter(field_name="mrr", lookup_expr="lte", label="MRR at most", min_value=0)
    renewal_within_days = django_filters.NumberFilter(
        method="filter_renewal_within", label="Renewal within (days)", min_value=0, max_value=MAX_DAYS
    )

    class Meta:
        model = Account
        fields = ["q", "plan", "lifecycle_stage", "csm", "team", "region", "industry"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, value, ("name", "domain", "external_id"))

    def filter_renewal_within(self, queryset, name, value):
        return _within_days(queryset, "renewal_date", value)

    def filter_health_label(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(pk__in=health_label_account_ids(value, self.health_label_metric))


class SubscriptionFilterSet(AccountFiltersBase):
    """Filter subscriptions by their own fields and by their account's (as Accounts 360 does)."""

    account_path = "account__"

    q = django_filters.CharFilter(method="filter_search", label="Search")
    plan = _checkboxes(choices=Plan.choices)
    status = _checkboxes(choices=SubscriptionStatus.choices)
    billing_period = _checkboxes(choices=BillingPeriod.choices, label="Billing period")
    lifecycle_stage = _checkboxes(
        field_name="account__lifecycle_stage", choices=LifecycleStage.choices, label="Account lifecycle stage"
    )
    csm = django_filters.CharFilter(field_name="account__csm__username", label="CSM")
    team = django_filters.ChoiceFilter(field_name="account__csm__profile__team__name", label="Team")
    region = django_filters.CharFilter(field_name="account__region", lookup_expr="iexact")
    industry = django_filters.CharFilter(field_name="account__industry", lookup_expr="iexact")
    health_label = _checkboxes(choices=HEALTH_LABELS, method="filter_health_label", label="Account health")
    mrr_min = django_filters.NumberFilter(field_name="mrr", lookup_expr="gte", label="MRR at least", min_value=0)
    mrr_max = django_filters.NumberFilter(field_name="mrr", lookup_expr="lte", label="MRR at most", min_value=0)
    ends_within_days = django_filters.NumberFilter(
        method="filter_ends_within", label="Ends within (days)", min_value=0, max_value=MAX_DAYS
    )

    class Meta:
        model = Subscription
        fields = ["q", "plan", "status", "billing_period"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, value, ("external_id", "account__name", "account__external_id"))

    def filter_ends_within(self, queryset, name, value):
        return _within_days(queryset, "end_date", value)

    def filter_health_label(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(account__in=health_label_account_ids(value, self.health_label_metric))
