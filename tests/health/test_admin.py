"""The health config admin: parameters inline, field picker, preview before saving, cloning, permissions."""

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import HealthConfig, HealthParameter, HealthScore
from tests.factories import StaffFactory
from tests.health.factories import HealthConfigFactory, HealthParameterFactory, SegmentFactory
from tests.health.helpers import account_with_utilisation, join

pytestmark = pytest.mark.django_db

ADD = reverse("admin:health_healthconfig_add")
PREVIEW_NEW = reverse("admin:health_healthconfig_preview")


def _change(config) -> str:
    return reverse("admin:health_healthconfig_change", args=[config.pk])


def _post_data(*, name="Enterprise health", segment=None, parameters=(), existing=0, good=70, poor=40) -> dict:
    """The change form's POST: the config and its parameters inline."""
    data = {"name": name, "segment": segment.pk if segment else "", "good_cutoff": good, "poor_cutoff": poor,
            "parameters-TOTAL_FORMS": len(parameters), "parameters-INITIAL_FORMS": existing,
            "parameters-MIN_NUM_FORMS": 0, "parameters-MAX_NUM_FORMS": 1000}
    for index, parameter in enumerate(parameters):
        row = {"pillar": "product_adoption", "field": "license_utilization_pct", "params": '{"days": 30}',
               "direction": "higher", "good": "70", "poor": "10", "weight": "1", "position": index, **parameter}
        data.update({f"parameters-{index}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def ops_client(client, ops_user):
    client.force_login(ops_user)
    return client


def test_ops_add_a_config_with_parameters(ops_client):
    segment = SegmentFactory(name="Enterprise")
    response = ops_client.post(ADD, _post_data(segment=segment, parameters=[
        {}, {"pillar": "support", "field": "open_tickets", "params": "{}", "direction": "lower", "good": "0",
             "poor": "5", "weight": "2"}]))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    config = HealthConfig.objects.get(segment=segment)
    assert list(config.parameters.values_list("field", "params", "weight")) == [
        ("license_utilization_pct", {"days": 30}, 1), ("open_tickets", {}, 2)]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"field": "plan"}, "Select a valid choice"),
        ({"params": "{}"}, "needs"),
        ({"params": '{"days": 30, "feature": "x"}'}, "unknown parameter"),
        ({"good": "5"}, "Good must be above Poor"),
        ({"weight": "0"}, "weight"),
    ],
)
def test_invalid_parameters_are_refused_with_a_message(ops_client, row, message):
    response = ops_client.post(ADD, _post_data(segment=SegmentFactory(), parameters=[row]))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert HealthConfig.objects.count() == 1  # only the default config


def test_the_field_picker_offers_numeric_fields_grouped_by_registry_group(ops_client):
    html = ops_client.get(ADD).content.decode()
    inline_template = html[html.index('id="parameters-empty"'):]
    assert '<optgroup label="Engagement">' in inline_template
    assert 'value="license_utilization_pct"' in inline_template
    assert "License utilization % (days)" in inline_template
    assert 'value="plan"' not in inline_template and 'value="mrr_rank"' not in inline_template


def test_the_change_form_has_the_preview_button_and_the_clone_link(ops_client):
    config = HealthConfigFactory()
    html = ops_client.get(_change(config)).content.decode()
    assert reverse("admin:health_healthconfig_preview_saved", args=[config.pk]) in html
    assert 'formtarget="_blank"' in html
    assert reverse("admin:health_healthconfig_clone", args=[config.pk]) in html


