"""The CSM pages in a real browser: log in, switch segment tabs, filter, sort, export, open an account.

Also the small screen (390 px) and the screenshots of the README (demo data,
a fortnight of nightly runs so that the charts have a history).
"""

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from segments.models import AccountMembership, MembershipChange, Segment, SegmentSnapshot
from tests.factories import StaffFactory
from tests.segments.csm_world import world


@pytest.fixture
def data(transactional_db):
    return world()


def _rows(page) -> list[str]:
    return page.locator("#accounts-table tbody tr[data-external-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.externalId)")


def test_a_csm_logs_in_and_lands_on_their_own_accounts(browser, live_server, data):
    data["ada"].set_password("pw-ada-12345")
    data["ada"].save()
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-ada-12345")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/accounts/"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/\?csm=ada$"))
    assert sorted(_rows(page)) == ["A-1", "A-2"]
    expect(page.locator(".chip")).to_contain_text("CSM: ada")
    context.close()


def test_tabs_filters_sorting_export_and_opening_an_account(browser_page, data):
    page = browser_page(data["ada"], width=1280)
    page.goto("/accounts/")
    assert len(_rows(page)) == 6

    page.click("a.tab[data-segment=emea]")
    expect(page.locator("a.tab.active")).to_contain_text("EMEA")
    assert sorted(_rows(page)) == ["A-1", "A-2", "A-5"]

    page.check("input[name=plan][value=enterprise]")
    page.click("#filters button[type=submit]")
    expect(page.locator(".chip")).to_contain_text("Plan: Enterprise")
    assert sorted(_rows(page)) == ["A-1", "A-2"]

    page.click("th a[data-sort=mrr]")  # money: biggest first
    expect(page.locator("th a[data-sort=mrr]")).to_have_class(re.compile("desc"))
    assert _rows(page) == ["A-1", "A-2"]
    page.click("th a[data-sort=mrr]")
    expect(page.locator("th a[data-sort=mrr]")).to_have_class(re.compile("asc"))
    assert _rows(page) == ["A-2", "A-1"]

    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    with open(download.path(), encoding="utf-8") as handle:
        text = handle.read()
    assert [r["external_id"] for r in csv.DictReader(io.StringIO(text))] == ["A-1", "A-2"]
    assert "segment=emea" in download.url and "plan=enterprise" in download.url

    page.click("#accounts-table >> text=Blue Labs")
    expect(page.locator("h1")).to_have_text("Blue Labs")
    page.select_option("select[name=why]", "big")  # submits on change
    expect(page.locator("#why")).to_contain_text("MRR is at least 10,000")
    expect(page.locator("#why .callout")).to_contain_text("Matches")
    assert page.js_errors == []


def test_the_csm_field_autocompletes_usernames(browser_page, data):
    page = browser_page(data["ada"])
    page.goto("/accounts/")
    page.locator("#id_csm").press_sequentially("kim", delay=30)
    expect(page.locator("#csm-options option[value=grace]")).to_have_count(1)
    page.fill("#id_csm", "grace")
    page.click("#filters button[type=submit]")
    assert sorted(_rows(page)) == ["A-3", "A-4", "A-6"]


def test_small_screens_fold_the_filters_and_never_scroll_the_page_sideways(browser_page, data):
    page = browser_page(data["ada"], width=390, height=844)
    for url in ("/accounts/", "/accounts/A-1/", "/segments/", "/segments/big/", "/subscriptions/",
                "/segments/-/migration/"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
    page.goto("/accounts/")
    expect(page.locator("#filters")).to_be_hidden()
    page.click("details.filters summary")
    expect(page.locator("#filters")).to_be_visible()
    assert page.js_errors == []


def test_ops_save_the_current_view_as_a_draft_segment(browser_page, data, task_runner):
    page = browser_page(StaffFactory(role="ops", username="maria"), width=1280)
    page.goto("/accounts/?segment=emea&plan=enterprise")
    page.click("details.save summary")
    page.fill("#id_segment_name", "EMEA enterprise draft")
    page.click("details.save button[type=submit]")
    segment = Segment.objects.get(name="EMEA enterprise draft")
    expect(page).to_have_url(re.compile(rf"/admin/segments/segment/{segment.pk}/change/|/segments/{segment.slug}/"))
    segment.refresh_from_db()
    assert segment.visible is False and segment.member_count == 2  # refreshed by the (inline) task


@pytest.fixture
def demo(transactional_db, task_runner):
    """Demo data with a fortnight of nightly runs (segments and health), as after a few weeks of use."""
    call_command("seed_demo", accounts=300, seed=7, verbosity=0)
    # seed_demo refreshes its starter segments now: start their history a fortnight ago instead.
    AccountMembership.objects.all().delete()
    MembershipChange.objects.all().delete()
    SegmentSnapshot.objects.all().delete()
    today = timezone.now()
    for days in range(14, -1, -2):
        call_command("nightly", as_of=(today - dt.timedelta(days=days)).isoformat(), verbosity=0)


@pytest.mark.slow
def test_screenshots_of_the_csm_pages(browser_page, demo, screenshot):
    csm = get_user_model().objects.get(username="ada")  # a demo CSM (accounts/demo.py DEMO_STAFF)
    page = browser_page(csm, width=1280, height=900)
    page.goto("/")
    expect(page.locator("#accounts-table tbody tr").first).to_be_visible()
    screenshot(page, "accounts-360", docs_name="accounts-360.png", full_page=False)

    biggest = Account.objects.filter(csm=csm).order_by("-mrr").first()
    page.goto(f"/accounts/{biggest.external_id}/?why=high-value-active")
    expect(page.locator("h1")).to_have_text(biggest.name)
    expect(page.locator("#why .callout")).to_be_visible()
    screenshot(page, "account-360", docs_name="account-360.png")

    page.goto("/segments/high-value-active/")
    expect(page.locator("#definition")).to_be_visible()
    screenshot(page, "segment-page", docs_name="segment-page.png")
    page.goto("/segments/-/migration/")
    screenshot(page, "segment-migration")
    assert page.js_errors == []
