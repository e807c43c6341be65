"""The segment changelist: totals from memberships, health, status, flags, usage, search, filters, no N+1."""

import datetime as dt
from decimal import Decimal

import pytest

from segments.admin_selectors import segments_annotate_totals
from segments.models import RefreshStatus, Segment, SegmentSnapshot
from segments.services import segment_refresh
from segments.usage import USAGE_PROVIDERS, usage_provider_register
from tests.factories import AccountFactory
from tests.segments import admin_support
from tests.segments.admin_support import make_segment, url

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
ops_client = admin_support.ops_client


def test_totals_come_from_memberships():
    AccountFactory(mrr=Decimal("1000.50"))
    AccountFactory(mrr=Decimal("2000"))
    AccountFactory(mrr=Decimal("10"))
    segment = make_segment("big")
    empty = make_segment("none", conditions={"match": "any", "rules": []})
    segment_refresh(segment=segment)
    rows = {s.slug: s for s in segments_annotate_totals(Segment.objects.all())}
    assert rows["big"].total_mrr == Decimal("3000.50")
    assert rows["big"].total_arr == Decimal("36006.00")
    assert rows["none"].total_mrr is None and empty.member_count == 0


def test_average_health_is_the_latest_snapshot_that_has_one():
    segment = make_segment("big")
    SegmentSnapshot.objects.create(segment=segment, date=dt.date(2026, 1, 1), members=1, avg_health=Decimal("40"))
    SegmentSnapshot.objects.create(segment=segment, date=dt.date(2026, 1, 2), members=1, avg_health=Decimal("72.5"))
    SegmentSnapshot.objects.create(segment=segment, date=dt.date(2026, 1, 3), members=1, avg_health=None)
    assert segments_annotate_totals(Segment.objects.all()).get().avg_health == Decimal("72.5")


def test_position_orders_segments_even_when_orders_tie():
    make_segment("b", name="B", order=0)
    make_segment("a", name="A", order=0)
    make_segment("c", name="C", order=5)
    positions = dict(segments_annotate_totals(Segment.objects.all()).values_list("slug", "position"))
    assert positions == {"a": 1, "b": 2, "c": 3}


def test_changelist_shows_the_columns(ops_client):
    AccountFactory(mrr=Decimal("1234"))
    segment = make_segment("big", name="Big spenders")
    segment_refresh(segment=segment)
    html = ops_client.get(url("changelist")).content.decode()
    for text in ("Big spenders", "big", "1,234", "14,808", "OK", "Refresh now", "Export all definitions",
                 'class="drag handle"', "Total MRR", "ARR (contract value)", "Avg health", "Used by"):
        assert text in html, text


def test_changelist_flags_contradicted_expectations_and_failed_refreshes(ops_client):
    make_segment("contradicted", expectation_errors=["A-1 is expected in the segment but is not a member"])
    make_segment("failed", refresh_status=RefreshStatus.FAILED, refresh_error="boom")
    html = ops_client.get(url("changelist")).content.decode()
    assert "Expectations contradicted" in html and "A-1 is expected" in html
    assert "Refresh failed" in html and 'title="boom"' in html


def test_used_by_lists_segments_naming_it_and_registered_providers(ops_client, monkeypatch):
    base = make_segment("base", name="Base")
    make_segment("uses", name="Uses base", conditions={"match": "all", "rules": [
        {"field": "segment", "op": "in", "value": ["base"]}]})
    monkeypatch.setattr("segments.usage.USAGE_PROVIDERS", list(USAGE_PROVIDERS))
    usage_provider_register(lambda ids: {pk: ["Alert: Churn risk"] for pk in ids if pk == base.pk})
    html = ops_client.get(url("changelist")).content.decode()
    assert "Segment: Uses base" in html and "Alert: Churn risk" in html


def test_changelist_queries_do_not_grow_with_segments(ops_client, django_assert_max_num_queries):
    AccountFactory(mrr=Decimal("900"))
    for n in range(2):
        segment_refresh(segment=make_segment(f"s{n}"))
    with django_assert_max_num_queries(30) as few:
        assert ops_client.get(url("changelist")).status_code == 200
    for n in range(2, 12):
        segment_refresh(segment=make_segment(f"s{n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert ops_client.get(url("changelist")).status_code == 200


def test_search_by_name_and_filter_by_kind_and_visibility(ops_client):
    make_segment("enterprise", name="Enterprise accounts")
    make_segment("smb", name="SMB", visible=False)
    make_segment("admins", name="Admin users", kind="user", conditions={"match": "all", "rules": []})

    def names(params):
        response = ops_client.get(url("changelist"), params)
        return {s.name for s in response.context["cl"].result_list}

    assert names({"q": "enterprise"}) == {"Enterprise accounts"}
    assert names({"kind__exact": "user"}) == {"Admin users"}
    assert names({"visible__exact": "0"}) == {"SMB"}


def test_status_endpoint_reports_refresh_state(ops_client):
    AccountFactory(mrr=Decimal("900"))
    segment = make_segment("big")
    segment_refresh(segment=segment)
    data = ops_client.get(url("status"), {"ids": f"{segment.pk},abc,999"}).json()["segments"]
    assert len(data) == 1
    assert data[0]["id"] == segment.pk and data[0]["status"] == "ok" and data[0]["member_count"] == 1
    assert data[0]["last_refreshed_at"]


def test_members_page_lists_the_members(ops_client):
    AccountFactory(name="Rich Co", mrr=Decimal("900"))
    AccountFactory(name="Poor Co", mrr=Decimal("1"))
    segment = make_segment("big")
    segment_refresh(segment=segment)
    html = ops_client.get(url("members", segment.pk)).content.decode()
    assert "Rich Co" in html and "Poor Co" not in html
    assert 'id="sg-member-total">1<' in html
