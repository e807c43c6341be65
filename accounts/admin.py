"""Admin for the customer data: the ops team's back office."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from accounts.csvio.admin_mixins import CsvImportExportMixin
from accounts.models import (
    Account,
    CustomAttributeDefinition,
    EndUser,
    Event,
    StaffProfile,
    Subscription,
    SupportTicket,
    Team,
    Touchpoint,
)
from accounts.resources import (
    AccountsResource,
    CustomAttributesResource,
    EventsResource,
    StaffResource,
    SubscriptionsResource,
    TicketsResource,
    TouchpointsResource,
    UsersResource,
)
from accounts.services import account_last_activity_sync

admin.site.site_header = "csbox administration"
admin.site.site_title = "csbox admin"
admin.site.index_title = "Customer success data and segments"

User = get_user_model()


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    extra = 0


admin.site.unregister(User)


@admin.register(User)
class StaffAdmin(CsvImportExportMixin, UserAdmin):
    resource_classes = [StaffResource]
    import_superuser_only = True
    inlines = [StaffProfileInline]
    list_display = ("username", "email", "first_name", "last_name", "role", "team", "is_active")
    list_select_related = ("profile__team",)
    list_filter = ("profile__role", "profile__team", "is_active", "is_superuser")

    @admin.display(description="Role", ordering="profile__role")
    def role(self, obj):
        return getattr(getattr(obj, "profile", None), "role", "")

    @admin.display(description="Team", ordering="profile__team__name")
    def team(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.team if profile else None


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(CustomAttributeDefinition)
class CustomAttributeDefinitionAdmin(CsvImportExportMixin, admin.ModelAdmin):
    resource_classes = [CustomAttributesResource]
    list_display = ("key", "label", "type", "choices")
    list_filter = ("type",)
    search_fields = ("key", "label")


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    show_change_link = True


class EndUserInline(admin.TabularInline):
    model = EndUser
    extra = 0
    show_change_link = True
    fields = ("external_id", "email", "name", "role", "created_at")


class TouchpointInline(admin.TabularInline):
    model = Touchpoint
    extra = 0
    fields = ("external_id", "kind", "occurred_at", "note")


@admin.register(Account)
class AccountAdmin(CsvImportExportMixin, admin.ModelAdmin):
    resource_classes = [AccountsResource]
    list_display = ("external_id", "name", "plan", "lifecycle_stage", "mrr", "renewal_date", "csm", "region")
    list_select_related = ("csm",)
    list_filter = ("plan", "lifecycle_stage", "region", "referenceable")
    search_fields = ("external_id", "name", "domain")
    autocomplete_fields = ("csm",)
    inlines = [SubscriptionInline, EndUserInline, TouchpointInline]
    show_full_result_count = False


@admin.register(Subscription)
class SubscriptionAdmin(CsvImportExportMixin, admin.ModelAdmin):
    resource_classes = [SubscriptionsResource]
    list_display = ("external_id", "account", "plan", "status", "billing_period", "mrr", "start_date", "end_date")
    list_select_related = ("account",)
    list_filter = ("plan", "status", "billing_period")
    search_fields = ("external_id", "account__name", "account__external_id")
    raw_id_fields = ("account",)
    show_full_result_count = False


@admin.register(EndUser)
class EndUserAdmin(CsvImportExportMixin, admin.ModelAdmin):
    resource_classes = [UsersResource]
    list_display = ("external_id", "email", "name", "role", "account", "created_at")
    list_select_related = ("account",)
    list_filter = ("role",)
    search_fields = ("external_id", "email", "name", "account__external_id")
    raw_id_fields = ("account",)
    show_full_result_count = False


@admin.register(Event)
class EventAdmin(CsvImportExportMixin, admin.ModelAdmin):
    resource_classes = [EventsResource]
    list_display = ("occurred_at", "name", "quantity", "account", "user")
    list_select_related = ("account", "user")
    search_fields = ("external_id", "name", "account__external_id")
    raw_id_fields = ("account", "user")
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    # Events change an account's derived last activity: re-derive it for the
    # accounts touched (before and after an edit).
    def save_model(self, request, obj, form, change):
        previous = form.initial.get("account") if change else None
        super().save_model(request, obj, form, change)
        account_last_activity_sync(account_ids=[i for i in (obj.account_id, previous) if i])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        account_last_activity_sync(account_ids=[obj.account_id])

    def delete_queryset(self, request, queryset):
        account_ids = list(queryset.values_list("account_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        account_last_activity_sync(account_ids=account_ids)


@admin.register(Touchpoint)
class TouchpointAdmin(CsvImportExportMixin, admin.ModelAdmin):
    resource_classes = [TouchpointsResource]
    list_display = ("external_id", "kind", "occurred_at", "account")
    list_select_related = ("account",)
    list_filter = ("kind",)
    search_fields = ("external_id", "account__external_id", "note")
    raw_id_fields = ("account",)
    show_full_result_count = False


@admin.register(SupportTicket)
class SupportTicketAdmin(CsvImportExportMixin, admin.ModelAdmin):
    resource_classes = [TicketsResource]
    list_display = ("external_id", "status", "priority", "opened_at", "closed_at", "account")
    list_select_related = ("account",)
    list_filter = ("status", "priority")
    search_fields = ("external_id", "account__external_id")
    raw_id_fields = ("account",)
    show_full_result_count = False


class SuperuserOnlyAdminMixin:
    """Admin access for superusers only.

    A django-q2 schedule names any importable function: editing one runs code
    on the workers, so schedules and task results are not for ops staff.
    """

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


def _lock_down_django_q() -> None:
    from django_q import models as q_models

    for model in (q_models.Schedule, q_models.Success, q_models.Failure, q_models.OrmQ):
        if admin.site.is_registered(model):
            base = type(admin.site.get_model_admin(model))
            admin.site.unregister(model)
            admin.site.register(model, type(f"Locked{base.__name__}", (SuperuserOnlyAdminMixin, base), {}))


_lock_down_django_q()
