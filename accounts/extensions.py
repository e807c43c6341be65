"""Extension points of the CSM pages, filled by higher apps at start-up.

accounts is the lowest app (DESIGN.md, direction of imports): it cannot
import health or playbooks, so they *register* what they add to the account
pages in their `AppConfig.ready()`, as apps register into Django's admin site
or NetBox's template extensions:

- **metrics**: a per-account value computed by the database, e.g. the health
  app registers ``health_score`` (integer 0-100) and ``health_label``
  (``good`` / ``average`` / ``poor``). The CSM pages show them as sortable
  columns, AccountFilterSet filters on ``health_label``, and segment pages
  average and look for outliers on ``health_score``. Without a registration
  the pages simply leave health out.
- **panels**: sections of Account 360 (health with its parameters and trend;
  later alerts, milestones, journeys), each a template and a context function.

A metric's ``expression(*, as_of)`` has the same contract as
``segments.registry.Registry.register_provider``: an Expression evaluated on
Account rows (``OuterRef("pk")`` is the account), so a provider function can
be registered in both places unchanged.

Example (health/apps.py)::

    def ready(self):
        from accounts.extensions import AccountMetric, AccountPanel, account_extensions
        from health.selectors import health_score_expression, health_label_expression, account_health_panel

        account_extensions.metric_register(AccountMetric(
            key="health_score", label="Health", expression=health_score_expression))
        account_extensions.metric_register(AccountMetric(
            key="health_label", label="Health label", expression=health_label_expression,
            choices=(("good", "Good"), ("average", "Average"), ("poor", "Poor"))))
        account_extensions.panel_register(AccountPanel(
            key="health", title="Health", template="health/account_panel.html",
            context=account_health_panel, order=10))
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Expression

HEALTH_SCORE = "health_score"
HEALTH_LABEL = "health_label"
HEALTH_LABELS = (("good", "Good"), ("average", "Average"), ("poor", "Poor"))


@dataclass(frozen=True)
class AccountMetric:
    """A per-account value a higher app computes in SQL.

    `expression(*, as_of)` returns an Expression on Account rows. `choices`
    (value, label) for a label-like metric; empty for a number.
    """

    key: str
    label: str
    expression: Callable[..., Expression]
    choices: tuple[tuple[str, str], ...] = ()

    def annotation(self, *, as_of: dt.datetime) -> Expression:
        return self.expression(as_of=as_of)


@dataclass(frozen=True)
class AccountPanel:
    """A section of Account 360 added by a higher app.

    `context(*, account, as_of, user)` returns the template context (one
    account: a few queries are fine); `template` is rendered with it plus
    `account`. Panels are shown by ascending `order`.
    """

    key: str
    title: str
    template: str
    context: Callable[..., dict[str, Any]]
    order: int = 100


class AccountExtensions:
    """The metrics and panels registered by higher apps (filled at start-up, then read)."""

    def __init__(self):
        self._metrics: dict[str, AccountMetric] = {}
        self._panels: dict[str, AccountPanel] = {}

    def metric_register(self, metric: AccountMetric) -> AccountMetric:
        if metric.key in self._metrics:
            raise ValueError(f'an account metric "{metric.key}" is already registered')
        self._metrics[metric.key] = metric
        return metric

    def metric(self, key: str) -> AccountMetric | None:
        """The metric registered under `key`, or None (e.g. health is not installed)."""
        return self._metrics.get(key)

    def panel_register(self, panel: AccountPanel) -> AccountPanel:
        if panel.key in self._panels:
            raise ValueError(f'an Account 360 panel "{panel.key}" is already registered')
        self._panels[panel.key] = panel
        return panel

    def panels(self) -> list[AccountPanel]:
        return sorted(self._panels.values(), key=lambda p: (p.order, p.key))

    def unregister(self, key: str) -> None:
        """Remove a metric or panel (tests only: the registry is fixed after start-up)."""
        self._metrics.pop(key, None)
        self._panels.pop(key, None)


account_extensions = AccountExtensions()
