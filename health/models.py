"""Health configs (per segment, plus one default), their parameters, and daily scores.

A config is a scorecard: weighted parameters, each a numeric field of the
condition registry (../shared/spec/conditions.md) with its params, a
direction and Good / Poor thresholds. The nightly pipeline stores one
HealthScore per account per day (health.services.health_score_all).
"""

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from accounts.models import Account
from segments.models import Segment


class Pillar(models.TextChoices):
    PRODUCT_ADOPTION = "product_adoption", "Product adoption"
    ENGAGEMENT = "engagement", "Engagement"
    FINANCIAL = "financial", "Financial"
    SUPPORT = "support", "Support"
    RELATIONSHIP = "relationship", "Relationship"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class HealthLabel(models.TextChoices):
    GOOD = "good", "Good"
    AVERAGE = "average", "Average"
    POOR = "poor", "Poor"


DEFAULT_GOOD_CUTOFF = 70
DEFAULT_POOR_CUTOFF = 40


class HealthConfig(models.Model):
    """Score the accounts of one segment (or, with no segment, every other account).

    An account in several configured segments is scored by the config of the
    segment that comes first in the segment order; an account in none by the
    default config (segment NULL; at most one, created by migration 0002).
    """

    segment = models.OneToOneField(
        Segment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="health_config",
        limit_choices_to={"kind": "account"},
        help_text="Leave empty for the default config: accounts in no configured segment.",
    )
    name = models.CharField(max_length=100)
    good_cutoff = models.PositiveSmallIntegerField(
        default=DEFAULT_GOOD_CUTOFF, help_text="A score at or above this is Good."
    )
    poor_cutoff = models.PositiveSmallIntegerField(
        default=DEFAULT_POOR_CUTOFF, help_text="A score below this is Poor; in between is Average."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [F("segment__order").asc(nulls_last=True), "segment__name", "pk"]
        verbose_name = "health config"
        constraints = [
            # Conditional unique index over a constant: at most one row without a segment.
            models.UniqueConstraint(
                Coalesce(F("segment"), Value(0)),
                condition=Q(segment__isnull=True),
                name="healthconfig_single_default",
                violation_error_message="There is already a default health config.",
            ),
            models.CheckConstraint(
                condition=Q(poor_cutoff__lt=F("good_cutoff")) & Q(good_cutoff__lte=100),
                name="healthconfig_cutoffs_ordered",
                violation_error_message="The Poor cut-off must be below the Good cut-off (at most 100).",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.segment_id is None

    def clean(self) -> None:
        from health.validation import config_errors

        config_errors(config=self)


class HealthParameter(models.Model):
    """One parameter of a config: a numeric registry field with params, scored 0-100.

    Higher is better: 100 at or above `good`, 0 at or below `poor`, linear in
    between (mirrored when lower is better). A missing value is left out of
    the weighted average.
    """

    config = models.ForeignKey(HealthConfig, on_delete=models.CASCADE, related_name="parameters")
    pillar = models.CharField(max_length=20, choices=Pillar.choices)
    field = models.CharField(max_length=200, help_text="A numeric field of the condition registry.")
    params = models.JSONField(default=dict, blank=True, help_text='e.g. {"days": 30}')
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    good = models.DecimalField(max_digits=16, decimal_places=4, help_text="Scores 100 at (or beyond) this value.")
    poor = models.DecimalField(max_digits=16, decimal_places=4, help_text="Scores 0 at (or beyond) this value.")
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["config", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="healthparameter_weight_positive"),
            models.CheckConstraint(condition=Q(pillar__in=Pillar.values), name="healthparameter_pillar_valid"),
            models.CheckConstraint(
                condition=Q(direction=Direction.HIGHER, good__gt=F("poor"))
                | Q(direction=Direction.LOWER, good__lt=F("poor")),
                name="healthparameter_thresholds_ordered",
                violation_error_message=(
                    "Good must be above Poor when higher is better, and below it when lower is better."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_pillar_display()}: {self.field}"

    def clean(self) -> None:
        from health.validation import parameter_errors

        parameter_errors(parameter=self)


class HealthScore(models.Model):
    """An account's health on one day, as scored by the nightly pipeline.

    `score` is the weighted average rounded half up (0-100), NULL when every
    parameter is missing (then `label` is ""). `score_exact` keeps the
    unrounded average. `details` maps each parameter's id to [value, score]
    (both null when the value is missing). `config` is the config used.
    """

    # db_index=False: the unique (account, date) constraint indexes it.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_scores", db_index=False)
    date = models.DateField()
    config = models.ForeignKey(HealthConfig, null=True, on_delete=models.SET_NULL, related_name="scores")
    score = models.PositiveSmallIntegerField(null=True)
    score_exact = models.FloatField(null=True)
    label = models.CharField(max_length=10, choices=HealthLabel.choices, blank=True)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["account", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="healthscore_account_date_unique"),
            models.CheckConstraint(
                condition=Q(score__isnull=True, label="")
                | Q(score__isnull=False, score__lte=100, label__in=HealthLabel.values),
                name="healthscore_score_label_consistent",
            ),
        ]
        indexes = [models.Index(fields=["date", "account"], name="healthscore_date_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date}: {self.score}"


class CurrentHealth(models.Model):
    """An account's latest stored score: a copy of its most recent HealthScore row.

    Written set-based by the scoring step (health.services), in the same
    transaction as the day's rows, so that the CSM lists can sort 100,000
    accounts by health and filter them by label from an index instead of
    looking up each account's latest row. Read only for "now"
    (health.selectors.health_list_score_expression); the segment engine keeps
    reading HealthScore, which answers for any day.
    """

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.CASCADE,
                                   related_name="current_health")
    date = models.DateField()
    score = models.PositiveSmallIntegerField(null=True)
    label = models.CharField(max_length=10, choices=HealthLabel.choices, blank=True)

    class Meta:
        verbose_name = "current health"
        verbose_name_plural = "current health"
        indexes = [
            models.Index(fields=["score", "account"], name="currenthealth_score_idx"),
            models.Index(fields=["label", "account"], name="currenthealth_label_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} ({self.date})"
