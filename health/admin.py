"""Admin of health configs: parameters inline, a preview of the distribution before saving, cloning.

Thin: the preview and the clone call health.selectors / health.services.
Only ops (and superusers) edit: Django model permissions, which the role
groups receive for every model of the app (accounts/roles.py).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from health.forms import CloneForm, HealthConfigForm, HealthParameterForm
from health.models import HealthConfig, HealthParameter, HealthScore
from health.selectors import health_config_preview, health_config_stored_distribution
from health.services import health_config_clone


class HealthParameterInline(admin.TabularInline):
    model = HealthParameter
    form = HealthParameterForm
    extra = 0
    ordering = ("position", "pk")


@admin.register(HealthConfig)
class HealthConfigAdmin(admin.ModelAdmin):
    form = HealthConfigForm
    inlines = [HealthParameterInline]
    list_display = ("name", "segment_display", "priority", "parameter_count", "good_cutoff", "poor_cutoff")
    list_select_related = ("segment",)
    search_fields = ("name", "segment__name", "segment__slug")
    change_form_template = "admin/health/healthconfig/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(parameter_count=Count("parameters"))

    @admin.display(description="Segment", ordering="segment__name")
    def segment_display(self, obj: HealthConfig) -> str:
        return obj.segment.name if obj.segment_id else "— default: accounts in no configured segment —"

    @admin.display(description="Segment order", ordering="segment__order")
    def priority(self, obj: HealthConfig):
        return obj.segment.order if obj.segment_id else "last"

    @admin.display(description="Parameters", ordering="parameter_count")
    def parameter_count(self, obj: HealthConfig) -> int:
        return obj.parameter_count

    def get_readonly_fields(self, request, obj=None):
        # The default config stays the default: every account needs a config.
        return ("segment",) if obj is not None and obj.is_default else ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name=f"{prefix}_preview"),
            path("<int:object_id>/preview/", self.admin_site.admin_view(self.preview_view),
                 name=f"{prefix}_preview_saved"),
            path("<int:object_id>/clone/", self.admin_site.admin_view(self.clone_view), name=f"{prefix}_clone"),
        ] + super().get_urls()

    def preview_view(self, request: HttpRequest, object_id: int | None = None) -> HttpResponse:
        """Score the config as submitted (not saved) and show its good / average / poor counts."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = get_object_or_404(HealthConfig, pk=object_id) if object_id else None
        allowed = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(request.POST, instance=obj)
        form_valid = form.is_valid()
        config = form.instance
        formsets = self._preview_formsets(request, obj=obj, config=config)
        errors = [str(e) for e in form.non_field_errors()] + [
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(errs)}"
            for name, errs in form.errors.items() if name != "__all__"
        ]
        errors += [f"Parameter {i + 1}: {e}" for fs in formsets for i, f in enumerate(fs.forms)
                   for e in _form_errors(f)] + [str(e) for fs in formsets for e in fs.non_form_errors()]
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": obj, "config": config,
                   "errors": errors, "title": f"Preview: {config.name or 'new config'}"}
        if form_valid and not errors:
            parameters = [f.instance for fs in formsets for f in fs.forms
                          if f not in fs.deleted_forms and (f.instance.pk or f.has_changed())]
            context.update(parameters=parameters,
                           distribution=health_config_preview(config=config, parameters=parameters),
                           stored=health_config_stored_distribution(config=obj) if obj else None)
        return TemplateResponse(request, "admin/health/healthconfig/preview.html", context)

    def _preview_formsets(self, request, *, obj, config) -> list:
        formsets = []
        for inline in self.get_inline_instances(request, obj):
            formset_class = inline.get_formset(request, obj)
            formset = formset_class(request.POST, instance=config, prefix=formset_class.get_default_prefix())
            formset.is_valid()
            formsets.append(formset)
        return formsets

    def clone_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Copy the config and its parameters to an account segment without a config."""
        config = get_object_or_404(HealthConfig, pk=object_id)
        if not (self.has_add_permission(request) and self.has_view_permission(request, config)):
            raise PermissionDenied
        form = CloneForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            clone = health_config_clone(config=config, segment=form.cleaned_data["segment"],
                                        name=form.cleaned_data["name"])
            self.log_addition(request, clone, [{"added": {}}])
            messages.success(request, f'"{config}" was cloned to {clone.segment}.')
            return redirect(reverse("admin:health_healthconfig_change", args=[clone.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": config, "form": form,
                   "title": f"Clone {config}"}
        return TemplateResponse(request, "admin/health/healthconfig/clone.html", context)


def _form_errors(form) -> list[str]:
    return [f"{form.fields[name].label if name in form.fields else name}: {' '.join(errs)}"
            for name, errs in form.errors.items()]


@admin.register(HealthScore)
class HealthScoreAdmin(admin.ModelAdmin):
    """The stored daily scores, read-only (written by the nightly pipeline only)."""

    list_display = ("account", "date", "score", "label", "config")
    list_filter = ("label", "config", "date")
    list_select_related = ("account", "config")
    search_fields = ("account__name", "account__external_id")
    date_hierarchy = "date"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
