"""Segments over the REST API; conditions are validated by the one validator."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from segments.conditions import render_english
from segments.models import Segment


class SegmentSerializer(serializers.ModelSerializer):
    sentence = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = [
            "slug", "name", "kind", "description", "visible", "order", "conditions", "expect_members",
            "expect_non_members", "sentence", "member_count", "last_refreshed_at", "refresh_status",
            "refresh_error", "expectation_errors",
        ]
        read_only_fields = [
            "member_count", "last_refreshed_at", "refresh_status", "refresh_error", "expectation_errors",
        ]

    def get_sentence(self, segment: Segment) -> str:
        return render_english(segment.conditions, kind=segment.kind)

    def validate(self, attrs):
        # Run the model's clean() (the one validator) on the would-be instance.
        candidate = Segment(**{**self._current_values(), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs

    def _current_values(self) -> dict:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in ("slug", "name", "kind", "conditions")}


class PreviewRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["account", "user"], default="account")
    conditions = serializers.JSONField()
    slug = serializers.CharField(required=False, allow_blank=True)
