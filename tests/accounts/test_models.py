"""The database itself refuses bad customer data, whatever path it comes by."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account, CustomAttributeDefinition, Event, Subscription, SupportTicket, Touchpoint
from tests.factories import AccountFactory, CustomAttributeFactory, EndUserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_negative_mrr_is_refused_by_the_database():
    account = AccountFactory()
    _refused(lambda: Account.objects.filter(pk=account.pk).update(mrr=Decimal("-1")))


def test_negative_potential_arr_is_refused_by_the_database():
    _refused(lambda: AccountFactory(potential_arr=Decimal("-0.01")))


def test_unknown_plan_is_refused_by_the_database():
    account = AccountFactory()
    _refused(lambda: Account.objects.filter(pk=account.pk).update(plan="platinum"))


def test_unknown_lifecycle_stage_is_refused_by_the_database():
    _refused(lambda: AccountFactory(lifecycle_stage="Trial"))


def test_duplicate_external_id_is_refused():
    AccountFactory(external_id="A-1")
    _refused(lambda: AccountFactory(external_id="A-1"))


def test_empty_external_id_and_name_are_refused():
    _refused(lambda: AccountFactory(external_id=""))
    _refused(lambda: AccountFactory(name=""))


def test_subscription_status_and_mrr_are_checked():
    account = AccountFactory()
    _refused(lambda: Subscription.objects.create(external_id="S-1", account=account, status="paused"))
    _refused(lambda: Subscription.objects.create(external_id="S-2", account=account, mrr=Decimal("-5")))


def test_event_quantity_must_be_at_least_one():
    account = AccountFactory()
    _refused(lambda: Event.objects.create(account=account, name="login", occurred_at=NOW, quantity=0))


def test_events_without_external_id_may_repeat_but_ids_are_unique():
    account = AccountFactory()
    Event.objects.create(account=account, name="login", occurred_at=NOW)
    Event.objects.create(account=account, name="login", occurred_at=NOW)
    Event.objects.create(account=account, name="login", occurred_at=NOW, external_id="E-1")
    _refused(lambda: Event.objects.create(account=account, name="login", occurred_at=NOW, external_id="E-1"))
    assert Event.objects.count() == 3


def test_touchpoint_kind_and_ticket_status_are_checked():
    account = AccountFactory()
    _refused(lambda: Touchpoint.objects.create(external_id="T-1", account=account, kind="lunch", occurred_at=NOW))
    _refused(lambda: SupportTicket.objects.create(external_id="K-1", account=account, opened_at=NOW, status="x"))


def test_end_user_role_is_checked():
    _refused(lambda: EndUserFactory(role="owner"))


def test_custom_attribute_key_format_is_checked_by_the_database():
    _refused(lambda: CustomAttributeDefinition.objects.create(key="Bad Key", type="text"))
    _refused(lambda: CustomAttributeDefinition.objects.create(key="ok", type="float"))


def test_arr_and_expansion_gap_are_derived():
    account = AccountFactory.build(mrr=Decimal("100.50"), potential_arr=Decimal("2000"))
    assert account.arr == Decimal("1206.00")
    assert account.expansion_gap == Decimal("794.00")
    assert AccountFactory.build(mrr=None, potential_arr=Decimal("1")).expansion_gap is None
    assert AccountFactory.build(mrr=Decimal("1"), potential_arr=None).expansion_gap is None


class TestCustomAttributeValidation:
    def test_valid_values_pass(self):
        CustomAttributeFactory(key="nps", type="number")
        CustomAttributeFactory(key="tier", type="choice", choices=["gold", "silver"])
        CustomAttributeFactory(key="kickoff", type="date")
        CustomAttributeFactory(key="champion", type="boolean")
        account = AccountFactory.build(custom={"nps": 7.5, "tier": "gold", "kickoff": "2026-01-31", "champion": True})
        account.full_clean()

    @pytest.mark.parametrize(
        ("custom", "message"),
        [
            ({"nps": "7"}, "nps"),
            ({"tier": "bronze"}, '"bronze" is not one of gold, silver'),
            ({"tier": "Gold"}, '"Gold" is not one of'),
            ({"kickoff": "2026-02-30"}, "kickoff"),
            ({"champion": "yes"}, "champion"),
            ({"unknown": 1}, 'unknown custom attribute "unknown"'),
        ],
    )
    def test_invalid_values_are_rejected(self, custom, message):
        CustomAttributeFactory(key="nps", type="number")
        CustomAttributeFactory(key="tier", type="choice", choices=["gold", "silver"])
        CustomAttributeFactory(key="kickoff", type="date")
        CustomAttributeFactory(key="champion", type="boolean")
        account = AccountFactory.build(custom=custom)
        with pytest.raises(ValidationError) as excinfo:
            account.full_clean()
        assert message in str(excinfo.value)

    def test_choice_definition_needs_lower_case_choices(self):
        definition = CustomAttributeDefinition(key="tier", type="choice", choices=["Gold"])
        with pytest.raises(ValidationError):
            definition.full_clean()

    def test_non_choice_definition_has_no_choices(self):
        definition = CustomAttributeDefinition(key="nps", type="number", choices=["a"])
        with pytest.raises(ValidationError):
            definition.full_clean()
