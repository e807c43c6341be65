"""The REST API: login required, roles enforced, invalid conditions answered with 400 and paths."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from segments.models import Segment
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

MRR_RULE = {"match": "all", "rules": [{"field": "mrr", "op": "gt", "value": 500}]}


@pytest.fixture
def api():
    return APIClient()


def test_every_endpoint_requires_login(api):
    for url in ("/api/accounts/", "/api/segments/", "/api/fields/?kind=account"):
        assert api.get(url).status_code in (401, 403)
    assert api.post("/api/preview/", {"conditions": MRR_RULE}, format="json").status_code in (401, 403)


def test_viewer_reads_accounts_filtered_by_the_filterset(api, viewer_user):
    AccountFactory(external_id="A-1", plan="starter")
    AccountFactory(external_id="A-2", plan="enterprise")
    api.force_authenticate(viewer_user)
    response = api.get("/api/accounts/?plan=enterprise")
    assert response.status_code == 200
    assert [a["external_id"] for a in response.json()["results"]] == ["A-2"]


def test_viewer_and_csm_cannot_create_segments(api, viewer_user, csm_user):
    for user in (viewer_user, csm_user):
        api.force_authenticate(user)
        response = api.post("/api/segments/", {"slug": "s", "name": "S", "conditions": MRR_RULE}, format="json")
        assert response.status_code == 403
    assert not Segment.objects.exists()


def test_ops_creates_a_segment(api, ops_user):
    api.force_authenticate(ops_user)
    response = api.post("/api/segments/", {"slug": "big", "name": "Big", "conditions": MRR_RULE}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["sentence"]
    assert Segment.objects.get().created_by == ops_user


def test_invalid_conditions_are_a_400_with_paths_and_nothing_is_saved(api, ops_user):
    api.force_authenticate(ops_user)
    bad = {"match": "all", "rules": [{"field": "csm__password", "op": "eq", "value": "x"}]}
    response = api.post("/api/segments/", {"slug": "bad", "name": "Bad", "conditions": bad}, format="json")
    assert response.status_code == 400
    assert "rules[0].field" in str(response.json()["conditions"])
    assert not Segment.objects.exists()


def test_preview_counts_without_writing(api, viewer_user):
    AccountFactory(mrr=Decimal("1000"))
    AccountFactory(mrr=Decimal("10"))
    api.force_authenticate(viewer_user)
    response = api.post("/api/preview/", {"kind": "account", "conditions": MRR_RULE}, format="json")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    bad = api.post("/api/preview/", {"conditions": {"match": "some"}}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"]


def test_field_list_comes_from_the_registry(api, viewer_user):
    api.force_authenticate(viewer_user)
    keys = {f["key"] for f in api.get("/api/fields/?kind=account").json()}
    assert {"mrr", "logins", "subscription.plan", "segment", "csm"} <= keys
    assert api.get("/api/fields/?kind=team").status_code == 400
