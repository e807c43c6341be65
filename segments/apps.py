from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate

# The pipeline runs registered steps by this number: the segment pages'
# insights are computed once members (built in) and health (10) are current.
INSIGHTS_STEP_ORDER = 20


class SegmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "segments"

    def ready(self) -> None:
        from accounts.demo import demo_extension_register
        from csbox.pipeline import EXTRA_STEPS
        from segments import checks  # noqa: F401 - registers the field registry's system checks
        from segments.demo import starter_segments_create
        from segments.page_services import segment_insights_warm

        # Lower apps learn of segments only through registration (DESIGN.md).
        demo_extension_register(starter_segments_create)
        if not any(name == "segment_insights" for _, name, _ in EXTRA_STEPS):
            EXTRA_STEPS.append((INSIGHTS_STEP_ORDER, "segment_insights", segment_insights_warm))
        post_migrate.connect(_cache_table_create, sender=self, dispatch_uid="csbox-cache-table")


def _cache_table_create(sender, using="default", **kwargs) -> None:
    """Create the cache table of settings.CACHES (without Redis) at every migrate: nothing else to run.

    Here because the segment pages are what the shared cache holds;
    `createcachetable` skips existing tables and backends without one.
    """
    call_command("createcachetable", database=using, verbosity=0)
