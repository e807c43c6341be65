"""Read-only API representations of customer data."""

from rest_framework import serializers

from accounts.models import Account


class AccountSerializer(serializers.ModelSerializer):
    csm = serializers.SlugRelatedField(slug_field="username", read_only=True)
    arr = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    expansion_gap = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Account
        fields = [
            "external_id", "name", "domain", "industry", "region", "lifecycle_stage", "plan", "licenses",
            "employees", "mrr", "arr", "potential_arr", "expansion_gap", "renewal_date", "customer_since", "csm",
            "referenceable", "use_case", "custom",
        ]
