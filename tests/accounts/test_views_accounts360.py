"""Accounts 360: login and roles, tabs, every filter, sorting, pagination, health, export, save as segment."""

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.filtersets import AccountFilterSet
from accounts.models import Account
from accounts.selectors import last_activity_expression
from segments.conditions import matching_queryset
from segments.insights import members_scope
from segments.models import Segment
from segments.services import segment_refresh
from tests.factories import AccountFactory, EventFactory, StaffFactory
from tests.segments.csm_world import FakeHealth, world

pytestmark = pytest.mark.django_db

URL = "/accounts/"


@pytest.fixture
def w():
    return world()


@pytest.fixture
def client_of(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def shown(response) -> list[str]:
    """External IDs of the rows of the accounts table, in order."""
    return re.findall(r'<tr data-external-id="([^"]+)"', response.content.decode())


def test_every_csm_page_requires_login(client, w):
    for url in (URL, "/accounts/A-1/", "/subscriptions/", "/segments/", "/segments/big/", "/segments/-/migration/",
                "/accounts/-/export.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_a_user_without_role_is_refused(client_of, w):
    nobody = get_user_model().objects.create_user("nobody", password="x-pw-123456")
    assert client_of(nobody).get(URL).status_code == 403


@pytest.mark.parametrize("role", ["viewer", "csm", "ops"])
def test_every_role_reads_accounts_360(client_of, w, role):
    response = client_of(StaffFactory(role=role)).get(URL)
    assert response.status_code == 200
    assert set(shown(response)) == {"A-1", "A-2", "A-3", "A-4", "A-5", "A-6"}


def test_home_lands_a_csm_on_their_own_accounts(client_of, w):
    response = client_of(w["ada"]).get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/?csm=ada"
    assert shown(client_of(w["ada"]).get(response["Location"])) == ["A-1", "A-2"]


def test_home_lands_ops_and_csms_without_accounts_on_every_account(client_of, w):
    assert client_of(StaffFactory(role="ops")).get("/")["Location"] == "/accounts/"
    assert client_of(StaffFactory(role="csm")).get("/")["Location"] == "/accounts/"


def test_tabs_are_the_visible_segments_in_admin_order_with_their_member_counts(client_of, w):
    html = client_of(w["ada"]).get(URL).content.decode()
    tabs = re.findall(r'data-segment="([^"]+)">\s*([^<]+)<span class="count">(\d+)</span>', html)
    assert [(slug, name.strip(), int(n)) for slug, name, n in tabs] == [("big", "Big accounts", 2), ("emea", "EMEA", 3)]
    assert "Starters" not in html  # hidden segment


def test_a_tab_shows_its_members_only(client_of, w):
    assert sorted(shown(client_of(w["ada"]).get(URL + "?segment=emea"))) == ["A-1", "A-2", "A-5"]


def test_a_hidden_segment_can_still_be_opened_by_link(client_of, w):
    response = client_of(w["ada"]).get(URL + "?segment=hidden")
    assert sorted(shown(response)) == ["A-5", "A-6"]
    assert "hidden</span>" in response.content.decode()


def test_an_unknown_segment_shows_nothing(client_of, w):
    assert shown(client_of(w["ada"]).get(URL + "?segment=nope")) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=labs", {"A-2"}),
        ("q=cedar.example", {"A-3"}),
        ("q=A-4", {"A-4"}),
        ("plan=enterprise&plan=starter", {"A-1", "A-2", "A-5", "A-6"}),
        ("lifecycle_stage=nurturing", {"A-1", "A-4"}),
        ("csm=grace", {"A-3", "A-4", "A-6"}),
        ("team=Enterprise", {"A-1", "A-2"}),
        ("region=emea", {"A-1", "A-2", "A-5"}),
        ("industry=RETAIL", {"A-2", "A-3"}),
        ("mrr_min=2500&mrr_max=12000", {"A-2", "A-3", "A-4"}),
        ("renewal_within_days=30", {"A-1", "A-3", "A-6"}),
        ("custom.tier=core", {"A-2", "A-3"}),
        ("custom.tier=core&custom.tier=strategic&plan=enterprise", {"A-1", "A-2"}),
        ("segment=emea&plan=enterprise", {"A-1", "A-2"}),
    ],
)
def test_filters(client_of, w, query, expected):
    assert set(shown(client_of(w["ada"]).get(f"{URL}?{query}"))) == expected


def test_an_invalid_filter_value_shows_an_error_and_no_rows(client_of, w):
    response = client_of(w["ada"]).get(URL + "?mrr_min=lots")
    assert shown(response) == []
    assert "errorlist" in response.content.decode()


def test_the_csm_filter_is_a_text_field_with_autocomplete_not_a_dropdown(client_of, w):
    html = client_of(w["ada"]).get(URL).content.decode()
    assert re.search(r'<input type="text" name="csm"[^>]*data-autocomplete="/accounts/-/csm-autocomplete/"', html)
    assert '<select name="csm"' not in html
    data = client_of(w["ada"]).get("/accounts/-/csm-autocomplete/?q=kim").json()
    assert data == {"results": [{"value": "grace", "label": "Grace Kim"}]}


