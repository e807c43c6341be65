"""The segment admin in a real browser: build, preview, save, members, clone, reorder, refresh.

An ops person does everything without writing JSON (issue 5, "Done when").
"""

import json
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from segments.models import Segment, SegmentSnapshot
from segments.services import segment_refresh
from tests.factories import AccountFactory, StaffFactory

# name, plan, MRR, region. Target: enterprise AND (MRR > 20,000 OR region is EMEA).
ACCOUNTS = [
    ("Aurora Bank", "enterprise", "30000", "EMEA"),
    ("Borealis Air", "enterprise", "8000", "EMEA"),
    ("Cobalt Mining", "enterprise", "9000", "Americas"),
    ("Delta Foods", "enterprise", "25000", "Americas"),
    ("Ember Labs", "business", "40000", "EMEA"),
    ("Fjord Media", "business", "2000", "APAC"),
    ("Granite Co", "starter", "300", "EMEA"),
    ("Helix Health", "starter", None, ""),
]
TARGET = {"Aurora Bank", "Borealis Air", "Delta Foods"}


@pytest.fixture
def accounts(transactional_db):
    csm = StaffFactory(username="chloe", role="csm")
    for index, (name, plan, mrr, region) in enumerate(ACCOUNTS):
        AccountFactory(external_id=f"ACC-{index}", name=name, plan=plan, region=region, csm=csm,
                       mrr=Decimal(mrr) if mrr else None)


@pytest.fixture
def other_segments(accounts):
    """A few existing segments, so the changelist shows totals, health, flags and usage."""
    def rule(field, op, value):
        return {"match": "all", "rules": [{"field": field, "op": op, "value": value}]}

    specs = [
        ("enterprise-plan", "Enterprise plan", rule("plan", "eq", "enterprise"), {}),
        ("big-spenders", "Big spenders (MRR > 20k)", rule("mrr", "gt", 20000), {"expect_members": ["ACC-6"]}),
        ("emea-big", "EMEA big spenders", {"match": "all", "rules": [
            {"field": "segment", "op": "in", "value": ["big-spenders"]},
            {"field": "region", "op": "eq", "value": "EMEA"}]}, {}),
        ("starter", "Starter plan", rule("plan", "eq", "starter"), {"visible": False}),
    ]
    for order, (slug, name, conditions, extra) in enumerate(specs, start=1):
        segment = Segment.objects.create(slug=slug, name=name, order=order, conditions=conditions, **extra)
        segment_refresh(segment=segment)
        SegmentSnapshot.objects.filter(segment=segment).update(avg_health=Decimal(52 + 9 * order))


def _row(page, name):
    return page.locator("#result_list tbody tr").filter(
        has=page.locator(".sg-name", has_text=re.compile(f"^{re.escape(name)}$")))


def _count(page):
    return page.locator(".cb-pv-number")


def _settle(page):
    """Wait until the page has no request in flight before the test reads the database.

    With SQLite in memory the live server shares the test's connection.
    """
    page.wait_for_load_state("networkidle")


def _pick_field(page, search: str):
    """With the field picker open, search by keyboard and take the first match."""
    expect(page.locator(".cb-picker")).to_be_visible()
    page.keyboard.type(search)
    page.keyboard.press("Enter")


