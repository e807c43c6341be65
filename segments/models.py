"""Segments, their materialised memberships, the change log and daily snapshots."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import Account, EndUser


class SegmentKind(models.TextChoices):
    ACCOUNT = "account", "Accounts"
    USER = "user", "End users"


class RefreshStatus(models.TextChoices):
    NEVER = "never", "Never refreshed"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


def _empty_all_group() -> dict:
    return {"match": "all", "rules": []}


class Segment(models.Model):
    """A named group of accounts (or end users) defined by JSON conditions.

    `conditions` follows ../shared/spec/conditions.md; `clean()` runs the one
    validator so the admin, the API and the loader show the same errors.
    """

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=SegmentKind.choices, default=SegmentKind.ACCOUNT)
    description = models.TextField(blank=True, help_text="Why this segment exists and what we do with it.")
    visible = models.BooleanField(default=True, help_text="Shown as a tab to CSMs.")
    order = models.PositiveIntegerField(default=0, db_index=True)
    conditions = models.JSONField(default=_empty_all_group)
    expect_members = models.JSONField(default=list, blank=True)
    expect_non_members = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    # State of the last refresh (written by segments.services only).
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_refresh_as_of = models.DateTimeField(null=True, blank=True)
    refresh_status = models.CharField(max_length=10, choices=RefreshStatus.choices, default=RefreshStatus.NEVER)
    refresh_error = models.TextField(blank=True)
    member_count = models.PositiveIntegerField(default=0)
    expectation_errors = models.JSONField(default=list, blank=True)

    history = HistoricalRecords(
        excluded_fields=[
            "last_refreshed_at",
            "last_refresh_as_of",
            "refresh_status",
            "refresh_error",
            "member_count",
            "expectation_errors",
            "last_viewed_at",
            "updated_at",
        ]
    )

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SegmentKind.values), name="segment_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def expectations_contradicted(self) -> bool:
        return bool(self.expectation_errors)

    def clean(self) -> None:
        from segments.services import segment_validate

        segment_validate(segment=self)


class AccountMembership(models.Model):
    """An account that is currently in an account segment (since `since`)."""

    # db_index=False on both keys: the unique constraint and the index below lead with them.
    # db_constraint=False (no database foreign key; the ORM still cascades deletes): memberships
    # are written only by the refresh's set-based statements, from ids it reads in the same
    # statement; the per-row key checks were ~45% of a first refresh on PostgreSQL (docs/decisions.md).
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="account_memberships",
                                db_index=False, db_constraint=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships", db_index=False,
                                db_constraint=False)
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "account"], name="account_membership_unique")]
        indexes = [models.Index(fields=["account", "segment"], name="account_membership_acct_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.segment_id}"


class UserMembership(models.Model):
    """An end user who is currently in a user segment (since `since`)."""

    # Keys indexed and unconstrained as AccountMembership's, for the same reasons.
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="user_memberships",
                                db_index=False, db_constraint=False)
    user = models.ForeignKey(EndUser, on_delete=models.CASCADE, related_name="memberships", db_index=False,
                             db_constraint=False)
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "user"], name="user_membership_unique")]
        indexes = [models.Index(fields=["user", "segment"], name="user_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.segment_id}"


class ChangeKind(models.TextChoices):
    JOINED = "joined", "Joined"
    LEFT = "left", "Left"


class MembershipChange(models.Model):
    """One join or leave of an account (or user) in a segment, at a refresh."""

    # db_index=False on the keys: the indexes below lead with them (the user one only over user rows,
    # where account rows would only add NULL entries); a refresh writes every index once per change.
    # No database foreign keys, as for the memberships: the refresh writes the log set-based.
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="changes", db_index=False,
                                db_constraint=False)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                db_index=False, db_constraint=False)
    user = models.ForeignKey(EndUser, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             db_index=False, db_constraint=False)
    change = models.CharField(max_length=10, choices=ChangeKind.choices)
    at = models.DateTimeField(help_text="The refresh's as_of.")
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["segment", "at"], name="change_segment_at_idx"),
            models.Index(fields=["account", "at"], name="change_account_at_idx"),
            # The migration page: each (segment, account)'s joins and leaves up to a day, grouped
            # in index order and read from the index alone; the log's first and last day.
            models.Index(fields=["segment", "account", "at", "change"], name="change_segment_account_idx"),
            models.Index(fields=["at"], condition=Q(account__isnull=False), name="change_account_time_idx"),
            models.Index(fields=["user", "at"], condition=Q(user__isnull=False), name="change_user_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(change__in=ChangeKind.values), name="change_kind_valid"),
            models.CheckConstraint(
                condition=Q(account__isnull=False, user__isnull=True) | Q(account__isnull=True, user__isnull=False),
                name="change_one_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id or self.user_id} {self.change} {self.segment_id} at {self.at:%Y-%m-%d}"


class SegmentSnapshot(models.Model):
    """The segment's size and value on one day, for trends."""

    # db_index=False: the unique (segment, date) constraint indexes it.
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots", db_index=False)
    date = models.DateField()
    members = models.PositiveIntegerField()
    total_mrr = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    avg_health = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["segment", "date"]
        constraints = [models.UniqueConstraint(fields=["segment", "date"], name="snapshot_segment_date_unique")]

    def __str__(self) -> str:
        return f"{self.segment_id} on {self.date}: {self.members}"


class PipelineRun(models.Model):
    """One run of the nightly pipeline for one `as_of` day.

    Unique per (pipeline, day): django-q2 delivers at least once, so a second
    delivery of the same night finds its run and does nothing.
    """

    pipeline = models.CharField(max_length=50, default="nightly")
    as_of_date = models.DateField()
    as_of = models.DateTimeField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, default="running")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-as_of_date"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "as_of_date"], name="pipeline_run_unique_day")]

    def __str__(self) -> str:
        return f"{self.pipeline} {self.as_of_date} ({self.status})"
