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
        from health.selectors import health_label_expression, health_score_expression
        from health.services import health_score_all
        from segments.registry import registry

        if not any(name == "health" for _, name, _ in EXTRA_STEPS):
            EXTRA_STEPS.append((PIPELINE_STEP_ORDER, "health", health_score_all))
        if registry.provider("health_score") is None:
            registry.register_provider("health_score", health_score_expression)
            registry.register_provider("health_label", health_label_expression)
        if health_demo_configure not in DEMO_EXTENSIONS:
            demo_extension_register(health_demo_configure)
