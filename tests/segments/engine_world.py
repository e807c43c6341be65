"""A small, hand-checked world for the condition engine's tests.

as_of is Wednesday 2026-06-10 12:00 UTC (week 06-08..06-14, Q2). Every
expected result in the tests is derived from the data below; the comments
give the values the metrics take.
"""

import datetime as dt
from decimal import Decimal

from accounts.models import Account, CustomAttributeDefinition, EndUser, Event, Subscription, SupportTicket, Touchpoint
from accounts.models import Team as TeamModel
from segments.models import AccountMembership, Segment, UserMembership
from segments.registry import CustomDef
from tests.factories import StaffFactory

AS_OF = dt.datetime(2026, 6, 10, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ALL = {"big", "mid", "small", "empty", "tie"}

CUSTOM = {
    "nps": CustomDef("nps", "number", (), "NPS"),
    "tier": CustomDef("tier", "choice", ("gold", "silver"), "Tier"),
    "beta": CustomDef("beta", "boolean", (), "Beta"),
    "since": CustomDef("since", "date", (), "Since"),
    "note": CustomDef("note", "text", (), "Note"),
}


def build_world() -> dict:
    """Create the world; return {external_id: object} for accounts, users and staff."""
    for d in CUSTOM.values():
        CustomAttributeDefinition.objects.create(key=d.key, type=d.type, choices=list(d.choices), label=d.label)
    enterprise = TeamModel.objects.create(name="Enterprise Team")
    alice = StaffFactory(username="alice", role="csm", team=enterprise)
    bob = StaffFactory(username="bob", role="csm")
    carol = StaffFactory(username="carol", role="csm", team=TeamModel.objects.create(name="SMB"))
    accounts = _accounts(alice, bob, carol)
    users = _users(accounts)
    _events(accounts, users)
    _touchpoints_and_tickets(accounts)
    _subscriptions(accounts)
    _segments(accounts, users)
    return {**accounts, **users, "alice": alice, "bob": bob, "carol": carol}


def _accounts(alice, bob, carol) -> dict:
    create = Account.objects.create
    accounts = [
        # mrr rank 1 (tie), arr 120000, gap 30000
        create(external_id="big", name="Big Corp", domain="big.example.com", industry="Software", region="EMEA",
               lifecycle_stage="renewal", plan="enterprise", licenses=4, employees=500, mrr=Decimal("10000.00"),
               potential_arr=Decimal("150000.00"), renewal_date=dt.date(2026, 6, 30),
               customer_since=dt.date(2020, 1, 15), csm=alice, referenceable=True, use_case="Analytics & BI",
               custom={"nps": 9, "tier": "gold", "beta": True, "since": "2025-01-01", "note": "VIP 100%"}),
        # rank 4, arr 1.20, gap 0.00
        create(external_id="mid", name="Mid_Size Ltd", domain="mid.example.org", industry="software", region="",
               lifecycle_stage="onboarding", plan="business", licenses=0, employees=50, mrr=Decimal("0.10"),
               potential_arr=Decimal("1.20"), renewal_date=dt.date(2026, 6, 10), customer_since=dt.date(2026, 6, 8),
               csm=bob, referenceable=False, use_case="",
               custom={"nps": 7.5, "tier": "silver", "beta": False, "since": "2026-06-10"}),
        # rank 3, arr 60000, gap missing
        create(external_id="small", name="small shop", domain="", industry="Retail", region="AMER",
               lifecycle_stage="trial", plan="starter", licenses=None, employees=None, mrr=Decimal("5000.00"),
               potential_arr=None, renewal_date=dt.date(2026, 9, 15), customer_since=dt.date(2016, 6, 10),
               csm=carol, referenceable=None, use_case="Reporting", custom={"nps": 3, "note": "50% off"}),
        create(external_id="empty", name="Empty", custom={}),
        # a stale custom value of the wrong JSON type counts as missing
        create(external_id="tie", name="Tie Inc", plan="enterprise", mrr=Decimal("10000.00"), licenses=2,
               custom={"nps": "9", "beta": "yes"}),
    ]
    return {account.external_id: account for account in accounts}


def _users(accounts) -> dict:
    big, mid = accounts["big"], accounts["mid"]
    rows = [
        ("u1", big, "ann@big.example.com", "Ann Admin", "admin", AS_OF - 160 * DAY),
        ("u2", big, "bert@big.example.com", "Bert", "user", None),
        ("u3", big, "cleo@big.example.com", "Cleo Late", "user", AS_OF + dt.timedelta(hours=1)),
        ("u4", big, "", "Exec", "executive", AS_OF - 160 * DAY),
        ("u5", mid, "dan@MID.example.org", "", "", AS_OF - 2 * DAY),
        ("u6", mid, "eve@mid.example.org", "Eve", "admin", AS_OF),
    ]
    return {
        ext: EndUser.objects.create(external_id=ext, account=acc, email=email, name=name, role=role, created_at=created)
        for ext, acc, email, name, role, created in rows
    }


def _events(accounts, users) -> None:
    big, mid, small = accounts["big"], accounts["mid"], accounts["small"]
    u1, u2, u3, u5 = users["u1"], users["u2"], users["u3"], users["u5"]
    rows = [
        (big, u1, "login", 2, AS_OF - 30 * DAY),  # exactly as_of - 30d: outside the 30-day window
        (big, u1, "login", 1, AS_OF - 30 * DAY + dt.timedelta(seconds=1)),
        (big, u2, "login", 3, AS_OF),  # exactly as_of: inside every window
        (big, None, "login", 5, AS_OF - DAY),  # no user: counts for logins, never for user counts
        (big, u1, "login", 100, AS_OF + dt.timedelta(seconds=1)),  # after as_of: does not exist
        (big, u2, "export", 4, AS_OF - 10 * DAY),
        (big, u3, "report", 6, AS_OF - 2 * DAY),  # a user created after as_of: counts by its own date
        (big, None, "export", 2, AS_OF - 40 * DAY),  # previous 30-day window
        (mid, None, "login", 1, AS_OF - 91 * DAY),
        (mid, u5, "export", 7, AS_OF - 1 * DAY),
        (small, None, "export", 3, AS_OF - 45 * DAY),
    ]
    Event.objects.bulk_create(
        Event(account=acc, user=user, name=name, quantity=qty, occurred_at=at) for acc, user, name, qty, at in rows
    )
    # big: logins(30)=9 logins(1)=3 usage(30)=10 usage(30,export)=4 usage_change_pct(30)=400
    #      users=3 (u1,u2,u4) active_users(30)=2 inactive_users_pct(30)=33.33.. license_utilization_pct(30)=50
    #      days_since_last_activity=0 (admin: 29, user: 0, executive: missing)
    # mid: users=2 (u5, u6) active(30)=1 (u5) logins(30)=0 usage(30)=7 usage_change_pct missing
    #      days_since_last_activity=1 licenses 0 -> utilization missing
    # small: usage_change_pct(30) = -100, days_since_last_activity=45, users 0 -> inactive pct missing


def _touchpoints_and_tickets(accounts) -> None:
    big = accounts["big"]
    Touchpoint.objects.bulk_create([
        Touchpoint(external_id="T1", account=big, kind="qbr", occurred_at=AS_OF - 100 * DAY),
        Touchpoint(external_id="T2", account=big, kind="call", occurred_at=AS_OF - 5 * DAY),
        Touchpoint(external_id="T3", account=big, kind="email", occurred_at=AS_OF + DAY),
        Touchpoint(external_id="T4", account=accounts["small"], kind="meeting", occurred_at=AS_OF - 200 * DAY),
    ])
    # big: touchpoints(120)=2, (qbr)=1; days since last touchpoint 5, qbr 100; small: 200
    SupportTicket.objects.bulk_create([
        SupportTicket(external_id="K1", account=big, opened_at=AS_OF - 3 * DAY, status="open"),
        SupportTicket(external_id="K2", account=big, opened_at=AS_OF - 10 * DAY, status="closed",
                      closed_at=AS_OF + DAY),
        SupportTicket(external_id="K3", account=big, opened_at=AS_OF - 20 * DAY, status="closed",
                      closed_at=AS_OF - DAY),
        SupportTicket(external_id="K4", account=big, opened_at=AS_OF + dt.timedelta(hours=1), status="open"),
        SupportTicket(external_id="K5", account=big, opened_at=AS_OF - 40 * DAY, status="closed"),
        SupportTicket(external_id="K6", account=accounts["mid"], opened_at=AS_OF - 50 * DAY, status="open"),
    ])
    # big: open_tickets=2 (K1, K2), tickets(30)=3, tickets(5)=1; mid: open 1, tickets(30)=0


def _subscriptions(accounts) -> None:
    big, mid = accounts["big"], accounts["mid"]
    Subscription.objects.bulk_create([
        Subscription(external_id="S1", account=big, plan="enterprise", status="active", billing_period="annual",
                     mrr=Decimal("9000.00"), start_date=dt.date(2025, 7, 1), end_date=dt.date(2026, 6, 30)),
        Subscription(external_id="S2", account=big, plan="", status="cancelled", billing_period="monthly",
                     mrr=Decimal("1000.50"), start_date=dt.date(2024, 1, 1), end_date=dt.date(2025, 1, 1)),
        Subscription(external_id="S3", account=mid, plan="business", status="trial",
                     trial_start_date=dt.date(2026, 6, 1)),
    ])


def _segments(accounts, users) -> None:
    rule = {"match": "all", "rules": []}
    vip = Segment.objects.create(slug="vip", name="VIP", kind="account", conditions=rule)
    Segment.objects.create(slug="nobody", name="Nobody", kind="account", conditions=rule)
    admins = Segment.objects.create(slug="admins", name="Admins", kind="user", conditions=rule)
    AccountMembership.objects.create(segment=vip, account=accounts["big"], since=AS_OF)
    AccountMembership.objects.create(segment=vip, account=accounts["tie"], since=AS_OF)
    UserMembership.objects.create(segment=admins, user=users["u1"], since=AS_OF)
