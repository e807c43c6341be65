"""The customer data csbox segments: accounts and everything that hangs off them.

Every stored field of the condition registry (../shared/spec/conditions.md) and
every CSV column of the interchange spec lives here. Constraints are in the
database so that bad data cannot be stored whatever path it comes by.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def _choice_check(field: str, choices: type[models.TextChoices], *, blank: bool, name: str) -> models.CheckConstraint:
    """Build a CHECK constraint that keeps `field` within `choices` (or empty when `blank`)."""
    allowed = list(choices.values) + ([""] if blank else [])
    return models.CheckConstraint(condition=Q(**{f"{field}__in": allowed}), name=name)


class Role(models.TextChoices):
    OPS = "ops", "Ops"
    CSM = "csm", "CSM"
    VIEWER = "viewer", "Viewer"


class Team(models.Model):
    """A team of staff members (the `team` field of the registry)."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """What csbox knows of a staff member beyond Django's auth user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [_choice_check("role", Role, blank=False, name="staffprofile_role_valid")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role})"


class AttributeType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Boolean"
    CHOICE = "choice", "Choice"


class CustomAttributeDefinition(models.Model):
    """Define one custom account attribute (`custom.<key>` in conditions and CSV)."""

    key = models.CharField(
        max_length=63,
        unique=True,
        help_text="Lower-case letters, digits and _, starting with a letter.",
    )
    label = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=10, choices=AttributeType.choices)
    choices = models.JSONField(default=list, blank=True, help_text="Allowed values, for type choice.")

    class Meta:
        ordering = ["key"]
        constraints = [
            _choice_check("type", AttributeType, blank=False, name="customattr_type_valid"),
            models.CheckConstraint(condition=Q(key__regex=r"^[a-z][a-z0-9_]*$"), name="customattr_key_format"),
        ]

    def __str__(self) -> str:
        return self.label or self.key

    def clean(self) -> None:
        from accounts.custom_attributes import definition_errors

        errors = definition_errors(key=self.key, type_=self.type, choices=self.choices)
        if errors:
            raise ValidationError(errors)


class LifecycleStage(models.TextChoices):
    TRIAL = "trial", "Trial"
    ONBOARDING = "onboarding", "Onboarding"
    NURTURING = "nurturing", "Nurturing"
    RENEWAL = "renewal", "Renewal"
    CHURNED = "churned", "Churned"


class Plan(models.TextChoices):
    STARTER = "starter", "Starter"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


