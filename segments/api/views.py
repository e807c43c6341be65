"""Segments over the REST API: CRUD, members, preview, refresh, the field list."""

from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import AccountSerializer
from csbox.api_permissions import ModelPermissions
from segments.api.serializers import PreviewRequestSerializer, SegmentSerializer
from segments.conditions import ValidationContext, custom_definitions, validate
from segments.models import Segment
from segments.registry import registry
from segments.selectors import segment_members, segment_next_order, segment_preview
from segments.services import segment_refresh_enqueue


class SegmentViewSet(viewsets.ModelViewSet):
    queryset = Segment.objects.all()
    serializer_class = SegmentSerializer
    permission_classes = [ModelPermissions]
    lookup_field = "slug"

    def perform_create(self, serializer):
        order = serializer.validated_data.get("order")
        if "order" not in self.request.data:
            order = segment_next_order()  # after the last, as the loader does
        segment = serializer.save(created_by=self.request.user, order=order)
        segment_refresh_enqueue(segment=segment)

    def perform_update(self, serializer):
        segment_refresh_enqueue(segment=serializer.save())

    @action(detail=True)
    def members(self, request, slug=None):
        segment = self.get_object()
        page = self.paginate_queryset(segment_members(segment=segment).order_by("external_id"))
        if segment.kind == "account":
            data = AccountSerializer(page, many=True).data
        else:
            data = [{"external_id": u.external_id, "email": u.email, "name": u.name, "role": u.role} for u in page]
        return self.get_paginated_response(data)

    @action(detail=True, methods=["post"])
    def refresh(self, request, slug=None):
        if not request.user.has_perm("segments.change_segment"):
            return Response({"detail": "Only ops may refresh segments."}, status=status.HTTP_403_FORBIDDEN)
        segment = self.get_object()
        segment_refresh_enqueue(segment=segment)
        return Response({"queued": segment.slug}, status=status.HTTP_202_ACCEPTED)


class PreviewView(APIView):
    """POST conditions; get the count, a sample and the join/leave diff (nothing is written)."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        if not request.user.has_perm("segments.view_segment"):
            return Response({"detail": "You may not view segments."}, status=status.HTTP_403_FORBIDDEN)
        params = PreviewRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        kind, conditions = params.validated_data["kind"], params.validated_data["conditions"]
        slug = params.validated_data.get("slug") or None
        errors = validate(conditions, kind=kind, context=ValidationContext.load(slug=slug, exclude_slug=slug))
        if errors:
            return Response({"errors": [{"path": e.path, "message": e.message} for e in errors]}, status=400)
        segment = Segment.objects.filter(slug=slug).first() if slug else None
        preview = segment_preview(conditions=conditions, kind=kind, segment=segment)
        return Response({
            "count": preview.count,
            "joining": preview.joining,
            "leaving": preview.leaving,
            "sentence": preview.sentence,
            "sample": [_brief(m) for m in preview.sample],
        })


def _brief(member) -> dict:
    return {"external_id": member.external_id, "name": str(member)}


class FieldListView(APIView):
    """The registry's fields for a segment kind, for builders and integrations."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        kind = request.query_params.get("kind", "account")
        if kind not in ("account", "user"):
            return Response({"detail": 'kind must be "account" or "user"'}, status=400)
        fields = registry.fields_for(kind, custom_definitions=custom_definitions().values())
        return Response([f.describe() for f in fields])
