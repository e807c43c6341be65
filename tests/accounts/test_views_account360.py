"""Account 360: attributes, custom attributes, subscriptions, end users, segments, activity, why in / not in."""

import datetime as dt
import re

import pytest

from accounts.extensions import AccountPanel, account_extensions
from tests.factories import (
    AccountFactory,
    EndUserFactory,
    EventFactory,
    StaffFactory,
    SubscriptionFactory,
    TicketFactory,
    TouchpointFactory,
)
from tests.segments.csm_world import FakeHealth, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world()


@pytest.fixture
def page(client, w):
    def get(external_id="A-1", **params):
        client.force_login(StaffFactory(role="viewer"))
        response = client.get(f"/accounts/{external_id}/", params)
        assert response.status_code == 200
        return response.content.decode()

    return get


def test_attributes_and_custom_attributes(page, w):
    html = page("A-2")
    assert "<h1>Blue Labs</h1>" in html
    assert "bluelabs.example" in html and "$12,000" in html and "$144,000" in html  # MRR and ARR
    assert re.search(r"<dt>Service tier</dt><dd>core</dd>", html)
    assert "Ada Okafor (Enterprise)" in html  # CSM and team


def test_subscriptions_and_end_users_with_last_activity_and_role(page, w):
    account = w["accounts"]["A-1"]
    SubscriptionFactory(account=account, external_id="S-77", plan="enterprise", status="active")
    active = EndUserFactory(account=account, name="Lia Active", role="admin")
    EndUserFactory(account=account, name="Nico Never", role="executive")
    EventFactory(account=account, user=active, occurred_at=w["now"] - dt.timedelta(days=3))
    html = page("A-1")
    assert "S-77" in html
    rows = re.findall(r"<tr><td>(Lia Active|Nico Never).*?</td>\s*<td>(\w+)</td>\s*<td[^>]*>(.*?)</td>", html, re.S)
    never = '<span class="faint">never</span>'
    assert rows == [("Lia Active", "Admin", "3 days ago"), ("Nico Never", "Executive", never)]


def test_segments_it_belongs_to_with_since(page, w):
    html = page("A-1")
    section = html[html.index('id="segments"'):html.index("Why in / not in")]
    assert "Big accounts" in section and "EMEA" in section and "Starters" not in section
    assert f"since {w['now']:%-d %b %Y}" in section


def test_activity_chart_and_timeline(page, w):
    account = w["accounts"]["A-1"]
    TouchpointFactory(account=account, kind="qbr", note="Quarterly review", occurred_at=w["now"] - dt.timedelta(days=2))
    TicketFactory(account=account, external_id="K-9", status="open", priority="urgent",
                  opened_at=w["now"] - dt.timedelta(days=1))
    html = page("A-1")
    chart = re.search(r'<svg class="chart bars".*?</svg>', html, re.S).group(0)
    assert len(re.findall("<rect", chart)) == 26  # one bar per week
    assert "Quarterly review" in html and "K-9" in html
    assert re.search(r'<div class="label">Open tickets</div><div class="value">1</div>', html)


def test_why_in_and_not_in_a_segment(page, w):
    html = page("A-3", why="big")
    assert "✗</span><span>MRR is at least 10,000</span><span class=\"value\">3,000" in html
    assert "Does not match" in html
    html = page("A-1", why="big")
    assert "✓</span><span>MRR is at least 10,000</span>" in html and "<strong>Matches</strong>" in html


def test_an_unknown_why_segment_is_ignored(page, w):
    assert 'id="why"' not in page("A-1", why="nope")


def test_an_external_id_with_a_slash_and_an_unknown_one(client, w):
    AccountFactory(external_id="EU/42", name="Slash Co")
    client.force_login(StaffFactory(role="csm"))
    assert "Slash Co" in client.get("/accounts/EU/42/").content.decode()
    assert client.get("/accounts/NOPE/").status_code == 404


def test_health_kpi_and_registered_panels(page, w):
    panel = AccountPanel(key="test-panel", title="Test panel", template="accounts/_health.html",
                         context=lambda *, account, as_of, user: {"score": 77, "label": "good"}, order=1)
    account_extensions.panel_register(panel)
    try:
        with FakeHealth():
            html = page("A-1")
    finally:
        account_extensions.unregister("test-panel")
    assert '<section class="card panel-test-panel"><h2>Test panel</h2>' in html
    assert '<span class="health good"><span class="dot"></span>77' in html
    assert re.search(r'<div class="label">Health</div><div class="value"><span class="health good">'
                     r'<span class="dot"></span>100', html)


def test_ops_get_an_edit_link_csms_do_not(client, w):
    client.force_login(StaffFactory(role="ops"))
    assert "Edit in admin" in client.get("/accounts/A-1/").content.decode()
    client.force_login(StaffFactory(role="csm"))
    assert "Edit in admin" not in client.get("/accounts/A-1/").content.decode()
