"""Validation of configs and parameters (model clean) and the database constraints behind it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from health.models import HealthConfig, HealthParameter
from tests.factories import CustomAttributeFactory
from tests.health.factories import HealthConfigFactory, HealthParameterFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def _errors(**fields) -> dict:
    parameter = HealthParameterFactory.build(config=HealthConfigFactory(), **fields)
    with pytest.raises(ValidationError) as caught:
        parameter.full_clean()
    return caught.value.message_dict


def test_the_seeds_example_is_a_valid_parameter():
    HealthParameterFactory.build(config=HealthConfigFactory()).full_clean()


@pytest.mark.parametrize(
    ("field", "params", "message"),
    [
        ("plan", {}, "not a numeric field"),
        ("renewal_date", {}, "not a numeric field"),
        ("mrr_rank", {}, "not a numeric field"),
        ("health_score", {}, "not a numeric field"),
        ("subscription.mrr", {}, "not a numeric field"),
        ("accounts__mrr", {}, 'unknown field "accounts__mrr"'),
        ("custom.missing", {}, 'unknown custom attribute "missing"'),
    ],
)
def test_only_numeric_per_account_fields_are_accepted(field, params, message):
    assert message in " ".join(_errors(field=field, params=params)["field"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, 'params.days: missing: "license_utilization_pct" needs "days"'),
        ({"days": -1}, 'params.days: "days" must be a whole number'),
        ({"days": 30, "role": "admin"}, 'unknown parameter "role"'),
        ([], "must be an object of parameters"),
    ],
)
def test_params_are_validated_like_the_condition_language(params, message):
    assert message in " ".join(_errors(params=params)["params"])


def test_params_of_other_fields_are_checked_too():
    errors = _errors(field="usage", params={"days": 30, "feature": "login"})
    assert "feature" in " ".join(errors["params"])
    HealthParameterFactory.build(config=HealthConfigFactory(), field="days_since_last_touchpoint",
                                 params={"kind": "qbr"}, direction="lower", good=90, poor=180).full_clean()


def test_a_number_custom_attribute_is_accepted_but_not_a_text_one():
    CustomAttributeFactory(key="nps", type="number")
    CustomAttributeFactory(key="owner", type="text")
    HealthParameterFactory.build(config=HealthConfigFactory(), field="custom.nps", params={}).full_clean()
    assert "not a numeric field" in " ".join(_errors(field="custom.owner", params={})["field"])


@pytest.mark.parametrize(("direction", "good", "poor"), [("higher", 10, 70), ("higher", 10, 10), ("lower", 70, 10)])
def test_thresholds_must_be_ordered_by_direction(direction, good, poor):
    assert "good" in _errors(direction=direction, good=Decimal(good), poor=Decimal(poor))


def test_the_weight_must_be_positive():
    assert "weight" in _errors(weight=Decimal("0"))


def test_config_cut_offs_must_be_ordered():
    config = HealthConfigFactory.build(segment=SegmentFactory(), good_cutoff=40, poor_cutoff=40)
    with pytest.raises(ValidationError) as caught:
        config.full_clean()
    assert "poor_cutoff" in caught.value.message_dict


def test_a_config_is_for_account_segments_only():
    config = HealthConfigFactory.build(segment=SegmentFactory(kind="user"))
    with pytest.raises(ValidationError) as caught:
        config.full_clean()
    assert "segment" in caught.value.message_dict


def test_the_migration_creates_exactly_one_default_config():
    assert HealthConfig.objects.filter(segment__isnull=True).count() == 1


def test_a_second_default_config_is_refused_by_validation_and_by_the_database(default_config):
    with pytest.raises(ValidationError, match="already a default"):
        HealthConfig(name="Another default").full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        HealthConfig.objects.create(name="Another default")


def test_a_segment_has_at_most_one_config():
    config = HealthConfigFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        HealthConfig.objects.create(segment=config.segment, name="Twice")


@pytest.mark.parametrize(
    "fields",
    [{"weight": Decimal("0")}, {"direction": "higher", "good": 10, "poor": 20}, {"direction": "lower", "good": 20,
                                                                                 "poor": 10},
     {"pillar": "vibes"}],
)
def test_the_database_refuses_bad_parameters(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        HealthParameterFactory(**fields)


def test_the_database_refuses_unordered_cut_offs():
    with pytest.raises(IntegrityError), transaction.atomic():
        HealthConfigFactory(good_cutoff=40, poor_cutoff=60)


def test_deleting_a_segment_deletes_its_config_and_parameters():
    parameter = HealthParameterFactory()
    parameter.config.segment.delete()
    assert not HealthParameter.objects.filter(pk=parameter.pk).exists()
