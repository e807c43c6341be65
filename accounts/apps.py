from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles(sender, using="default", **kwargs) -> None:
    # Permissions are created by post_migrate too, so the role groups are
    # synced after every migrate: a model added later reaches the right groups.
    from django.contrib.auth.management import create_permissions

    from accounts.roles import roles_sync

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    roles_sync()


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Customer data"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="csbox-roles-sync")
        _register_pipeline_step()


# The pipeline sits above the apps (DESIGN.md): apps register their steps.
PIPELINE_STEP_ORDER = 5


def _register_pipeline_step() -> None:
    from accounts.services import nightly_last_activity_sync
    from csbox.pipeline import EXTRA_STEPS

    if not any(name == "last_activity" for _, name, _ in EXTRA_STEPS):
        EXTRA_STEPS.append((PIPELINE_STEP_ORDER, "last_activity", nightly_last_activity_sync))
