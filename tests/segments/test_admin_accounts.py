"""The account admin, extended by the segments app: filter by segment, the account's segments and health."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.db.models import Value
from django.urls import reverse

from accounts.models import Account
from segments.registry import registry
from segments.services import segment_refresh
from tests.factories import AccountFactory
from tests.segments import admin_support
from tests.segments.admin_support import make_segment

pytestmark = pytest.mark.django_db

# Fixtures shared by the admin tests.
ops_client = admin_support.ops_client


def test_the_registered_account_admin_is_extended_not_replaced():
    model_admin = admin.site.get_model_admin(Account)
    assert type(model_admin).__name__.startswith("SegmentAware")
    from accounts import admin as accounts_admin

    assert isinstance(model_admin, accounts_admin.AccountAdmin)


def test_accounts_filter_by_segment(ops_client):
    rich = AccountFactory(name="Rich", mrr=Decimal("900"))
    AccountFactory(name="Poor", mrr=Decimal("1"))
    segment = make_segment("big", name="Big spenders")
    segment_refresh(segment=segment)
    response = ops_client.get(reverse("admin:accounts_account_changelist"), {"segment": segment.pk})
    assert response.status_code == 200
    assert [a.pk for a in response.context["cl"].result_list] == [rich.pk]
    assert "Big spenders" in response.content.decode()
    bogus = ops_client.get(reverse("admin:accounts_account_changelist"), {"segment": "x"})
    assert list(bogus.context["cl"].result_list) == []


def test_account_page_lists_its_segments_and_health(ops_client, monkeypatch):
    account = AccountFactory(mrr=Decimal("900"))
    segment = make_segment("big", name="Big spenders")
    segment_refresh(segment=segment)
    monkeypatch.setattr(registry, "_providers", {
        "health_score": lambda *, as_of: Value(77), "health_label": lambda *, as_of: Value("good")})
    html = ops_client.get(reverse("admin:accounts_account_change", args=[account.pk])).content.decode()
    assert "Big spenders" in html and reverse("admin:segments_segment_change", args=[segment.pk]) in html
    assert "77 (good)" in html


def test_account_without_segments_or_scores_says_so(ops_client, monkeypatch):
    account = AccountFactory()
    monkeypatch.setattr(registry, "_providers", {})
    html = ops_client.get(reverse("admin:accounts_account_change", args=[account.pk])).content.decode()
    assert "in no segment" in html and "not scored yet" in html
