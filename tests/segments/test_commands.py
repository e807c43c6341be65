"""refresh_segments and nightly from the command line."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from segments.models import PipelineRun, Segment
from segments.selectors import segment_members
from tests.factories import AccountFactory, EventFactory

pytestmark = pytest.mark.django_db


def _recent_logins_segment():
    return Segment.objects.create(
        slug="active", name="Active",
        conditions={"match": "all", "rules": [{"field": "logins", "params": {"days": 7}, "op": "gte", "value": 1}]},
    )


def test_refresh_segments_uses_as_of():
    account = AccountFactory(external_id="A-1")
    EventFactory(account=account, name="login", occurred_at=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    segment = _recent_logins_segment()
    call_command("refresh_segments", "--as-of", "2026-03-02", stdout=StringIO())
    assert list(segment_members(segment=segment).values_list("external_id", flat=True)) == ["A-1"]
    call_command("refresh_segments", "--as-of", "2026-04-01T00:00:00Z", stdout=StringIO())
    assert not segment_members(segment=segment).exists()


def test_refresh_one_segment_by_slug():
    AccountFactory(mrr=Decimal("10"))
    segment = Segment.objects.create(slug="all", name="All")
    other = Segment.objects.create(slug="other", name="Other")
    out = StringIO()
    call_command("refresh_segments", "--segment", "all", stdout=out)
    assert "all: 1 members" in out.getvalue()
    assert segment_members(segment=segment).count() == 1
    assert segment_members(segment=other).count() == 0


def test_refresh_segments_refuses_bad_input():
    with pytest.raises(CommandError, match='no segment with slug "nope"'):
        call_command("refresh_segments", "--segment", "nope")
    with pytest.raises(CommandError, match="--as-of"):
        call_command("refresh_segments", "--as-of", "tomorrow")


def test_nightly_refreshes_segments_and_records_the_run():
    AccountFactory()
    segment = Segment.objects.create(slug="all", name="All")
    call_command("nightly", "--as-of", "2026-03-02T02:00:00Z", stdout=StringIO())
    assert segment_members(segment=segment).count() == 1
    run = PipelineRun.objects.get()
    assert (run.as_of_date, run.status) == (dt.date(2026, 3, 2), "done")
    call_command("nightly", "--as-of", "2026-03-02T03:00:00Z", stdout=StringIO())
    assert PipelineRun.objects.count() == 1


def test_scheduled_task_skips_a_second_delivery_of_a_finished_night(monkeypatch):
    from csbox import pipeline

    calls = []
    monkeypatch.setattr(pipeline, "nightly_steps", lambda: [("count", lambda as_of: calls.append(as_of))])
    pipeline.nightly_task()
    pipeline.nightly_task()
    assert len(calls) == 1


def test_scheduled_task_reruns_a_night_whose_worker_died(monkeypatch):
    from csbox import pipeline

    calls = []
    monkeypatch.setattr(pipeline, "nightly_steps", lambda: [("count", lambda as_of: calls.append(as_of))])
    pipeline.nightly_task()
    PipelineRun.objects.update(status="running", finished_at=None)  # as if killed mid-run
    pipeline.nightly_task()
    assert len(calls) == 2


def test_the_nightly_schedule_exists_after_migrate_and_is_idempotent():
    from django_q.models import Schedule

    from csbox.pipeline import NIGHTLY_FUNC, NIGHTLY_SCHEDULE_NAME, nightly_schedule_ensure

    nightly_schedule_ensure()
    nightly_schedule_ensure()
    schedule = Schedule.objects.get(name=NIGHTLY_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (NIGHTLY_FUNC, Schedule.DAILY, -1)
    assert schedule.next_run.hour == 2