def test_ops_builds_previews_saves_clones_reorders_and_refreshes(
        browser_page, ops_user, other_segments, task_runner, screenshot):
    page = browser_page(ops_user)
    # The admin's navigation sidebar folded away, as ops do on a laptop (roomier screenshots).
    page.add_init_script("window.localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    page.goto("/admin/segments/segment/add/")
    page.fill("#id_name", "Enterprise at risk")
    page.fill("#id_description", "Big enterprise accounts, or any in EMEA: quarterly exec review.")

    # Rule 1 with the mouse and the keyboard: plan is Enterprise.
    page.click(".cb-tree > .cb-group > .cb-group-head .cb-add-rule")
    _pick_field(page, "plan")
    rule = page.locator(".cb-rule").first
    expect(rule.locator("select.cb-op")).to_be_focused()
    rule.locator("select.cb-value-select").select_option("enterprise")
    expect(_count(page)).to_have_text("4")

    # A nested "any" group: MRR > 20,000 typed with the keyboard.
    page.click(".cb-tree > .cb-group > .cb-group-head .cb-add-group")
    _pick_field(page, "mrr")
    page.keyboard.press("Tab")
    page.keyboard.type("20000")
    expect(_count(page)).to_have_text("2")
    group = page.locator(".cb-tree .cb-group .cb-group")
    expect(group.locator(".cb-seg[aria-pressed=true]")).to_have_text("any")

    # ... or region is EMEA.
    group.locator(".cb-add-rule").click()
    _pick_field(page, "region")
    page.keyboard.press("Tab")
    page.keyboard.type("EMEA")
    expect(_count(page)).to_have_text("3")
    expect(page.locator(".cb-pv-sentence")).to_have_text(
        'plan is Enterprise and (MRR is more than 20,000 or region is "EMEA")')
    expect(page.locator(".cb-pv-sample tbody tr")).to_have_count(3)

    # Expectations: Aurora must be in, Ember must not; the preview honours both.
    page.locator(".field-expect_members .xp-input").fill("Aurora")
    page.locator(".field-expect_members .xp-option").first.click()
    page.locator(".field-expect_non_members .xp-input").fill("Ember")
    page.locator(".field-expect_non_members .xp-option").first.click()
    expect(page.locator(".cb-pv-expect h4")).to_have_text("Expectations: 2 of 2 honoured")
    expect(page.locator(".xp-chip.xp-ok")).to_have_count(2)

    page.wait_for_timeout(300)  # let the completeness hints settle for the picture
    screenshot(page, "admin-builder", docs_name="admin-builder.png")
    assert page.js_errors == []

    # Save: the refresh runs (inline here, queued in production) and the members are there.
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    _settle(page)
    segment = Segment.objects.get(slug="enterprise-at-risk")
    assert json.loads(page.locator("#id_conditions").input_value()) == segment.conditions
    assert segment.conditions["rules"][1]["match"] == "any"
    expect(page.locator(".field-refresh_state .sg-badge")).to_have_text("OK")
    page.click("text=Members (3)")
    expect(page.locator("table.sg-members tbody tr")).to_have_count(3)
    names = set(page.locator("table.sg-members tbody tr td:first-child").all_inner_texts())
    assert names == TARGET

    # Clone: the copy opens, same conditions, new slug.
    page.go_back()
    page.click("#sg-clone")
    expect(page.locator(".messagelist")).to_contain_text("was copied to")
    expect(page.locator("#id_name")).to_have_value("Enterprise at risk (copy)")
    expect(page.locator(".field-slug .readonly")).to_have_text("enterprise-at-risk-copy")
    expect(_count(page)).to_have_text("3")

    # Reorder: drag the copy above the original in the changelist.
    page.goto("/admin/segments/segment/")
    expect(page.locator("#result_list tbody tr")).to_have_count(6)
    copy_row, original_row = _row(page, "Enterprise at risk (copy)"), _row(page, "Enterprise at risk")
    with page.expect_response(re.compile(r"adminsortable2_update")) as update:
        copy_row.locator(".handle").drag_to(original_row.locator(".handle"))
    assert update.value.status == 200
    page.reload()
    _settle(page)
    names = page.locator("#result_list tbody tr .sg-name").all_inner_texts()
    assert names.index("Enterprise at risk (copy)") == names.index("Enterprise at risk") - 1
    slugs = list(Segment.objects.order_by("order").values_list("slug", flat=True))
    assert slugs.index("enterprise-at-risk-copy") == slugs.index("enterprise-at-risk") - 1

    # Refresh now: queued, then OK once the worker has run it (the page polls the status).
    task_runner.inline = False
    original_row = _row(page, "Enterprise at risk")
    original_row.locator(".sg-refresh-btn").click()
    expect(original_row.locator(".sg-badge")).to_have_text("Queued")
    _settle(page)
    assert task_runner.run_pending() == 1
    expect(original_row.locator(".sg-badge")).to_have_text("OK", timeout=8000)
    expect(_row(page, "Big spenders (MRR > 20k)").locator(".sg-flag")).to_have_text("Expectations contradicted")
    expect(_row(page, "Big spenders (MRR > 20k)").locator(".field-used_by")).to_contain_text("EMEA big spenders")
    screenshot(page, "admin-changelist", docs_name="admin-changelist.png")
    assert page.js_errors == []


def test_validation_errors_show_beside_the_rule_and_nothing_is_saved(browser_page, ops_user, accounts,
                                                                     task_runner):
    page = browser_page(ops_user)
    page.goto("/admin/segments/segment/add/")
    page.fill("#id_name", "Broken")
    page.click(".cb-add-rule")
    _pick_field(page, "logins")
    rule = page.locator(".cb-rule").first
    rule.locator("input.cb-days").fill("99999")
    rule.locator("input.cb-num:not(.cb-days)").fill("3")
    expect(rule.locator(".cb-error")).to_contain_text("params.days")
    expect(rule.locator("input.cb-days")).to_have_class(re.compile("cb-invalid"))
    expect(page.locator(".cb-pv-errors")).to_contain_text("1 problem to fix")
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    # The server's error comes back at the same rule after the reload.
    expect(page.locator(".cb-rule").first.locator(".cb-error")).to_contain_text("params.days")
    _settle(page)
    assert not Segment.objects.exists()


def test_json_view_round_trips_and_rules_reorder_with_the_keyboard(browser_page, ops_user, accounts, task_runner):
    page = browser_page(ops_user)
    page.goto("/admin/segments/segment/add/")
    page.click("button.cb-tab:text('JSON')")
    pasted = {"match": "any", "rules": [{"field": "plan", "op": "eq", "value": "starter"},
                                        {"field": "mrr", "op": "gte", "value": 25000}]}
    page.fill("#id_conditions", json.dumps(pasted))
    page.click("button.cb-tab:text('Builder')")
    expect(page.locator(".cb-rule")).to_have_count(2)
    expect(_count(page)).to_have_text("5")
    # Move the MRR rule up with the arrow key on its handle.
    page.locator(".cb-rule").nth(1).locator(".cb-handle").focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator(".cb-rule").nth(0).locator(".cb-field")).to_contain_text("MRR")
    assert json.loads(page.locator("#id_conditions").input_value())["rules"][0]["field"] == "mrr"
    # Drag it back down with the mouse.
    page.locator(".cb-rule").nth(0).locator(".cb-handle").drag_to(page.locator(".cb-rule").nth(1), target_position={
        "x": 20, "y": 30})
    expect(page.locator(".cb-rule").nth(1).locator(".cb-field")).to_contain_text("MRR")
    assert page.js_errors == []
