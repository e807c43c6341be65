from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "segments"

    def ready(self) -> None:
        from accounts.demo import demo_extension_register
        from segments import checks  # noqa: F401 - registers the field registry's system checks
        from segments.demo import starter_segments_create

        # Lower apps learn of segments only through registration (DESIGN.md).
        demo_extension_register(starter_segments_create)
