"""Create the nightly django-q2 schedule (idempotent: update_or_create by name)."""

import datetime as dt

from django.db import migrations

NAME = "csbox-nightly"
FUNC = "csbox.pipeline.nightly_task"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    now = dt.datetime.now(dt.UTC)
    next_run = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if next_run <= now:
        next_run += dt.timedelta(days=1)
    Schedule.objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": "D", "repeats": -1, "next_run": next_run}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0001_initial"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
