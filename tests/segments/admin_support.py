"""Shared helpers for the segment admin tests (tests/segments/test_admin_*.py)."""

import json

import pytest
from django.urls import reverse

from segments.models import Segment

URL = "admin:segments_segment_"
MRR_ABOVE_500 = {"match": "all", "rules": [{"field": "mrr", "op": "gt", "value": 500}]}
EVERYONE = {"match": "all", "rules": []}


def url(name: str, *args) -> str:
    return reverse(URL + name, args=args)


def make_segment(slug="big", *, conditions=None, **fields) -> Segment:
    fields.setdefault("name", slug.replace("-", " ").title())
    return Segment.objects.create(slug=slug, conditions=conditions or MRR_ABOVE_500, **fields)


def post_json(client, path, body, **extra):
    return client.post(path, data=json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def ops_client(client, ops_user):
    client.force_login(ops_user)
    return client


@pytest.fixture
def enqueued(monkeypatch):
    """Record the refresh tasks queued (django_q.tasks.async_task) instead of queueing them."""
    calls = []

    def fake_async_task(func, *args, **kwargs):
        calls.append((func, args, kwargs))
        return "task-id"

    monkeypatch.setattr("django_q.tasks.async_task", fake_async_task)
    return calls
