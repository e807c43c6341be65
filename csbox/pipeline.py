"""The nightly pipeline: segments, then health, alerts, milestones and journeys.

One function, called by the django-q2 schedule and by `manage.py nightly`.
Each step is a service of its own app and idempotent for a given `as_of`.
"""

import datetime as dt

from django.utils import timezone

NIGHTLY_SCHEDULE_NAME = "csbox-nightly"
NIGHTLY_FUNC = "csbox.pipeline.nightly_task"


def nightly_steps() -> list:
    """Return the pipeline's steps in order, as (name, service) pairs."""
    # Imported here: the pipeline sits above every app (see DESIGN.md).
    return []


def nightly_run(*, as_of: dt.datetime | None = None) -> dict:
    """Run every nightly step for `as_of` (default now) and return their results."""
    as_of = as_of or timezone.now()
    return {name: step(as_of=as_of) for name, step in nightly_steps()}


def nightly_task() -> dict:
    """The django-q2 entry point of the nightly schedule."""
    return nightly_run()


def nightly_schedule_ensure() -> None:
    """Create or update the daily 02:00 UTC schedule (idempotent, by name)."""
    from django_q.models import Schedule

    now = timezone.now()
    next_run = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if next_run <= now:
        next_run += dt.timedelta(days=1)
    existing = Schedule.objects.filter(name=NIGHTLY_SCHEDULE_NAME).first()
    defaults = {"func": NIGHTLY_FUNC, "schedule_type": Schedule.DAILY, "repeats": -1}
    if existing is None:
        Schedule.objects.create(name=NIGHTLY_SCHEDULE_NAME, next_run=next_run, **defaults)
    else:
        Schedule.objects.filter(pk=existing.pk).update(**defaults)