def test_health_label_filter_and_column_come_from_the_registered_metric(client_of, w):
    with FakeHealth():
        response = client_of(w["ada"]).get(URL + "?health_label=good")
        assert set(shown(response)) == {"A-1", "A-2"}
        assert 'class="health good"' in response.content.decode()
        assert shown(client_of(w["ada"]).get(URL + "?sort=health"))[:1] == ["A-5"]  # lowest score first


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-mrr", ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"]),  # missing MRR last
        ("mrr", ["A-5", "A-4", "A-3", "A-2", "A-1", "A-6"]),
        ("name", ["A-6", "A-1", "A-2", "A-3", "A-4", "A-5"]),
        ("-last_activity", ["A-1", "A-2", "A-3"]),
        ("renewal", ["A-3", "A-6", "A-1", "A-2", "A-4", "A-5"]),  # soonest first, none last
        ("-arr", ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"]),
        ("plan", ["A-3", "A-4", "A-1", "A-2", "A-5", "A-6"]),
    ],
)
def test_sorting(client_of, w, sort, expected):
    rows = shown(client_of(w["ada"]).get(f"{URL}?sort={sort}"))
    assert rows[: len(expected)] == expected


def test_last_activity_is_the_stored_value_today_and_the_events_for_an_earlier_day(client_of, w):
    # The list sorts and shows Account.last_activity_at (kept by the imports and the nightly step) ...
    a1, a3 = w["accounts"]["A-1"], w["accounts"]["A-3"]
    Account.objects.filter(pk=a3.pk).update(last_activity_at=timezone.now())
    assert shown(client_of(w["ada"]).get(f"{URL}?sort=-last_activity"))[:1] == ["A-3"]
    # ... an earlier as_of reads the events (the latest at or before it).
    earlier = timezone.now() - dt.timedelta(days=5)
    rows = Account.objects.annotate(last=last_activity_expression(as_of=earlier)).filter(pk__in=[a1.pk, a3.pk])
    found = {r.pk: r.last for r in rows}
    assert found[a1.pk] is None and found[a3.pk] < earlier - dt.timedelta(days=30)


def test_sorting_by_csm_puts_accounts_without_csm_last(client_of, w):
    rows = shown(client_of(w["ada"]).get(URL + "?sort=csm"))
    assert rows[:2] == ["A-1", "A-2"] and rows[-1] == "A-5"


@pytest.mark.parametrize("sort", ["password", "csm__password", "-id); DROP TABLE x", "__class__"])
def test_an_unknown_sort_falls_back_to_name(client_of, w, sort):
    response = client_of(w["ada"]).get(URL, {"sort": sort})
    assert response.status_code == 200
    assert shown(response) == ["A-6", "A-1", "A-2", "A-3", "A-4", "A-5"]


def test_sort_links_toggle_and_keep_the_filters(client_of, w):
    html = client_of(w["ada"]).get(URL + "?plan=enterprise&sort=-mrr").content.decode()
    link = re.search(r'<a href="([^"]+)" class="active desc" data-sort="mrr"', html).group(1)
    assert "plan=enterprise" in link and "sort=mrr" in link and "sort=-mrr" not in link


def test_pagination_with_an_allowed_page_size(client_of, w):
    AccountFactory.create_batch(60)
    client = client_of(w["ada"])
    first = shown(client.get(URL + "?per_page=25"))
    third = shown(client.get(URL + "?per_page=25&page=3"))
    assert len(first) == 25 and len(third) == 16
    assert not set(first) & set(third)
    assert len(shown(client.get(URL + "?per_page=7"))) == 50  # not an allowed size: the default
    assert shown(client.get(URL + "?per_page=25&page=99")) == third  # past the end: the last page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("query", ["", "segment=emea", "sort=-last_activity", "sort=health&health_label=good",
                                   "team=SMB&custom.tier=core&q=a"])
def test_the_query_count_does_not_depend_on_the_number_of_rows(client_of, w, django_assert_num_queries, query):
    client = client_of(w["ada"])
    with FakeHealth():
        few = _queries(client, f"{URL}?per_page=25&{query}")
        for _ in range(50):
            account = AccountFactory(region="EMEA", mrr=20000, custom={"tier": "core"}, csm=w["grace"], name="a")
            EventFactory(account=account)
        Segment.objects.filter(slug="emea").update(member_count=60)
        with django_assert_num_queries(few):
            client.get(f"{URL}?per_page=100&{query}")
    assert few <= 10


