"""The segment admin: the ops team's main tool (issue 5).

A visual condition builder with live preview on the form, a changelist with
totals, status and drag-and-drop order (django-admin-sortable2), actions
(refresh, clone, export, show/hide), the change history with readable
condition diffs (django-simple-history), and the account admin extended with
segment membership. Logic lives in services and selectors; this module only
wires them to the admin.
"""

import json

from adminsortable2.admin import SortableAdminMixin
from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Account
from segments.admin_history import SegmentHistoryContextHelper
from segments.admin_selectors import account_health, account_segment_list, segments_annotate_totals
from segments.admin_services import segment_clone, segments_reorder, segments_visible_set
from segments.admin_views import SegmentAdminViewsMixin, definitions_download
from segments.conditions import render_english
from segments.definitions import definition_dump
from segments.forms import ConditionBuilderWidget, ExpectationsWidget, SegmentAdminForm
from segments.models import AccountMembership, RefreshStatus, Segment
from segments.services import segment_refresh_enqueue
from segments.usage import segment_usage

STATUS_CLASSES = {
    RefreshStatus.NEVER: "never",
    RefreshStatus.QUEUED: "busy",
    RefreshStatus.RUNNING: "busy",
    RefreshStatus.OK: "ok",
    RefreshStatus.FAILED: "failed",
}


def _whole(amount) -> str:
    """Money in the changelist: whole units with thousands separators ("—" when none)."""
    return "—" if amount is None else f"{amount:,.0f}"


def status_badge(segment: Segment):
    """The refresh status as a coloured badge (the changelist script updates it live)."""
    return format_html('<span class="sg-badge sg-{}" data-status="{}">{}</span>',
                       STATUS_CLASSES.get(segment.refresh_status, "never"), segment.refresh_status,
                       segment.get_refresh_status_display())


