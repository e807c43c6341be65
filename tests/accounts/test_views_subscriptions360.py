"""Subscriptions 360: the same tabs and filtering over subscriptions, sorting, export."""

import csv
import io
import re
from decimal import Decimal

import pytest

from tests.factories import StaffFactory, SubscriptionFactory
from tests.segments.csm_world import world

pytestmark = pytest.mark.django_db

URL = "/subscriptions/"


@pytest.fixture
def w():
    data = world()
    a = data["accounts"]
    SubscriptionFactory(external_id="S-1", account=a["A-1"], plan="enterprise", status="active", mrr=Decimal("42000"),
                        billing_period="annual")
    SubscriptionFactory(external_id="S-2", account=a["A-2"], plan="enterprise", status="cancelled",
                        mrr=Decimal("12000"), billing_period="monthly")
    SubscriptionFactory(external_id="S-3", account=a["A-3"], plan="business", status="trial", mrr=None)
    SubscriptionFactory(external_id="S-5", account=a["A-5"], plan="starter", status="active", mrr=Decimal("90"),
                        end_date=data["now"].date())
    return data


@pytest.fixture
def get(client):
    def fetch(query=""):
        client.force_login(StaffFactory(role="csm"))
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200
        return re.findall(r'<tr data-external-id="([^"]+)"', response.content.decode())

    return fetch


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["S-1", "S-2", "S-5", "S-3"]),  # MRR, biggest first, missing last
        ("segment=emea", ["S-1", "S-2", "S-5"]),  # accounts of the segment
        ("segment=big&status=active", ["S-1"]),
        ("plan=business", ["S-3"]),
        ("billing_period=monthly", ["S-2"]),
        ("csm=grace", ["S-3"]),
        ("team=Enterprise", ["S-1", "S-2"]),
        ("region=apac", ["S-3"]),
        ("custom.tier=strategic", ["S-1"]),
        ("q=blue", ["S-2"]),
        ("ends_within_days=0", ["S-5"]),
        ("sort=external_id", ["S-1", "S-2", "S-3", "S-5"]),
        ("sort=-account", ["S-5", "S-3", "S-2", "S-1"]),
        ("sort=nonsense", ["S-1", "S-2", "S-5", "S-3"]),
    ],
)
def test_tabs_filters_and_sorting(get, w, query, expected):
    assert get(query) == expected


def test_export_is_the_current_view_in_the_subscriptions_format(client, w):
    client.force_login(StaffFactory(role="viewer"))
    response = client.get("/subscriptions/-/export.csv?segment=emea&status=active")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["external_id"], r["account"]) for r in rows] == [("S-1", "A-1"), ("S-5", "A-5")]