class Account(models.Model):
    """A customer organisation: the unit that account segments group.

    Text and choice fields use "" for missing; numbers, dates and booleans use
    NULL. `custom` holds custom attribute values keyed by definition key.
    """

    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    lifecycle_stage = models.CharField(max_length=20, choices=LifecycleStage.choices, blank=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, blank=True)
    licenses = models.PositiveIntegerField(null=True, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    mrr = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    potential_arr = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    customer_since = models.DateField(null=True, blank=True)
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_accounts",
        verbose_name="CSM",
        db_index=False,  # account_csm_idx below indexes it (Django's own FK index was a duplicate)
    )
    referenceable = models.BooleanField(null=True, blank=True)
    use_case = models.CharField(max_length=255, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    # Derived, not imported: the latest event's time, kept by
    # accounts.services.account_last_activity_sync so that lists can sort
    # 100k accounts by it from an index.
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["external_id"]
        indexes = [
            models.Index(fields=["mrr"], name="account_mrr_idx"),
            models.Index(fields=["renewal_date"], name="account_renewal_idx"),
            models.Index(fields=["csm"], name="account_csm_idx"),
            models.Index(fields=["name"], name="account_name_idx"),
            models.Index(fields=["last_activity_at"], name="account_last_activity_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(mrr__gte=0) | Q(mrr__isnull=True), name="account_mrr_non_negative"),
            models.CheckConstraint(
                condition=Q(potential_arr__gte=0) | Q(potential_arr__isnull=True),
                name="account_potential_arr_non_negative",
            ),
            models.CheckConstraint(condition=~Q(external_id=""), name="account_external_id_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="account_name_not_empty"),
            _choice_check("lifecycle_stage", LifecycleStage, blank=True, name="account_lifecycle_stage_valid"),
            _choice_check("plan", Plan, blank=True, name="account_plan_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @property
    def arr(self) -> Decimal | None:
        """Annual recurring revenue: MRR * 12, missing when MRR is."""
        return None if self.mrr is None else self.mrr * 12

    @property
    def expansion_gap(self) -> Decimal | None:
        """Potential ARR minus ARR; missing when either is missing."""
        arr = self.arr
        if arr is None or self.potential_arr is None:
            return None
        return self.potential_arr - arr

    def clean(self) -> None:
        from accounts.custom_attributes import custom_value_errors

        errors = custom_value_errors(self.custom)
        if errors:
            raise ValidationError({"custom": errors})


class SubscriptionStatus(models.TextChoices):
    TRIAL = "trial", "Trial"
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class BillingPeriod(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annual"


class Subscription(models.Model):
    """A billing subscription of an account."""

    external_id = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.CharField(max_length=20, choices=Plan.choices, blank=True)
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices, blank=True)
    billing_period = models.CharField(max_length=20, choices=BillingPeriod.choices, blank=True)
    mrr = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    trial_start_date = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(condition=Q(mrr__gte=0) | Q(mrr__isnull=True), name="subscription_mrr_non_negative"),
            models.CheckConstraint(condition=~Q(external_id=""), name="subscription_external_id_not_empty"),
            _choice_check("plan", Plan, blank=True, name="subscription_plan_valid"),
            _choice_check("status", SubscriptionStatus, blank=True, name="subscription_status_valid"),
            _choice_check("billing_period", BillingPeriod, blank=True, name="subscription_billing_period_valid"),
        ]

    def __str__(self) -> str:
        return self.external_id


class EndUserRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    CO_ADMIN = "co_admin", "Co-admin"
    USER = "user", "User"
    EXECUTIVE = "executive", "Executive"


class EndUser(models.Model):
    """A person at the customer who uses the product (user segments group these)."""

    external_id = models.CharField(max_length=100, unique=True)
    # db_index=False: the composite index below leads with this column (one index fewer to write).
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="end_users", db_index=False)
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=255, blank=True)
    role = models.CharField(max_length=20, choices=EndUserRole.choices, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["external_id"]
        indexes = [models.Index(fields=["account", "role"], name="enduser_account_role_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="enduser_external_id_not_empty"),
            _choice_check("role", EndUserRole, blank=True, name="enduser_role_valid"),
        ]

    def __str__(self) -> str:
        return self.email or self.name or self.external_id


LOGIN_EVENT = "login"


class Event(models.Model):
    """One usage event: a login or the use of a feature, with a quantity."""

    # Unique where given (the constraint below): most events have no external_id, and a
    # plain unique index would still take an entry for each of their NULLs.
    external_id = models.CharField(max_length=100, null=True, blank=True)
    # No single-column indexes on the foreign keys: the composite indexes
    # below start with them, and every index costs each imported event.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events", db_index=False)
    user = models.ForeignKey(
        EndUser, null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    name = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        # Covering indexes for the engagement metrics: windowed sums per
        # account (and per feature), and "days since last" per account/user.
        # The user index leaves out the events without a user (most of them):
        # every query by user compares user_id, which implies it is not NULL.
        indexes = [
            models.Index(fields=["account", "name", "occurred_at", "quantity"], name="event_acct_name_time_idx"),
            models.Index(fields=["account", "occurred_at"], name="event_acct_time_idx"),
            models.Index(fields=["user", "occurred_at"], condition=Q(user__isnull=False), name="event_user_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(external_id__isnull=False), name="event_external_id_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="event_quantity_positive"),
            models.CheckConstraint(condition=~Q(name=""), name="event_name_not_empty"),
            models.CheckConstraint(
                condition=Q(external_id__isnull=True) | ~Q(external_id=""), name="event_external_id_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} x{self.quantity} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class TouchpointKind(models.TextChoices):
    QBR = "qbr", "QBR"
    MEETING = "meeting", "Meeting"
    CALL = "call", "Call"
    EMAIL = "email", "Email"


class Touchpoint(models.Model):
    """A CSM's contact with an account (QBR, meeting, call, email)."""

    external_id = models.CharField(max_length=100, unique=True)
    # db_index=False: the composite index below leads with this column (one index fewer to write).
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="touchpoints", db_index=False)
    kind = models.CharField(max_length=20, choices=TouchpointKind.choices)
    occurred_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["account", "kind", "occurred_at"], name="touchpoint_acct_kind_time_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="touchpoint_external_id_not_empty"),
            _choice_check("kind", TouchpointKind, blank=False, name="touchpoint_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class SupportTicket(models.Model):
    """A support ticket of an account."""

    external_id = models.CharField(max_length=100, unique=True)
    # db_index=False: the composite index below leads with this column (one index fewer to write).
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tickets", db_index=False)
    opened_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=TicketStatus.choices)
    closed_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=TicketPriority.choices, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["account", "opened_at"], name="ticket_acct_opened_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(external_id=""), name="ticket_external_id_not_empty"),
            _choice_check("status", TicketStatus, blank=False, name="ticket_status_valid"),
            _choice_check("priority", TicketPriority, blank=True, name="ticket_priority_valid"),
        ]

    def __str__(self) -> str:
        return self.external_id
