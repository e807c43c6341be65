"""The nightly pipeline: segments, then health, alerts, milestones and journeys.

One function, called by the django-q2 schedule and by `manage.py nightly`.
Each step is a service of its own app and idempotent for a given `as_of`.
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

PIPELINE = "nightly"
NIGHTLY_SCHEDULE_NAME = "csbox-nightly"
NIGHTLY_FUNC = "csbox.pipeline.nightly_task"


def nightly_steps() -> list:
    """Return the pipeline's steps in order, as (name, service) pairs."""
    # Imported here: the pipeline sits above every app (see DESIGN.md).
    from segments.services import segments_refresh_all

    steps = [("segments", segments_refresh_all)]
    steps += _registered_steps()
    return steps


# Higher apps (health, playbooks) append (order, name, service) at start-up.
EXTRA_STEPS: list[tuple[int, str, object]] = []


def _registered_steps() -> list:
    return [(name, service) for _, name, service in sorted(EXTRA_STEPS, key=lambda s: s[0])]


def nightly_run(*, as_of: dt.datetime | None = None) -> dict:
    """Run every nightly step for `as_of` (default now), recording the run."""
    from segments.models import PipelineRun

    as_of = as_of or timezone.now()
    run = _run_record(as_of=as_of)
    results = {}
    try:
        for name, step in nightly_steps():
            results[name] = step(as_of=as_of)
    except Exception as exc:
        PipelineRun.objects.filter(pk=run.pk).update(status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    PipelineRun.objects.filter(pk=run.pk).update(status="done", finished_at=timezone.now(), error="")
    return results


def _run_record(*, as_of: dt.datetime):
    from segments.models import PipelineRun

    day = as_of.astimezone(dt.UTC).date()
    defaults = {"as_of": as_of, "started_at": timezone.now(), "status": "running", "finished_at": None}
    try:
        with transaction.atomic():
            run, _ = PipelineRun.objects.update_or_create(pipeline=PIPELINE, as_of_date=day, defaults=defaults)
    except IntegrityError:  # a concurrent delivery created it first
        run = PipelineRun.objects.get(pipeline=PIPELINE, as_of_date=day)
    return run


def nightly_task() -> dict:
    """The django-q2 entry point of the nightly schedule.

    django-q2 delivers at least once: a second delivery for a day whose run
    already finished does nothing. An unfinished run (its worker was killed)
    is run again; every step is idempotent for its `as_of`.
    """
    from segments.models import PipelineRun

    now = timezone.now()
    if PipelineRun.objects.filter(pipeline=PIPELINE, as_of_date=now.date(), status="done").exists():
        logger.info("nightly run for %s already done; skipping duplicate delivery", now.date())
        return {"skipped": str(now.date())}
    return {name: _summary(result) for name, result in nightly_run(as_of=now).items()}


def _summary(result) -> str:
    return repr(result)[:2000]


def nightly_schedule_ensure() -> None:
    """Create or update the daily 02:00 UTC schedule (idempotent, by name)."""
    from django_q.models import Schedule

    now = timezone.now()
    next_run = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if next_run <= now:
        next_run += dt.timedelta(days=1)
    defaults = {"func": NIGHTLY_FUNC, "schedule_type": Schedule.DAILY, "repeats": -1}
    if not Schedule.objects.filter(name=NIGHTLY_SCHEDULE_NAME).update(**defaults):
        Schedule.objects.create(name=NIGHTLY_SCHEDULE_NAME, next_run=next_run, **defaults)
