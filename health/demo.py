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

from accounts.models import Account, CustomAttributeDefinition
from health.models import HealthConfig, HealthParameter
from health.services import health_score_all
from segments.models import Segment

HISTORY_DAYS = 30
HISTORY_FULL_UP_TO = 10_000  # accounts; beyond, a week of history keeps seed_demo within minutes

# (pillar, field, params, direction, good, poor, weight). The seeds' example (Good: active users
# >= 70% of licenses, Poor: < 10%) for Starter; bigger plans buy seats ahead of use, so their bar is lower.
_TICKETS = ("support", "open_tickets", {}, "lower", 0, 4, 1)
_NPS = ("relationship", "custom.nps", {}, "higher", 9, 5, 1)


def _adoption(good: int, poor: int) -> tuple:
    return ("product_adoption", "license_utilization_pct", {"days": 30}, "higher", good, poor, 3)


def _logins(good: int) -> tuple:
    return ("engagement", "logins", {"days": 30}, "higher", good, 2, 2)


def _feature(name: str, good: int, weight: int = 1) -> tuple:
    return ("product_adoption", "usage", {"days": 30, "feature": name}, "higher", good, 0, weight)


DEMO_CONFIGS: dict[str | None, tuple[str, list[tuple]]] = {
    None: ("Default health", [_adoption(70, 10), _logins(30), _TICKETS]),
    "plan-starter": ("Starter health", [_adoption(70, 10), _feature("reports", 30), _feature("dashboards", 30),
                                        _logins(30), _TICKETS, _NPS]),
    "plan-business": ("Business health", [_adoption(55, 10), _feature("reports", 60), _feature("dashboards", 60),
                                          _feature("data_import", 50, 2), _feature("integrations", 50, 2),
                                          _logins(80), _TICKETS, _NPS]),
    "plan-enterprise": ("Enterprise health", [
        _adoption(40, 5), _feature("reports", 120), _feature("dashboards", 120), _feature("data_import", 120, 2),
        _feature("integrations", 120, 2), _feature("api", 5000, 2),
        ("engagement", "usage_change_pct", {"days": 30}, "higher", 10, -30, 2),
        ("relationship", "days_since_last_touchpoint", {"kind": "qbr"}, "lower", 100, 200, 2),
        ("relationship", "touchpoints", {"days": 90}, "higher", 12, 2, 1),
        _TICKETS, _NPS,
    ]),
}


def health_demo_configure(*, seed: int, anchor: dt.date) -> Mapping[str, int]:
    """Create (or reset) the demo health configs, then score the days up to the anchor.

    Scores a month of days (a week for very large demos) so that trends and sparklines have
    history; the accounts' activity before the anchor gives each day its own scores.
    """
    configs = _configs_write()
    accounts = Account.objects.count()
    days = HISTORY_DAYS if accounts <= HISTORY_FULL_UP_TO else 7
    midnight = dt.datetime.combine(anchor, dt.time(), tzinfo=dt.UTC)
    for days_ago in range(days, -1, -1):
        health_score_all(as_of=midnight - dt.timedelta(days=days_ago))
    return {"health configs": configs, "health scores": accounts * (days + 1)}


def _configs_write() -> int:
    has_nps = CustomAttributeDefinition.objects.filter(key="nps", type="number").exists()
    segments = {s.slug: s for s in Segment.objects.filter(slug__in=[k for k in DEMO_CONFIGS if k], kind="account")}
    written = 0
    with transaction.atomic():
        for slug, (name, rows) in DEMO_CONFIGS.items():
            if slug is not None and slug not in segments:
                continue  # the segments app's demo did not create it: nothing to configure
            config, _ = HealthConfig.objects.update_or_create(segment=segments.get(slug), defaults={"name": name})
            config.parameters.all().delete()
            HealthParameter.objects.bulk_create([
                HealthParameter(config=config, pillar=pillar, field=key, params=params, direction=direction,
                                good=good, poor=poor, weight=weight, position=position)
                for position, (pillar, key, params, direction, good, poor, weight) in enumerate(rows)
                if has_nps or not key.startswith("custom.")
            ])
            written += 1
    return written
