"""Account.last_activity_at: the latest event's time, kept by a service."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Account, Event
from accounts.services import account_last_activity_sync, nightly_last_activity_sync
from csbox.pipeline import nightly_steps
from tests.factories import AccountFactory, EventFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _last(account) -> dt.datetime | None:
    return Account.objects.values_list("last_activity_at", flat=True).get(pk=account.pk)


def test_sync_sets_the_latest_event_time_and_null_without_events():
    busy, quiet = AccountFactory(), AccountFactory()
    EventFactory(account=busy, occurred_at=T0)
    EventFactory(account=busy, occurred_at=T0 + dt.timedelta(days=3), name="report")
    EventFactory(account=busy, occurred_at=T0 - dt.timedelta(days=3))
    Account.objects.filter(pk=quiet.pk).update(last_activity_at=T0)  # stale: no event any more

    assert account_last_activity_sync() == 2

    assert _last(busy) == T0 + dt.timedelta(days=3)
    assert _last(quiet) is None


def test_sync_of_named_accounts_leaves_the_others_alone():
    first, second = AccountFactory(), AccountFactory()
    EventFactory(account=first, occurred_at=T0)
    EventFactory(account=second, occurred_at=T0)

    assert account_last_activity_sync(account_ids=[first.pk, first.pk]) == 1

    assert _last(first) == T0
    assert _last(second) is None


def test_sync_handles_more_ids_than_one_statement_takes():
    account = AccountFactory()
    EventFactory(account=account, occurred_at=T0)

    # 25,000 ids, most of them unknown: chunked, and only the real one is updated.
    assert account_last_activity_sync(account_ids=[account.pk, *range(10**9, 10**9 + 25_000)]) == 1
    assert _last(account) == T0


def test_the_nightly_pipeline_re_derives_last_activity():
    account = AccountFactory()
    EventFactory(account=account, occurred_at=T0)

    assert "last_activity" in [name for name, _ in nightly_steps()]
    assert nightly_last_activity_sync(as_of=T0) == {"accounts": 1}
    assert _last(account) == T0


def test_the_demo_seed_fills_last_activity(db):
    from accounts.demo import demo_seed

    demo_seed(accounts=12, seed=3, anchor=dt.date(2026, 6, 1))

    stale = Account.objects.exclude(events__isnull=True).filter(last_activity_at__isnull=True)
    assert Account.objects.filter(last_activity_at__isnull=False).exists()
    assert not stale.exists()
    for account in Account.objects.filter(last_activity_at__isnull=False)[:5]:
        latest = Event.objects.filter(account=account).order_by("-occurred_at").first()
        assert account.last_activity_at == latest.occurred_at


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-csbox-123"))
    return client


def test_adding_moving_and_deleting_events_in_the_admin_keeps_it_current(superuser_client):
    first, second = AccountFactory(), AccountFactory()
    data = {"account": first.pk, "name": "login", "occurred_at_0": "2026-06-01", "occurred_at_1": "12:00:00",
            "quantity": 1, "external_id": ""}
    response = superuser_client.post(reverse("admin:accounts_event_add"), data)
    assert response.status_code == 302, response.content
    event = Event.objects.get()
    assert _last(first) == T0

    response = superuser_client.post(reverse("admin:accounts_event_change", args=[event.pk]),
                                     {**data, "account": second.pk})
    assert response.status_code == 302
    assert (_last(first), _last(second)) == (None, T0)

    response = superuser_client.post(reverse("admin:accounts_event_delete", args=[event.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert _last(second) is None
