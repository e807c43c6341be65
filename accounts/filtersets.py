"""One AccountFilterSet for the CSM list view, the API and the CSV export."""

import datetime as dt

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, LifecycleStage, Plan, Team


class AccountFilterSet(django_filters.FilterSet):
    """Filter accounts by the attributes CSMs ask about."""

    q = django_filters.CharFilter(method="filter_search", label="Search")
    plan = django_filters.MultipleChoiceFilter(choices=Plan.choices)
    lifecycle_stage = django_filters.MultipleChoiceFilter(choices=LifecycleStage.choices, label="Lifecycle stage")
    csm = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(managed_accounts__isnull=False).distinct(),
        to_field_name="username",
        label="CSM",
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), field_name="csm__profile__team", label="Team"
    )
    region = django_filters.CharFilter(lookup_expr="iexact")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    mrr_min = django_filters.NumberFilter(field_name="mrr", lookup_expr="gte", label="MRR at least")
    mrr_max = django_filters.NumberFilter(field_name="mrr", lookup_expr="lte", label="MRR at most")
    renewal_within_days = django_filters.NumberFilter(
        method="filter_renewal_within", label="Renewal within (days)", min_value=0, max_value=36500
    )

    class Meta:
        model = Account
        fields = ["q", "plan", "lifecycle_stage", "csm", "team", "region", "industry"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id__icontains=value)
        )

    def filter_renewal_within(self, queryset, name, value):
        today = timezone.now().date()
        return queryset.filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=int(value)))