def test_preview_scores_the_edited_config_without_saving_it(ops_client):
    config = HealthConfigFactory(name="Before")
    HealthParameterFactory(config=config, field="licenses", params={}, good=100, poor=50)
    for active in (8, 5, 0):  # utilisation: 100, 67, 0
        join(account_with_utilisation(active=active, at=timezone.now()), config.segment)
    saved = config.parameters.get()
    data = _post_data(name="After", segment=config.segment, existing=1, parameters=[{"id": saved.pk,
                                                                                     "config": config.pk}])
    response = ops_client.post(reverse("admin:health_healthconfig_preview_saved", args=[config.pk]), data)
    assert response.status_code == 200
    distribution = response.context["distribution"]
    assert (distribution.good, distribution.average, distribution.poor, distribution.missing) == (1, 1, 1, 0)
    config.refresh_from_db()
    assert config.name == "Before" and config.parameters.get().field == "licenses"
    assert not HealthScore.objects.exists()


def test_preview_of_a_new_config(ops_client):
    segment = SegmentFactory()
    join(account_with_utilisation(active=9, at=timezone.now()), segment)
    response = ops_client.post(PREVIEW_NEW, _post_data(segment=segment, parameters=[{}]))
    assert response.context["distribution"].good == 1
    assert "Accounts (preview)" in response.content.decode()
    assert HealthConfig.objects.count() == 1


def test_preview_lists_the_problems_of_an_invalid_config(ops_client):
    response = ops_client.post(PREVIEW_NEW, _post_data(segment=SegmentFactory(), good=30, poor=60,
                                                       parameters=[{"field": "plan"}]))
    errors = " ".join(response.context["errors"])
    assert "Parameter 1" in errors and "Select a valid choice" in errors
    assert "cut-off" in errors
    assert "distribution" not in response.context


def test_preview_needs_a_post(ops_client):
    assert ops_client.get(PREVIEW_NEW).status_code == 405


def test_clone_copies_the_config_to_a_segment_without_one(ops_client):
    config = HealthConfigFactory()
    HealthParameterFactory(config=config)
    configured, target = HealthConfigFactory().segment, SegmentFactory(name="Business")
    url = reverse("admin:health_healthconfig_clone", args=[config.pk])
    choices = ops_client.get(url).context["form"].fields["segment"].queryset
    assert target in choices and configured not in choices and config.segment not in choices
    response = ops_client.post(url, {"segment": target.pk, "name": ""})
    clone = HealthConfig.objects.get(segment=target)
    assert response.url == _change(clone)
    assert clone.name == "Business health" and clone.parameters.count() == 1


def test_the_default_config_cannot_be_deleted_nor_given_a_segment(ops_client, default_config):
    html = ops_client.get(_change(default_config)).content.decode()
    assert 'name="segment"' not in html
    assert ops_client.get(reverse("admin:health_healthconfig_delete", args=[default_config.pk])).status_code == 403


def test_people_without_change_permission_cannot_edit_preview_or_clone(client):
    viewer = StaffFactory(role="viewer")
    viewer.is_staff = True  # in the admin, but with view permissions only
    viewer.save()
    client.force_login(viewer)
    config = HealthConfigFactory()
    assert client.get(reverse("admin:health_healthconfig_changelist")).status_code == 200
    assert client.post(_change(config), _post_data(segment=config.segment)).status_code == 403
    assert client.post(PREVIEW_NEW, _post_data(segment=SegmentFactory())).status_code == 403
    assert client.post(reverse("admin:health_healthconfig_clone", args=[config.pk]),
                       {"segment": SegmentFactory().pk}).status_code == 403
    assert HealthConfig.objects.count() == 2


def test_csms_do_not_reach_the_admin(client, csm_user):
    client.force_login(csm_user)
    response = client.get(reverse("admin:health_healthconfig_changelist"))
    assert response.status_code == 302


def test_scores_are_read_only_in_the_admin(ops_client):
    HealthScore.objects.create(account=account_with_utilisation(), date="2026-06-01", score=50, label="average")
    assert ops_client.get(reverse("admin:health_healthscore_changelist")).status_code == 200
    assert ops_client.get(reverse("admin:health_healthscore_add")).status_code == 403


def test_ops_may_delete_a_segment_config(ops_client):
    config = HealthConfigFactory()
    response = ops_client.post(reverse("admin:health_healthconfig_delete", args=[config.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not HealthParameter.objects.filter(config_id=config.pk).exists()
