"""Demo health configs for `seed_demo`: one per plan segment, plus the default config.

The seeds' feature split (../shared/seeds/001_*.txt): Starter accounts are
judged on the features of their plan (reports, dashboards), Business adds
data import and integrations, Enterprise adds the API and the QBR rhythm.
The plan segments (`plan-starter`, ...) come from the segments app's demo
extension, which runs before this one; a missing segment is skipped.
Registered in health/apps.py; run after `accounts.demo.demo_seed`.
"""

import datetime as dt
from collections.abc import Mapping

from django.db import transaction

from accounts.models import CustomAttributeDefinition
from health.models import HealthConfig, HealthParameter
from segments.models import Segment

# (pillar, field, params, direction, good, poor, weight)
_ADOPTION = ("product_adoption", "license_utilization_pct", {"days": 30}, "higher", 70, 10, 3)
_LOGINS = ("engagement", "logins", {"days": 30}, "higher", 40, 2, 2)
_TICKETS = ("support", "open_tickets", {}, "lower", 0, 4, 1)
_NPS = ("relationship", "custom.nps", {}, "higher", 9, 5, 1)


def _feature(name: str, good: int, weight: int = 1) -> tuple:
    return ("product_adoption", "usage", {"days": 30, "feature": name}, "higher", good, 0, weight)


DEMO_CONFIGS: dict[str | None, tuple[str, list[tuple]]] = {
    None: ("Default health", [_ADOPTION, _LOGINS, _TICKETS]),
    "plan-starter": ("Starter health", [_ADOPTION, _feature("reports", 40), _feature("dashboards", 40), _LOGINS,
                                        _TICKETS, _NPS]),
    "plan-business": ("Business health", [_ADOPTION, _feature("reports", 80), _feature("dashboards", 80),
                                          _feature("data_import", 60, 2), _feature("integrations", 60, 2),
                                          _LOGINS, _TICKETS, _NPS]),
    "plan-enterprise": ("Enterprise health", [
        _ADOPTION, _feature("reports", 150), _feature("dashboards", 150), _feature("data_import", 120, 2),
        _feature("integrations", 120, 2), _feature("api", 5000, 2),
        ("engagement", "usage_change_pct", {"days": 30}, "higher", 10, -30, 2),
        ("relationship", "days_since_last_touchpoint", {"kind": "qbr"}, "lower", 100, 200, 2),
        ("relationship", "touchpoints", {"days": 90}, "higher", 6, 0, 1),
        _TICKETS, _NPS,
    ]),
}


def health_demo_configure(*, seed: int, anchor: dt.date) -> Mapping[str, int]:
    """Create (or reset) the demo health configs; return their count for seed_demo's summary."""
    has_nps = CustomAttributeDefinition.objects.filter(key="nps", type="number").exists()
    segments = {s.slug: s for s in Segment.objects.filter(slug__in=[k for k in DEMO_CONFIGS if k], kind="account")}
    written = 0
    with transaction.atomic():
        for slug, (name, rows) in DEMO_CONFIGS.items():
            if slug is not None and slug not in segments:
                continue
            config, _ = HealthConfig.objects.update_or_create(segment=segments.get(slug), defaults={"name": name})
            config.parameters.all().delete()
            HealthParameter.objects.bulk_create([
                HealthParameter(config=config, pillar=pillar, field=key, params=params, direction=direction,
                                good=good, poor=poor, weight=weight, position=position)
                for position, (pillar, key, params, direction, good, poor, weight) in enumerate(rows)
                if has_nps or not key.startswith("custom.")
            ])
            written += 1
    return {"health configs": written}
