"""Builders shared by the health tests: accounts with a given utilisation, tickets, memberships."""

import datetime as dt

from segments.models import AccountMembership
from tests.factories import AccountFactory, EndUserFactory, EventFactory, TicketFactory
from tests.health.conftest import AS_OF


def account_with_utilisation(*, licenses: int | None = 10, active: int = 0, inactive: int = 0,
                             at: dt.datetime = AS_OF, **fields):
    """An account with `active` users active 2 days before `at` and `inactive` users never active."""
    account = AccountFactory(licenses=licenses, **fields)
    for _ in range(active):
        user = EndUserFactory(account=account)
        EventFactory(account=account, user=user, occurred_at=at - dt.timedelta(days=2))
    for _ in range(inactive):
        EndUserFactory(account=account)
    return account


def open_tickets(account, count: int) -> None:
    for _ in range(count):
        TicketFactory(account=account, opened_at=AS_OF - dt.timedelta(days=3), status="open")


def join(account, *segments) -> None:
    """Make the account a member of the segments (as a refresh would)."""
    for segment in segments:
        AccountMembership.objects.create(segment=segment, account=account, since=AS_OF)
