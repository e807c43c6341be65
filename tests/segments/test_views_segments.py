"""Segment pages: the list (search, sentence, value), one segment's page, migration; roles."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from segments.models import MembershipChange, Segment, SegmentSnapshot
from segments.services import segment_refresh
from tests.factories import AccountFactory, EndUserFactory, StaffFactory
from tests.segments.csm_world import FakeHealth, segment_make, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


@pytest.fixture
def get(client):
    client.force_login(StaffFactory(role="csm"))

    def fetch(url, **params):
        response = client.get(url, params)
        assert response.status_code == 200, url
        return response.content.decode()

    return fetch


def test_viewers_read_segment_pages_users_without_role_do_not(client, w):
    client.force_login(StaffFactory(role="viewer"))
    for url in ("/segments/", "/segments/big/", "/segments/-/migration/"):
        assert client.get(url).status_code == 200
    client.force_login(get_user_model().objects.create_user("nobody", password="pw-123456-x"))
    for url in ("/segments/", "/segments/big/", "/segments/-/migration/", "/segments/-/migration/accounts/"):
        assert client.get(url).status_code == 403


def test_the_list_shows_each_segment_with_its_sentence_members_and_value(get, w):
    SegmentSnapshot.objects.filter(segment=w["segments"]["big"]).update(avg_health=Decimal("71.5"))
    html = get("/segments/")
    row = re.search(r'<tr data-slug="big">.*?</tr>', html, re.S).group(0)
    assert "MRR is at least 10,000" in row
    assert ">2</td>" in row and "$54,000" in row and "$648k" in row and "71.5" in row
    assert 'data-slug="hidden"' in html and "hidden</span>" in html


def test_the_list_searches_by_name_and_filters_by_kind(get, w):
    segment_make("admins", {"match": "all", "rules": [{"field": "role", "op": "eq", "value": "admin"}]},
                 kind="user", name="Admin users")
    html = get("/segments/", q="emea")
    assert re.findall(r'data-slug="([^"]+)"', html) == ["emea"]
    assert re.findall(r'data-slug="([^"]+)"', get("/segments/", kind="user")) == ["admins"]


def test_the_list_flags_complex_segments_and_failed_refreshes(get, w):
    rules = [{"field": "mrr", "op": "gt", "value": n} for n in range(9)]
    segment_make("complex", {"match": "all", "rules": rules})
    Segment.objects.filter(slug="emea").update(refresh_status="failed")
    html = get("/segments/")
    assert "9 rules" in re.search(r'<tr data-slug="complex">.*?</tr>', html, re.S).group(0)
    assert "failed" in re.search(r'<tr data-slug="emea">.*?</tr>', html, re.S).group(0)


def test_segment_page_shows_definition_members_value_and_biggest_accounts(get, w):
    with FakeHealth():
        html = get("/segments/emea/")
    assert 'Region is &quot;EMEA&quot;' in html
    assert re.search(r'id="kpi-members">3<', html)
    assert "$54.1k" in html and "Average health" in html
    biggest = html[html.index('id="biggest"'):html.index('id="changes"')]
    names = re.findall(r">(Atlas Robotics|Blue Labs|Echo Works)<", biggest)
    assert names == ["Atlas Robotics", "Blue Labs", "Echo Works"]  # by MRR
    assert 'href="/accounts/?segment=emea"' in html


def test_segment_page_draws_size_and_mrr_over_time_from_snapshots(get, w):
    segment = w["segments"]["big"]
    today = timezone.now().date()
    for days, members in ((3, 1), (2, 2), (1, 2)):
        SegmentSnapshot.objects.create(segment=segment, date=today - dt.timedelta(days=days), members=members,
                                       total_mrr=Decimal(1000 * members))
    html = get("/segments/big/")
    charts = re.findall(r'<svg class="chart line".*?</svg>', html, re.S)
    assert len(charts) == 2
    assert all(len(re.findall("<circle", c)) == 4 for c in charts)  # 3 past days and today's refresh
    assert "$2k" in charts[1] or "$54k" in charts[1]


def test_segment_page_lists_recent_joins_and_leaves(get, w):
    account = AccountFactory(name="Leaver Inc")
    MembershipChange.objects.create(segment=w["segments"]["big"], account=account, change="left",
                                    at=timezone.now(), refreshed_at=timezone.now())
    changes = get("/segments/big/")
    section = changes[changes.index('id="changes"'):]
    assert "Leaver Inc" in section and ">Left<" in section and "Atlas Robotics" in section


def test_segment_page_shows_hygiene_flags_expectations_and_overlap(get, w):
    Segment.objects.filter(slug="big").update(expectation_errors=["A-5 is expected in the segment but is not a member"])
    html = get("/segments/big/")
    assert 'data-flag="unused"' in html
    assert "Expectation contradicted:</strong> A-5 is expected" in html
    overlap = html[html.index('id="overlap"'):]
    assert "EMEA" in overlap and "67%" in overlap


def test_segment_page_shows_data_completeness_of_the_fields_used(get, w):
    html = get("/segments/emea/")
    row = re.search(r'<div class="completeness-row"[^>]*data-field="region">.*?</div>\s*</div>', html, re.S).group(0)
    assert "83.3% filled" in row and "1 of 6 missing" in row


def test_viewing_a_segment_page_records_the_view(get, w):
    assert Segment.objects.get(slug="big").last_viewed_at is None
    get("/segments/big/")
    assert Segment.objects.get(slug="big").last_viewed_at is not None


def test_a_user_segment_page(get, w):
    EndUserFactory(role="admin", account=w["accounts"]["A-1"])
    segment_make("admins", {"match": "all", "rules": [{"field": "role", "op": "eq", "value": "admin"}]},
                 kind="user", name="Admin users")
    html = get("/segments/admins/")
    assert "Role is Admin" in html and 'id="biggest"' not in html and 'id="outliers"' not in html


def test_an_unknown_segment_is_404(client, w):
    client.force_login(StaffFactory(role="csm"))
    assert client.get("/segments/nope/").status_code == 404


def test_ops_get_an_admin_link(client, w):
    client.force_login(StaffFactory(role="ops"))
    assert "Edit in admin" in client.get("/segments/big/").content.decode()
    client.force_login(StaffFactory(role="csm"))
    assert "Edit in admin" not in client.get("/segments/big/").content.decode()


def test_migration_page_matrix_and_click_through(get, w):
    big = w["segments"]["big"]
    account = w["accounts"]["A-5"]
    account.mrr = Decimal(99000)
    account.save()
    tomorrow = timezone.now() + dt.timedelta(days=1)
    segment_refresh(segment=big, as_of=tomorrow)
    today = timezone.now().date()
    params = {"segments": ["big", "emea"], "date_from": today.isoformat(), "date_to": tomorrow.date().isoformat()}
    html = get("/segments/-/migration/", **params)
    cells = dict(re.findall(r'data-cell="([^"]+)">(\d+)</a>', html))
    assert cells == {"big:big": "2", "big:emea": "2", "emea:big": "3", "emea:emea": "3"}
    link = re.search(r'href="(/segments/-/migration/accounts/\?[^"]+)" data-cell="emea:big"', html)
    assert link
    listing = get(link.group(1).replace("&amp;", "&"))
    assert sorted(re.findall(r"<span class=\"sub\">(A-\d)</span>", listing)) == ["A-1", "A-2", "A-5"]


def test_migration_defaults_to_the_visible_segments_and_refuses_unknown_cells(client, w):
    client.force_login(StaffFactory(role="csm"))
    html = client.get("/segments/-/migration/").content.decode()
    assert re.findall(r'value="([^"]+)" checked', html) == ["big", "emea"]
    assert client.get("/segments/-/migration/accounts/?from=nope").status_code == 404


def test_the_nightly_step_warms_the_insights_of_every_visible_segment(get, w, monkeypatch):
    from segments import insights
    from segments.page_services import segment_insights_warm

    # big and emea; the hidden one is left to its viewers; the migration page's default view of both
    assert segment_insights_warm() == {"segments": 2, "migration_segments": 2}
    hidden = w["segments"]["hidden"]
    assert cache.get(insights.heavy_insights_key(hidden)) is None
    warmed = cache.get(insights.heavy_insights_key(Segment.objects.get(slug="big")))
    assert warmed is not None and [o.segment.slug for o in warmed.overlaps] == ["emea"]

    def cold(**kwargs):
        raise AssertionError("the page should read the warmed insights")

    monkeypatch.setattr(insights, "segment_outliers", cold)
    assert "Overlap" in get("/segments/big/")  # a cache hit: nothing computed


def test_a_refresh_or_an_edit_gives_the_insights_a_new_key(w):
    from segments import insights

    segment = w["segments"]["big"]
    before = insights.heavy_insights_key(segment)
    segment_refresh(segment=segment)
    segment.refresh_from_db()
    assert insights.heavy_insights_key(segment) != before


def test_the_cache_is_shared_by_every_process():
    # A table of the database (or Redis with REDIS_URL), never a per-process memory cache.
    assert settings.CACHES["default"]["BACKEND"] in ("django.core.cache.backends.db.DatabaseCache",
                                                     "django.core.cache.backends.redis.RedisCache")


def test_a_queued_refresh_warms_the_segment_pages_insights(w):
    from segments import insights
    from segments.tasks import segment_refresh_task

    big, hidden = w["segments"]["big"], w["segments"]["hidden"]
    result = segment_refresh_task(big.pk)
    segment_refresh_task(hidden.pk)

    assert result["ok"]
    big.refresh_from_db()
    hidden.refresh_from_db()
    # Keyed by the new refresh: the page's first view after it is a hit; hidden segments wait for a viewer.
    assert cache.get(insights.heavy_insights_key(big)) is not None
    assert cache.get(insights.heavy_insights_key(hidden)) is None


def test_a_segment_may_be_called_migration_the_migration_page_lives_under_the_dash(client, get, w):
    segment_make("migration", {"match": "all", "rules": []}, name="Cloud migration wave")
    assert "Cloud migration wave" in get("/segments/migration/")
    assert client.get("/segments/migration/").resolver_match.url_name == "segment"
    assert client.get("/segments/-/migration/").resolver_match.url_name == "migration"
