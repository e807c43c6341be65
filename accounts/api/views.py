"""Accounts over the REST API: list (filtered by AccountFilterSet) and detail."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets

from accounts.api.serializers import AccountSerializer
from accounts.filtersets import AccountFilterSet
from accounts.models import Account
from csbox.api_permissions import ModelPermissions


class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Account.objects.select_related("csm").order_by("external_id")
    serializer_class = AccountSerializer
    permission_classes = [ModelPermissions]
    filter_backends = [DjangoFilterBackend]
    filterset_class = AccountFilterSet
    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"