def test_export_is_exactly_the_current_view_in_the_interchange_format(client_of, w):
    AccountFactory.create_batch(30, region="EMEA", plan="enterprise")
    AccountFactory.create_batch(5, region="APAC", plan="enterprise")
    segment_refresh(segment=w["segments"]["emea"])
    client = client_of(w["ada"])
    query = "segment=emea&plan=enterprise&sort=-mrr&per_page=25"
    pages = shown(client.get(f"{URL}?{query}")) + shown(client.get(f"{URL}?{query}&page=2"))
    response = client.get(f"/accounts/-/export.csv?{query}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(pages) == len(set(pages)) == 32  # and the 30 new EMEA enterprise accounts
    assert [r["external_id"] for r in rows] == sorted(pages)  # every page, ordered by key as the spec says


def test_export_escapes_formulas_and_has_the_import_header(client_of, w):
    response = client_of(w["ada"]).get("/accounts/-/export.csv?plan=starter")
    text = b"".join(response.streaming_content).decode()
    header = next(csv.reader(io.StringIO(text)))
    assert header[:3] == ["external_id", "name", "domain"] and "custom.tier" in header
    rows = {r["external_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["A-6"]["name"] == "'=HYPERLINK(1)"
    assert rows["A-6"]["custom.tier"] == "tech_touch"


def test_export_link_carries_the_current_query(client_of, w):
    html = client_of(w["ada"]).get(URL + "?segment=big&plan=enterprise").content.decode()
    assert 'href="/accounts/-/export.csv?segment=big&amp;plan=enterprise"' in html


def test_only_ops_may_save_the_view_as_a_segment(client_of, w):
    for role in ("viewer", "csm"):
        client = client_of(StaffFactory(role=role))
        assert "Save as segment" not in client.get(URL).content.decode()
        response = client.post("/accounts/-/save-segment/", {"query": "plan=starter", "name": "S"})
        assert response.status_code == 403
    assert not Segment.objects.filter(name="S").exists()


def test_save_as_segment_creates_a_hidden_draft_matching_the_view(client_of, w):
    client = client_of(StaffFactory(role="ops"))
    assert "Save as segment" in client.get(URL).content.decode()
    query = ("segment=emea&q=a&plan=enterprise&plan=starter&lifecycle_stage=nurturing&lifecycle_stage=trial"
             "&csm=ada&team=Enterprise&region=emea&industry=software&mrr_min=100.5&mrr_max=50000"
             "&renewal_within_days=400&custom.tier=strategic")
    response = client.post("/accounts/-/save-segment/", {"query": query, "name": "EMEA software"})
    segment = Segment.objects.get(name="EMEA software")
    assert response.status_code == 302
    assert response["Location"] in (f"/admin/segments/segment/{segment.pk}/change/", f"/segments/{segment.slug}/")
    assert segment.visible is False and segment.kind == "account" and segment.slug == "emea-software"
    fields = [r.get("field") for r in segment.conditions["rules"]]
    assert fields == [None, "plan", "lifecycle_stage", "csm", "team", "region", "industry", "mrr", "mrr",
                      "renewal_date", "custom.tier", "segment"]
    members = members_scope(queryset=Account.objects.all(), segment=w["segments"]["emea"])
    expected = set(AccountFilterSet(QueryDict(query), queryset=members).qs.values_list("external_id", flat=True))
    matched = set(matching_queryset(segment.conditions, kind="account", as_of=timezone.now())
                  .values_list("external_id", flat=True))
    assert matched == expected == {"A-1"}


def test_save_as_segment_refuses_invalid_filters_and_a_missing_name(client_of, w):
    client = client_of(StaffFactory(role="ops"))
    before = Segment.objects.count()
    client.post("/accounts/-/save-segment/", {"query": "mrr_min=abc", "name": "X"})
    client.post("/accounts/-/save-segment/", {"query": "plan=starter", "name": "  "})
    assert Segment.objects.count() == before


def test_save_as_segment_gives_a_unique_slug(client_of, w):
    client = client_of(StaffFactory(role="ops"))
    for _ in range(2):
        client.post("/accounts/-/save-segment/", {"query": "plan=starter", "name": "Big accounts"})
    slugs = set(Segment.objects.filter(name="Big accounts").values_list("slug", flat=True))
    assert slugs == {"big", "big-accounts", "big-accounts-2"}


@pytest.mark.parametrize("sort", ["-mrr", "mrr", "-renewal"])
def test_pages_of_a_nullable_sort_go_through_the_missing_values_last(client_of, w, sort):
    for n in range(30):
        AccountFactory(external_id=f"N-{n:02d}", mrr=None if n % 4 == 0 else 100 * (n % 7),
                       renewal_date=None if n % 3 else timezone.now().date())
    client = client_of(w["ada"])
    field = {"mrr": "mrr", "renewal": "renewal_date"}[sort.lstrip("-")]
    descending = sort.startswith("-")
    rows = list(Account.objects.values_list("external_id", "pk", field))

    def key(row):
        value = row[2]
        return (value is None, (-value.toordinal() if hasattr(value, "toordinal") else -value) if descending and
                value is not None else value if value is not None else 0, -row[1] if descending else row[1])

    expected = [ext for ext, _, _ in sorted(rows, key=key)]
    pages = [shown(client.get(f"{URL}?sort={sort}&per_page=25&page={n}")) for n in (1, 2)]
    assert pages[0] + pages[1] == expected
