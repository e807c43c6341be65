"""The health app: per-segment health configs and daily scores.

At start-up it registers into the lower apps (DESIGN.md, "Direction of
imports"): the nightly pipeline step (after the segment refresh), the SQL of
the registry's `health_score` / `health_label` fields, and the demo configs.
"""

from django.apps import AppConfig

# The pipeline runs registered steps by this number; playbooks come after health.
PIPELINE_STEP_ORDER = 10


class HealthAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "health"
    verbose_name = "Health"

    def ready(self) -> None:
        from accounts.demo import DEMO_EXTENSIONS, demo_extension_register
        from csbox.pipeline import EXTRA_STEPS
        from health.demo import health_demo_configure
        from health.services import health_score_all

        if not any(name == "health" for _, name, _ in EXTRA_STEPS):
            EXTRA_STEPS.append((PIPELINE_STEP_ORDER, "health", health_score_all))
        if health_demo_configure not in DEMO_EXTENSIONS:
            demo_extension_register(health_demo_configure)
        _register_health_fields()
        _register_segment_usage()


def _register_segment_usage() -> None:
    """Let the segment admin and pages show which health config uses a segment."""
    from health.selectors import health_configs_using_segments
    from segments.usage import usage_provider_register

    usage_provider_register(health_configs_using_segments)


def _register_health_fields() -> None:
    """Give the registry's health fields their SQL, and the CSM pages their health column and panel."""
    from accounts.extensions import (
        HEALTH_LABEL,
        HEALTH_LABELS,
        HEALTH_SCORE,
        AccountMetric,
        AccountPanel,
        account_extensions,
    )
    from health.selectors import (
        health_account_panel,
        health_label_expression,
        health_list_label_expression,
        health_list_score_expression,
        health_score_expression,
    )
    from segments.registry import registry

    if registry.provider(HEALTH_SCORE) is None:
        registry.register_provider(HEALTH_SCORE, health_score_expression)
        registry.register_provider(HEALTH_LABEL, health_label_expression)
    if account_extensions.metric(HEALTH_SCORE) is None:
        # The pages read today's health from CurrentHealth (indexed); the engine reads the history.
        account_extensions.metric_register(AccountMetric(key=HEALTH_SCORE, label="Health",
                                                         expression=health_list_score_expression))
        account_extensions.metric_register(AccountMetric(key=HEALTH_LABEL, label="Health label",
                                                         expression=health_list_label_expression,
                                                         choices=HEALTH_LABELS))
        account_extensions.panel_register(AccountPanel(key="health", title="Health",
                                                       template="health/account_panel.html",
                                                       context=health_account_panel, order=10))