@admin.register(Segment)
class SegmentAdmin(SegmentAdminViewsMixin, SortableAdminMixin, SimpleHistoryAdmin):
    form = SegmentAdminForm
    change_list_template = "admin/segments/segment/sortable_change_list.html"
    change_form_template = "admin/segments/segment/change_form.html"
    object_history_template = "admin/segments/segment/object_history.html"
    object_history_list_template = "admin/segments/segment/object_history_list.html"
    list_display = ("segment_name", "kind", "visible", "members", "mrr_total", "arr_total", "health",
                    "last_refresh", "flags", "used_by")
    list_display_links = ("segment_name",)
    list_filter = ("kind", "visible", "refresh_status")
    search_fields = ("name", "slug")
    list_per_page = 100
    history_list_display = ["definition"]
    actions = ["refresh_now", "clone_segments", "export_definitions", "make_visible", "make_hidden"]
    save_on_top = False

    class Media:
        css = {"all": ("segments/builder.css",)}
        js = ("segments/builder.js", "segments/changelist.js")

    # Queryset and changelist ---------------------------------------------------

    def get_queryset(self, request) -> QuerySet:
        return segments_annotate_totals(super().get_queryset(request))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Ask every usage provider once for the whole page (no query per row).
        changelist.result_list = list(changelist.result_list)
        usage = segment_usage(segment_ids=[s.pk for s in changelist.result_list])
        for segment in changelist.result_list:
            segment.usage_labels = usage.get(segment.pk, [])
        return changelist

    def _add_reorder_method(self):
        """The drag handle carries the segment's position (1..n), not the raw `order` value.

        Positions are distinct even when stored orders are equal, so dragging
        always means something; update_order() renumbers from them.
        """

        def _reorder_(item):
            return format_html('<div class="drag handle" pk="{}" order="{}" title="Drag to reorder">&nbsp;</div>',
                               item.pk, getattr(item, "position", item.order))

        _reorder_.short_description = "Order"
        _reorder_.admin_order_field = self.default_order_field
        self._reorder_ = _reorder_

    def update_order(self, request):
        """POST {"updatedItems": [[id, position], ...]} from the drag and drop."""
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_change_permission(request):
            return HttpResponseForbidden("Missing permissions to perform this request")
        try:
            items = json.loads(request.body).get("updatedItems")
            positions = {int(pk): int(position) for pk, position in items}
            if any(p < 1 for p in positions.values()):
                raise ValueError("positions start at 1")
            changed = segments_reorder(positions=positions)
        except (TypeError, ValueError, AttributeError) as exc:
            return HttpResponseBadRequest(f"Invalid POST request: {exc}")
        return HttpResponse(f"Updated {changed} items")

    @admin.display(description="Segment", ordering="name")
    def segment_name(self, segment: Segment):
        return format_html('<span class="sg-name">{}</span><span class="sg-slug">{}</span>', segment.name,
                           segment.slug)

    @admin.display(description="Members", ordering="member_count")
    def members(self, segment: Segment):
        url = reverse("admin:segments_segment_members", args=[segment.pk])
        return format_html('<a class="sg-members" href="{}">{}</a>', url, intcomma(segment.member_count))

    @admin.display(description="Total MRR", ordering="total_mrr")
    def mrr_total(self, segment: Segment):
        return _whole(segment.total_mrr) if segment.kind == "account" else "—"

    @admin.display(description="ARR (contract value)", ordering="total_arr")
    def arr_total(self, segment: Segment):
        return _whole(segment.total_arr) if segment.kind == "account" else "—"

    @admin.display(description="Avg health", ordering="avg_health")
    def health(self, segment: Segment):
        return "—" if segment.avg_health is None else f"{segment.avg_health:.0f}"

    @admin.display(description="Last refresh", ordering="last_refreshed_at")
    def last_refresh(self, segment: Segment):
        when = naturaltime(segment.last_refreshed_at) if segment.last_refreshed_at else "never"
        return format_html(
            '<div class="sg-refresh-cell" data-segment="{}">{}<button type="button" class="sg-refresh-btn" '
            'data-url="{}" title="Refresh now" aria-label="Refresh {} now">&#x21bb;</button>'
            '<div class="sg-when">{}</div></div>',
            segment.pk, status_badge(segment), reverse("admin:segments_segment_refresh", args=[segment.pk]),
            segment.name, when,
        )

    @admin.display(description="Flags")
    def flags(self, segment: Segment):
        flags = []
        if segment.expectation_errors:
            flags.append(("sg-flag sg-flag-warn", "; ".join(segment.expectation_errors), "Expectations contradicted"))
        if segment.refresh_status == RefreshStatus.FAILED:
            flags.append(("sg-flag sg-flag-error", segment.refresh_error, "Refresh failed"))
        if not flags:
            return format_html('<span class="sg-muted">{}</span>', "—")
        return format_html_join("", '<span class="{}" title="{}">{}</span>', flags)

    @admin.display(description="Used by")
    def used_by(self, segment: Segment):
        labels = getattr(segment, "usage_labels", None) or []
        if not labels:
            return format_html('<span class="sg-muted">{}</span>', "—")
        shown = format_html_join("", '<span class="sg-use">{}</span>', ((label,) for label in labels[:3]))
        more = format_html('<span class="sg-muted"> +{} more</span>', len(labels) - 3) if len(labels) > 3 else ""
        return format_html('<span title="{}">{}{}</span>', "\n".join(labels), shown, more)

    # The form --------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("name", "slug", "kind", "visible", "description")}),
            ("Conditions", {"fields": ("conditions",), "classes": ("sg-conditions",)}),
            ("Expectations", {
                "fields": ("expect_members", "expect_non_members"),
                "description": "Test with real accounts: pick a few you know should, and should not, "
                               "be in this segment. The preview checks them as you edit.",
            }),
        ]
        if obj is not None:
            fieldsets.append(("Status", {"fields": ("refresh_state", "member_link", "expectation_report",
                                                    "usage_list", "created_info")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        status = ("refresh_state", "member_link", "expectation_report", "usage_list", "created_info")
        # Slug and kind are fixed once saved: other segments name the slug, and
        # memberships of one kind mean nothing under the other.
        return ("slug", "kind", *status) if obj is not None else status

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else {"slug": ("name",)}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "conditions" in form.base_fields:
            form.base_fields["conditions"].widget = ConditionBuilderWidget(config=self._builder_config(obj))
        for name, role in (("expect_members", "in"), ("expect_non_members", "out")):
            if name in form.base_fields:
                form.base_fields[name].widget = ExpectationsWidget(config={
                    "role": role, "lookupUrl": reverse("admin:segments_segment_builder_lookup"),
                    "kind": obj.kind if obj else None, "kindInput": None if obj else "id_kind",
                })
        return form

    def _builder_config(self, obj) -> dict:
        return {
            "schemaUrl": reverse("admin:segments_segment_builder_schema"),
            "previewUrl": reverse("admin:segments_segment_builder_preview"),
            "completenessUrl": reverse("admin:segments_segment_builder_completeness"),
            "staffUrl": reverse("admin:segments_segment_builder_staff"),
            "segment": obj.pk if obj else None,
            "kind": obj.kind if obj else None,
            "kindInput": None if obj else "id_kind",
            "memberCount": obj.member_count if obj else None,
        }

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        # Saving always refreshes (also with no change), as ops expect (seed 004, step 4).
        segment_refresh_enqueue(segment=obj)

    @admin.display(description="Refresh")
    def refresh_state(self, segment: Segment):
        when = naturaltime(segment.last_refreshed_at) if segment.last_refreshed_at else "never refreshed"
        error = ""
        if segment.refresh_error:
            error = format_html('<div class="sg-error-text">{}</div>', segment.refresh_error)
        return format_html(
            '<div class="sg-refresh-cell" data-segment="{}" data-status-url="{}">{} <span class="sg-when">{}</span>'
            "</div>{}",
            segment.pk, reverse("admin:segments_segment_status"), status_badge(segment), when, error,
        )

    @admin.display(description="Members")
    def member_link(self, segment: Segment):
        url = reverse("admin:segments_segment_members", args=[segment.pk])
        return format_html('<a href="{}">{} member{} →</a>', url, intcomma(segment.member_count),
                           "" if segment.member_count == 1 else "s")

    @admin.display(description="Expectations at the last refresh")
    def expectation_report(self, segment: Segment):
        if not (segment.expect_members or segment.expect_non_members):
            return "none set"
        if not segment.expectation_errors:
            return format_html('<span class="sg-ok-text">{}</span>', "✓ all honoured")
        return format_html_join("", '<div class="sg-error-text">✗ {}</div>', ((e,) for e in segment.expectation_errors))

    @admin.display(description="Used by")
    def usage_list(self, segment: Segment):
        labels = segment_usage(segment_ids=[segment.pk])[segment.pk]
        if not labels:
            return "nothing yet"
        return format_html_join("", '<div>{}</div>', ((label,) for label in labels))

    @admin.display(description="Created")
    def created_info(self, segment: Segment):
        who = segment.created_by.get_username() if segment.created_by else "unknown"
        return f"{naturaltime(segment.created_at)} by {who}"

    # History ---------------------------------------------------------------------

    def get_historical_record_context_helper(self, request, historical_record):
        return SegmentHistoryContextHelper(self.model, historical_record)

    @admin.display(description="Definition then")
    def definition(self, record):
        return render_english(record.conditions, kind=record.kind)

    # Actions ---------------------------------------------------------------------

    @admin.action(description="Refresh now", permissions=["change"])
    def refresh_now(self, request, queryset):
        segments = list(queryset)
        for segment in segments:
            segment_refresh_enqueue(segment=segment)
        self.message_user(request, f"{len(segments)} segment(s) queued for refresh; the status updates below.",
                          messages.SUCCESS)

    @admin.action(description="Clone (copy under a new slug)", permissions=["add"])
    def clone_segments(self, request, queryset):
        copies = [segment_clone(segment=segment, user=request.user) for segment in queryset]
        if len(copies) == 1:
            self.message_user(request, f"Copied to “{copies[0]}”. Edit the copy below.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:segments_segment_change", args=[copies[0].pk]))
        self.message_user(request, f"{len(copies)} segments copied.", messages.SUCCESS)
        return None

    @admin.action(description="Export definitions (JSON)", permissions=["view"])
    def export_definitions(self, request, queryset):
        return definitions_download([definition_dump(s) for s in queryset.order_by("order", "slug")],
                                    filename="segments.json")

    @admin.action(description="Show to CSMs (visible on)", permissions=["change"])
    def make_visible(self, request, queryset):
        changed = segments_visible_set(segments=queryset, visible=True, user=request.user)
        self.message_user(request, f"{changed} segment(s) are now visible to CSMs.", messages.SUCCESS)

    @admin.action(description="Hide from CSMs (visible off)", permissions=["change"])
    def make_hidden(self, request, queryset):
        changed = segments_visible_set(segments=queryset, visible=False, user=request.user)
        self.message_user(request, f"{changed} segment(s) are now hidden from CSMs.", messages.SUCCESS)


# The account admin, extended with segments --------------------------------------
# accounts must not import segments (DESIGN.md, direction of imports): the
# higher app extends the registered AccountAdmin instead.


class AccountSegmentFilter(admin.SimpleListFilter):
    title = "segment"
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in
                Segment.objects.filter(kind="account").order_by("order", "name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(pk__in=AccountMembership.objects.filter(segment_id=int(value)).values("account_id"))


def _extend_account_admin() -> None:
    base = type(admin.site.get_model_admin(Account))

    class SegmentAwareAccountAdmin(base):
        list_filter = (AccountSegmentFilter, *base.list_filter)

        def get_readonly_fields(self, request, obj=None):
            fields = tuple(super().get_readonly_fields(request, obj))
            return (*fields, "segments", "health") if obj is not None else fields

        @admin.display(description="Segments")
        def segments(self, account: Account):
            found = account_segment_list(account=account)
            if not found:
                return "in no segment"
            return format_html_join(
                " ", '<a class="sg-use" href="{}">{}</a>',
                ((reverse("admin:segments_segment_change", args=[s.pk]), s.name) for s in found),
            )

        @admin.display(description="Health")
        def health(self, account: Account):
            score, label = account_health(account=account)
            if score is None:
                return "not scored yet"
            return f"{score} ({label})" if label else str(score)

    SegmentAwareAccountAdmin.__name__ = f"SegmentAware{base.__name__}"
    SegmentAwareAccountAdmin.__qualname__ = SegmentAwareAccountAdmin.__name__
    admin.site.unregister(Account)
    admin.site.register(Account, SegmentAwareAccountAdmin)


if admin.site.is_registered(Account):
    _extend_account_admin()
