"""Create the default health config (segment NULL): accounts in no configured segment."""

from django.db import migrations


def create_default(apps, schema_editor):
    HealthConfig = apps.get_model("health", "HealthConfig")
    if not HealthConfig.objects.filter(segment__isnull=True).exists():
        HealthConfig.objects.create(name="Default health", good_cutoff=70, poor_cutoff=40)


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
