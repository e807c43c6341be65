"""Scorecards: which accounts each config scores (the priority rule) and the SQL that scores them.

Pure query building: no writes, and no queries except where a docstring
says so. Services (nightly scoring) and selectors (the admin's preview)
both use it, so a preview is computed exactly as the nightly run would.
"""

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, Expression, F, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast

from accounts.models import Account
from health.fields import field_value_expression
from health.models import Direction, HealthConfig, HealthParameter
from health.sql import ParameterSQL, score_select
from health.validation import field_params_errors
from segments.models import AccountMembership, Segment
from segments.registry import CustomDef

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Scorecard:
    """A config as the scoring needs it (saved or not): its segment, cut-offs and parameters."""

    segment_id: int | None
    good_cutoff: int
    poor_cutoff: int
    parameters: tuple[HealthParameter, ...]
    config_id: int | None = None


def scorecard_of(config: HealthConfig, parameters: Sequence[HealthParameter] | None = None) -> Scorecard:
    """The scorecard of a config; its saved parameters (one query) unless `parameters` are given."""
    if parameters is None:
        parameters = list(config.parameters.order_by("position", "pk"))
    return Scorecard(segment_id=config.segment_id, good_cutoff=config.good_cutoff, poor_cutoff=config.poor_cutoff,
                     parameters=tuple(parameters), config_id=config.pk)


def configured_segment_ids(*, including: int | None = None) -> list[int]:
    """Segments that have a config, first in segment order first (one query).

    `including`: a segment treated as configured (a config being previewed).
    Only account segments count; ties in `order` are broken by name, then id.
    """
    segments = Segment.objects.filter(kind="account").filter(
        Q(health_config__isnull=False) | Q(pk=including or 0)
    )
    return list(segments.order_by("order", "name", "pk").values_list("pk", flat=True))


def _member_of(segment_ids: Sequence[int]) -> Exists:
    return Exists(AccountMembership.objects.filter(account=OuterRef("pk"), segment_id__in=list(segment_ids)))


def assigned_accounts(*, segment_id: int | None, ordered_segment_ids: Sequence[int]) -> QuerySet:
    """The accounts a config of `segment_id` scores under the priority rule (None: the default config).

    A segment's config scores its members that are in no configured segment
    earlier in the order; the default config scores accounts in none.
    Membership is the materialised one (the latest refresh).
    """
    if segment_id is None:
        if not ordered_segment_ids:
            return Account.objects.all()
        return Account.objects.filter(~_member_of(ordered_segment_ids))
    accounts = Account.objects.filter(_member_of([segment_id]))
    earlier = list(ordered_segment_ids[: list(ordered_segment_ids).index(segment_id)])
    return accounts.filter(~_member_of(earlier)) if earlier else accounts


def values_queryset(*, scorecard: Scorecard, accounts: QuerySet, as_of: dt.datetime,
                    custom: Mapping[str, CustomDef]) -> QuerySet:
    """`aid` and one double `p<i>` per parameter (NULL when missing), for `accounts`."""
    annotations = {
        f"p{index}": _value_expression(p, as_of=as_of, custom=custom) for index, p in enumerate(scorecard.parameters)
    }
    return accounts.order_by().annotate(aid=F("pk"), **annotations).values("aid", *annotations)


def _value_expression(parameter: HealthParameter, *, as_of: dt.datetime, custom: Mapping[str, CustomDef]
                      ) -> Expression:
    """The parameter's value; NULL (missing for every account) when it no longer validates.

    A parameter valid when saved can break later (its custom attribute deleted or
    retyped): it must not stop the nightly run of every other account and config.
    """
    errors = field_params_errors(key=parameter.field, params=parameter.params, custom=custom)
    if errors:
        logger.warning("health parameter %s (%s) is invalid and counts as missing: %s", parameter.pk,
                       parameter.field, errors)
        return Cast(Value(None), FloatField())  # typed: PostgreSQL would make a bare NULL column text
    return field_value_expression(key=parameter.field, params=parameter.params, as_of=as_of, custom=custom)


def scorecard_sql(*, scorecard: Scorecard, accounts: QuerySet, as_of: dt.datetime,
                  custom: Mapping[str, CustomDef]) -> tuple[str, list]:
    """SELECT account_id, score, score_exact, label, details for `accounts` under the scorecard."""
    values = values_queryset(scorecard=scorecard, accounts=accounts, as_of=as_of, custom=custom)
    values_sql, values_params = values.query.sql_with_params()
    parameters = [
        ParameterSQL(key=p.pk or index, higher_is_better=p.direction == Direction.HIGHER, good=float(p.good),
                     poor=float(p.poor), weight=float(p.weight))
        for index, p in enumerate(scorecard.parameters)
    ]
    return score_select(values_sql=values_sql, values_params=values_params, parameters=parameters,
                        good_cutoff=scorecard.good_cutoff, poor_cutoff=scorecard.poor_cutoff,
                        vendor=connection.vendor)
