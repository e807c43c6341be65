"""factory-boy factories for the customer data."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from accounts.models import (
    Account,
    CustomAttributeDefinition,
    EndUser,
    Event,
    Subscription,
    SupportTicket,
    Team,
    Touchpoint,
)
from accounts.services import staff_set_role


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff member with a role (ops / csm / viewer) and optionally a team."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw-csbox-123")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        role = kwargs.pop("role", "csm")
        team = kwargs.pop("team", None)
        user = super()._create(model_class, *args, **kwargs)
        staff_set_role(user=user, role=role, team=team)
        return user


class CustomAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomAttributeDefinition
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"attr{n}")
    label = factory.LazyAttribute(lambda o: o.key.upper())
    type = "text"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"A-{n}")
    name = factory.Sequence(lambda n: f"Account {n}")
    plan = "business"
    lifecycle_stage = "nurturing"
    mrr = Decimal("1000.00")
    licenses = 10


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    external_id = factory.Sequence(lambda n: f"S-{n}")
    account = factory.SubFactory(AccountFactory)
    plan = "business"
    status = "active"


class EndUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EndUser

    external_id = factory.Sequence(lambda n: f"U-{n}")
    account = factory.SubFactory(AccountFactory)
    email = factory.LazyAttribute(lambda o: f"{o.external_id.lower()}@customer.test")
    role = "user"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    account = factory.SubFactory(AccountFactory)
    name = "login"
    occurred_at = factory.LazyFunction(lambda: dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    quantity = 1


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    external_id = factory.Sequence(lambda n: f"T-{n}")
    account = factory.SubFactory(AccountFactory)
    kind = "call"
    occurred_at = factory.LazyFunction(lambda: dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportTicket

    external_id = factory.Sequence(lambda n: f"K-{n}")
    account = factory.SubFactory(AccountFactory)
    opened_at = factory.LazyFunction(lambda: dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    status = "open"
