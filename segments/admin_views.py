"""Extra admin pages and JSON endpoints of the segment admin (ModelAdmin.get_urls + admin_view).

Every view checks the model permissions itself (server-side): reaching the
admin needs `is_staff` (only ops and superusers), and each endpoint asks
for the permission its action needs, so a staff member with view-only
rights can look but not preview, clone or refresh.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from segments.admin_selectors import (
    PreviewRequest,
    admin_preview,
    builder_schema,
    member_lookup,
    segment_member_rows,
    segment_statuses,
    staff_choices,
)
from segments.admin_services import segment_clone
from segments.conditions import ValidationContext
from segments.models import Segment, SegmentKind
from segments.selectors import segments_dump
from segments.selectors_audit import conditions_completeness
from segments.services import segment_refresh_enqueue
from segments.validation import MAX_LIST

MAX_BODY = 1024 * 1024


class BadRequest(ValueError):
    """A request the endpoint cannot read; answered with 400 and the message."""


def _json_body(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise BadRequest("the request is too large")
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise BadRequest(f"the request is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequest("the request must be a JSON object")
    return data


def _kind(value) -> str:
    if value not in SegmentKind.values:
        raise BadRequest('kind must be "account" or "user"')
    return value


def _id_list(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest("expectations must be lists of external ids")
    return tuple(value[:MAX_LIST])


class SegmentAdminViewsMixin:
    """URLs and views added to the segment ModelAdmin."""

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        routes = [
            ("builder/schema/", self.builder_schema_view, "builder_schema"),
            ("builder/preview/", self.builder_preview_view, "builder_preview"),
            ("builder/completeness/", self.builder_completeness_view, "builder_completeness"),
            ("builder/staff/", self.builder_staff_view, "builder_staff"),
            ("builder/lookup/", self.builder_lookup_view, "builder_lookup"),
            ("status/", self.status_view, "status"),
            ("export/", self.export_view, "export"),
            ("<int:object_id>/refresh/", self.refresh_view, "refresh"),
            ("<int:object_id>/clone/", self.clone_view, "clone"),
            ("<int:object_id>/members/", self.members_view, "members"),
        ]
        urls = [path(route, wrap(view), name=f"{prefix}_{name}") for route, view, name in routes]
        return urls + super().get_urls()

    # Permissions --------------------------------------------------------------

    def has_editor_permission(self, request) -> bool:
        """May build segments (add or change): the builder's endpoints need this."""
        return self.has_add_permission(request) or self.has_change_permission(request)

    def _require(self, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied

    # The builder --------------------------------------------------------------

    @staticmethod
    def _answer(handler):
        try:
            return handler()
        except BadRequest as exc:
            return JsonResponse({"errors": [{"path": "", "message": str(exc)}]}, status=400)

    def builder_schema_view(self, request):
        """GET ?kind=account[&segment=<id>]: fields, operators and choices for the builder."""
        self._require(self.has_editor_permission(request))

        def answer():
            segment = self._segment_param(request.GET.get("segment"))
            return JsonResponse(builder_schema(kind=_kind(request.GET.get("kind", "account")),
                                               exclude_segment=segment))

        return self._answer(answer)

    def builder_preview_view(self, request):
        """POST {kind, conditions, segment?, expect_members?, expect_non_members?}: validate and preview."""
        self._require(self.has_editor_permission(request))
        if request.method != "POST":
            return HttpResponse(status=405)

        def answer():
            data = _json_body(request)
            segment = self._segment_param(data.get("segment"))
            preview_request = PreviewRequest(
                kind=segment.kind if segment else _kind(data.get("kind", "account")),
                conditions=data.get("conditions"),
                segment=segment,
                expect_members=_id_list(data.get("expect_members")),
                expect_non_members=_id_list(data.get("expect_non_members")),
            )
            payload, valid = admin_preview(request=preview_request)
            return JsonResponse(payload, status=200 if valid else 400)

        return self._answer(answer)

    def builder_completeness_view(self, request):
        """POST {kind, conditions}: for each field used, the share of accounts where it is missing."""
        self._require(self.has_editor_permission(request))
        if request.method != "POST":
            return HttpResponse(status=405)

        def answer():
            data = _json_body(request)
            audit = conditions_completeness(conditions=data.get("conditions"), kind=_kind(data.get("kind", "account")),
                                            context=ValidationContext.load())
            return JsonResponse({"fields": [a.describe() for a in audit]})

        return self._answer(answer)

    def builder_staff_view(self, request):
        """GET: staff usernames for the `csm` picker."""
        self._require(self.has_editor_permission(request))
        return JsonResponse({"results": staff_choices()})

    def builder_lookup_view(self, request):
        """GET ?kind=account&q=acme (or &ids=A-1,A-2): accounts or users for the expectations pickers."""
        self._require(self.has_editor_permission(request))

        def answer():
            ids = [i for i in request.GET.get("ids", "").split(",") if i]
            results = member_lookup(kind=_kind(request.GET.get("kind", "account")),
                                    query=request.GET.get("q", "").strip()[:100], ids=ids)
            return JsonResponse({"results": results})

        return self._answer(answer)

    def _segment_param(self, value) -> Segment | None:
        if value in (None, ""):
            return None
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise BadRequest("segment must be a segment id") from None
        segment = Segment.objects.filter(pk=pk).first()
        if segment is None:
            raise BadRequest(f"no segment with id {pk}")
        return segment

    # Changelist and object tools ----------------------------------------------

    def status_view(self, request):
        """GET ?ids=1,2: refresh status of segments (the changelist polls it)."""
        self._require(self.has_view_permission(request))
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()]
        return JsonResponse({"segments": segment_statuses(segment_ids=ids)})

    def export_view(self, request):
        """GET: every segment's definition as a JSON download (the interchange format)."""
        self._require(self.has_view_permission(request))
        return definitions_download(segments_dump(), filename="segments.json")

    @staticmethod
    def _wants_json(request) -> bool:
        return "application/json" in request.headers.get("Accept", "")

    def refresh_view(self, request, object_id):
        """POST: queue a refresh now (answers JSON to fetch(), else back to the change page)."""
        segment = get_object_or_404(Segment, pk=object_id)
        self._require(self.has_change_permission(request, segment))
        if request.method != "POST":
            return HttpResponse(status=405)
        segment_refresh_enqueue(segment=segment)
        if self._wants_json(request):
            return JsonResponse({"segments": segment_statuses(segment_ids=[segment.pk])}, status=202)
        messages.success(request, f"A refresh of “{segment}” is queued.")
        return HttpResponseRedirect(reverse("admin:segments_segment_change", args=[segment.pk]))

    def clone_view(self, request, object_id):
        """POST: copy the segment under a new slug and open the copy."""
        segment = get_object_or_404(Segment, pk=object_id)
        self._require(self.has_add_permission(request) and self.has_view_permission(request, segment))
        if request.method != "POST":
            return HttpResponse(status=405)
        copy = segment_clone(segment=segment, user=request.user)
        messages.success(request, f"“{segment}” was copied to “{copy}” ({copy.slug}). Edit the copy below.")
        return HttpResponseRedirect(reverse("admin:segments_segment_change", args=[copy.pk]))

    def members_view(self, request, object_id):
        """GET: the segment's current members, as of its last refresh."""
        segment = get_object_or_404(Segment, pk=object_id)
        self._require(self.has_view_permission(request, segment))
        page = Paginator(segment_member_rows(segment=segment), 50).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Members of “{segment}”",
            "segment": segment,
            "page": page,
            "is_account": segment.kind == "account",
            "has_change_permission": self.has_change_permission(request, segment),
        }
        return TemplateResponse(request, "admin/segments/segment/members.html", context)


def definitions_download(definitions: list[dict], *, filename: str) -> HttpResponse:
    """A JSON file of segment definitions, offered as a download."""
    response = HttpResponse(json.dumps(definitions, indent=2, ensure_ascii=False) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

