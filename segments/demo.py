"""Starter segments for the demo: the segments the product documents describe.

Registered as a demo extension (accounts.demo) in SegmentsConfig.ready();
`seed_demo` runs it after the customer data exists, then refreshes them.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from segments.services import segments_load, segments_refresh_all


def _rule(field: str, op: str, value=None, **params) -> dict:
    rule = {"field": field, "op": op}
    if params:
        rule["params"] = params
    if op not in ("is_set", "is_not_set", "is_true", "is_false"):
        rule["value"] = value
    return rule


def _all(*rules, match: str = "all") -> dict:
    return {"match": match, "rules": list(rules)}


STARTER_SEGMENTS = [
    ("mrr-tier-1", "MRR Tier 1 ($10k+)", "Our largest customers: named CSM, quarterly QBRs, executive sponsor.",
     _all(_rule("mrr", "gte", 10000))),
    ("mrr-tier-2", "MRR Tier 2 ($2k-$10k)", "Mid-sized customers: pooled CSMs and a half-yearly business review.",
     _all(_rule("mrr", "between", [2000, 9999.99]))),
    ("mrr-tier-3", "MRR Tier 3 (under $2k)", "Long tail: tech-touch journeys, webinars and in-app guidance.",
     _all(_rule("mrr", "lt", 2000))),
    ("plan-starter", "Starter plan", "Health judged on the core features (reports, dashboards).",
     _all(_rule("plan", "eq", "starter"))),
    ("plan-business", "Business plan", "Health adds data import and integrations.",
     _all(_rule("plan", "eq", "business"))),
    ("plan-enterprise", "Enterprise plan", "Health judged on every feature, API included.",
     _all(_rule("plan", "eq", "enterprise"))),
    ("stage-onboarding", "Onboarding", "New customers being onboarded: the onboarding journey applies.",
     _all(_rule("lifecycle_stage", "in", ["trial", "onboarding"]))),
    ("stage-renewal", "Renewal stage", "Accounts in their renewal cycle.",
     _all(_rule("lifecycle_stage", "eq", "renewal"))),
    ("renewal-90-days", "Renewal in 90 days", "Contracts ending in the next 90 days: start the renewal playbook.",
     _all(_rule("renewal_date", "in_next_days", 90))),
    ("high-value-active", "Active high-value accounts",
     "More than $5k MRR and at least 3 logins in the last 30 days (spec example).",
     _all(_rule("mrr", "gt", 5000), _rule("logins", "gte", 3, days=30))),
    ("dormant-renewing", "Dormant and renewing this quarter",
     "No activity in 90 days and the contract ends this quarter: a save play (spec example).",
     _all(_rule("renewal_date", "in_current", "quarter"),
          _all(_rule("days_since_last_activity", "gt", 90), _rule("days_since_last_activity", "is_not_set"),
               match="any"))),
    ("disengaged", "Disengaged accounts",
     "Any disengagement signal of the best-practices guide: inactive users, no QBR, falling usage, idle admins.",
     _all(_rule("inactive_users_pct", "gt", 30, days=10),
          _rule("touchpoints", "eq", 0, days=120, kind="qbr"),
          _rule("usage_change_pct", "lte", -30, days=30),
          _rule("active_users", "eq", 0, days=15, role="admin"), match="any")),
    ("expansion-candidates", "Expansion candidates",
     "Well-used accounts with room to grow: licence utilisation above 80% and an expansion gap over $10k.",
     _all(_rule("license_utilization_pct", "gt", 80, days=30), _rule("expansion_gap", "gt", 10000))),
]


def starter_segments_create(*, seed: int, anchor: dt.date) -> dict[str, int]:
    """Create (or update) the starter segments and refresh them as of the anchor day."""
    definitions = [
        {"slug": slug, "name": name, "description": why, "conditions": conditions, "order": index}
        for index, (slug, name, why, conditions) in enumerate(STARTER_SEGMENTS)
    ]
    with transaction.atomic():
        segments_load(data=definitions)
    as_of = dt.datetime.combine(anchor, dt.time(), tzinfo=dt.UTC) if anchor else timezone.now()
    segments_refresh_all(as_of=as_of)
    return {"segments": len(definitions)}
