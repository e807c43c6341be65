"""Demo data: realistic, reproducible customer data for `manage.py seed_demo`.

Reproducible: every value comes from a `random.Random` seeded by (seed,
account number) and from one reference day, the *anchor*; nothing reads the
clock or the global `random`. The same seed and anchor give identical rows
(primary keys aside), and account N is the same whatever the total count.

Scalable: accounts are generated in chunks and written with `bulk_create`;
events (the bulk of the rows) are written as plain tuples with multi-row
INSERTs (`_rows_insert`), so memory stays bounded and 100,000 accounts take
minutes (figures in docs/performance.md).

Higher apps add their own demo objects (starter segments, health configs...)
by registering a function with `demo_extension_register` in their
`AppConfig.ready()`; `seed_demo` runs them after `demo_seed`. This module
never imports them (DESIGN.md: accounts is the lowest app).
"""

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connections, reset_queries, router, transaction

from accounts.models import (
    Account,
    CustomAttributeDefinition,
    EndUser,
    Event,
    Role,
    Subscription,
    SupportTicket,
    Team,
    Touchpoint,
)
from accounts.services import account_last_activity_sync, staff_set_role

DEMO_STAFF_PASSWORD = "csbox-demo"  # noqa: S105 - the documented password of the local demo staff
DEFAULT_ACCOUNTS = 2000
DEFAULT_SEED = 42
EVENT_DAYS = 90
CHUNK_ACCOUNTS = 500
EVENT_FLUSH_ROWS = 20_000
BULK_BATCH = 1000

# (username, first name, last name, role, team): fixed, documented in docs/deployment.md.
DEMO_STAFF = (
    ("maria", "Maria", "Garcia", Role.OPS, None),
    ("tom", "Tom", "Becker", Role.OPS, None),
    ("ada", "Ada", "Okafor", Role.CSM, "Enterprise"),
    ("ben", "Ben", "Carter", Role.CSM, "Enterprise"),
    ("chloe", "Chloe", "Martin", Role.CSM, "Enterprise"),
    ("dev", "Dev", "Patel", Role.CSM, "Mid-Market"),
    ("emma", "Emma", "Schulz", Role.CSM, "Mid-Market"),
    ("felix", "Felix", "Wong", Role.CSM, "Mid-Market"),
    ("grace", "Grace", "Kim", Role.CSM, "SMB"),
    ("hugo", "Hugo", "Silva", Role.CSM, "SMB"),
    ("victor", "Victor", "Lee", Role.VIEWER, None),
)
TEAM_BY_PLAN = {"enterprise": "Enterprise", "business": "Mid-Market", "starter": "SMB"}

DEMO_CUSTOM_ATTRIBUTES = (
    ("nps", "NPS", "number", []),
    ("onboarding_owner", "Onboarding owner", "text", []),
    ("tier", "Service tier", "choice", ["strategic", "core", "tech_touch"]),
    ("kickoff_date", "Kickoff date", "date", []),
    ("champion", "Has a champion", "boolean", []),
)

INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Retail", "Manufacturing",
    "Education", "Media", "Logistics", "Real Estate", "Non-profit",
)
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS = (45, 32, 16, 7)
USE_CASES = (
    "Customer onboarding", "Revenue reporting", "Support analytics",
    "Product analytics", "Marketing attribution", "Field operations",
)
ONBOARDING_OWNERS = ("Priya Shah", "Marco Rossi", "Lena Vogel", "Sam Taylor")
NAME_HEADS = (
    "Blue", "North", "Bright", "Silver", "Red", "Green", "Swift", "Clear", "Iron", "Summit",
    "Harbor", "Pine", "Cedar", "Atlas", "Nova", "Quantum", "Lumen", "Vertex", "Orbit", "Delta",
)
NAME_MIDS = ("", "", "", "field", "stone", "wave", "point", "bridge", "gate", "light", "line", "peak")
NAME_TAILS = (
    "Labs", "Analytics", "Systems", "Health", "Logistics", "Foods", "Bank", "Media", "Retail", "Works",
    "Partners", "Cloud", "Energy", "Robotics", "Learning", "Capital", "Studios", "Networks", "Goods", "Motors",
)
FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Jamie", "Riley", "Casey", "Avery", "Quinn", "Noah", "Mia",
    "Liam", "Emma", "Olivia", "Lucas", "Sofia", "Mateo", "Aisha", "Yuki", "Ravi", "Fatima", "Chen", "Ines",
)
LAST_NAMES = (
    "Smith", "Jones", "Brown", "Miller", "Davis", "Lopez", "Wilson", "Anderson", "Thomas", "Moore",
    "Martin", "Lee", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Nakamura",
    "Novak", "Kowalski", "Haddad",
)
# Features each plan includes: enterprise accounts use more of the product.
FEATURES_BY_PLAN = {
    "starter": ("reports", "dashboards", "exports"),
    "business": ("reports", "dashboards", "exports", "data_import", "integrations"),
    "enterprise": ("reports", "dashboards", "exports", "data_import", "integrations", "api"),
}
# Plan -> (weight, seat range, list price per seat per month).
PLANS = {
    "starter": (55, (1, 10), 25),
    "business": (32, (5, 60), 60),
    "enterprise": (13, (30, 400), 150),
}
# Trajectory of usage over the 90 days, weights for paying accounts.
TRAJECTORIES = ("growing", "flat", "declining", "dormant")
TRAJECTORY_WEIGHTS = (25, 48, 15, 12)
# End-user engagement levels: (share, chance to be active on a weekday).
USER_LEVELS = ((15, 0.55), (30, 0.25), (30, 0.06), (25, 0.0))
TOUCHPOINT_NOTES = {
    "qbr": ("Quarterly business review: adoption and roadmap", "QBR with the executive sponsor", ""),
    "meeting": ("Onboarding working session", "Admin training", "Renewal planning", ""),
    "call": ("Check-in call", "Escalation follow-up", "Pricing questions", ""),
    "email": ("Sent the monthly usage report", "Shared release notes", "Followed up on open ticket", ""),
}


@dataclass
class DemoSummary:
    """What `demo_seed` wrote: counts per kind of row, and the seed and anchor used."""

    seed: int
    anchor: dt.date
    staff: int = 0
    custom_attributes: int = 0
    accounts: int = 0
    subscriptions: int = 0
    end_users: int = 0
    events: int = 0
    touchpoints: int = 0
    tickets: int = 0
    extensions: dict[str, int] = field(default_factory=dict)


# Functions of higher apps that add demo objects: called as f(seed=..., anchor=...)
# after demo_seed, each may return counts ({"segments": 8}) for the summary.
DemoExtension = Callable[..., Mapping[str, int] | None]
DEMO_EXTENSIONS: list[DemoExtension] = []


def demo_extension_register(func: DemoExtension) -> DemoExtension:
    """Register a function that adds demo objects after `demo_seed` (usable as a decorator)."""
    if func in DEMO_EXTENSIONS:
        raise ValueError(f"{func.__module__}.{func.__qualname__} is already a demo extension")
    DEMO_EXTENSIONS.append(func)
    return func


def demo_extensions_run(*, seed: int, anchor: dt.date) -> dict[str, int]:
    """Run every registered demo extension in order and merge the counts they return."""
    counts: dict[str, int] = {}
    for func in DEMO_EXTENSIONS:
        counts.update(func(seed=seed, anchor=anchor) or {})
    return counts


def demo_default_anchor() -> dt.date:
    """Return today's date in UTC: demo activity ends the day before, so the demo looks live."""
    from django.utils import timezone

    return timezone.now().astimezone(dt.UTC).date()


def customer_data_delete(*, batch_size: int = 2000) -> int:
    """Delete every account and what hangs off it (not staff, custom attributes or segments).

    Deletes in batches of primary keys so that memory stays bounded with
    millions of events; returns the number of accounts deleted.
    """
    deleted_accounts = 0
    for model in (Event, Touchpoint, SupportTicket, Subscription, EndUser, Account):
        while pks := list(model.objects.order_by().values_list("pk", flat=True)[:batch_size]):
            model.objects.filter(pk__in=pks).delete()
            if model is Account:
                deleted_accounts += len(pks)
    return deleted_accounts


def demo_seed(
    *,
    accounts: int,
    seed: int,
    anchor: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Write demo staff, custom attributes and `accounts` accounts with their activity.

    Activity (events, touchpoints, tickets) lies before `anchor` (00:00 UTC);
    renewals lie after it. `progress(done, total)` is called after each chunk.
    The database should hold no accounts (external ids would collide).
    """
    if accounts < 0:
        raise ValueError("accounts must be zero or more")
    summary = DemoSummary(seed=seed, anchor=anchor)
    with transaction.atomic():
        csm_pools = _staff_ensure()
        summary.staff = len(DEMO_STAFF)
        definitions = _custom_attributes_ensure()
        summary.custom_attributes = len(definitions)
        slots = _TimeSlots(anchor=anchor)
        for start in range(1, accounts + 1, CHUNK_ACCOUNTS):
            numbers = range(start, min(start + CHUNK_ACCOUNTS, accounts + 1))
            drafts = [_account_draft(seed=seed, number=n, anchor=anchor, csm_pools=csm_pools) for n in numbers]
            _chunk_write(drafts=drafts, anchor=anchor, slots=slots, summary=summary)
            if settings.DEBUG:
                # DEBUG keeps every query's SQL: 100,000 accounts' INSERTs would hold ~½ GB.
                reset_queries()
            if progress:
                progress(numbers[-1], accounts)
    return summary


def _staff_ensure() -> dict[str, list]:
    """Create the demo staff and teams (existing usernames are kept); return CSMs by plan."""
    User = get_user_model()
    password = make_password(DEMO_STAFF_PASSWORD)  # hashed once: hashing is slow on purpose
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAM_BY_PLAN.values()}
    by_team: dict[str, list] = {name: [] for name in teams}
    for username, first, last, role, team_name in DEMO_STAFF:
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first, "last_name": last, "email": f"{username}@csbox.example", "password": password
            },
        )
        staff_set_role(user=user, role=role, team=teams.get(team_name))
        if team_name:
            by_team[team_name].append(user)
    return {plan: by_team[team] for plan, team in TEAM_BY_PLAN.items()}


def _custom_attributes_ensure() -> list[CustomAttributeDefinition]:
    """Create or update the demo's custom attribute definitions (by key)."""
    return [
        CustomAttributeDefinition.objects.update_or_create(
            key=key, defaults={"label": label, "type": type_, "choices": choices}
        )[0]
        for key, label, type_, choices in DEMO_CUSTOM_ATTRIBUTES
    ]


@dataclass
class _Draft:
    """One account to write, with the hidden traits that shape its activity."""

    number: int
    rng: random.Random
    account: Account
    trajectory: str
    seats: int
    users: int
    features: tuple[str, ...]
    dormant_after: int = 0  # dormant accounts: days ago of their last possible activity


def _account_draft(*, seed: int, number: int, anchor: dt.date, csm_pools: dict[str, list]) -> _Draft:
    """Draw one account: plan, size, money, dates, stage, team and spotty firmographics."""
    # A string seed is hashed with SHA-512: stable across runs and Python processes.
    rng = random.Random(f"csbox-demo:{seed}:{number}")
    plan = rng.choices(list(PLANS), weights=[p[0] for p in PLANS.values()])[0]
    _, (low, high), price = PLANS[plan]
    seats = round(math.exp(rng.uniform(math.log(low), math.log(high))))
    stage, since, renewal = _lifecycle(rng=rng, anchor=anchor)
    trajectory = _trajectory(rng=rng, stage=stage)
    mrr = _mrr(rng=rng, stage=stage, seats=seats, price=price)
    name = f"{rng.choice(NAME_HEADS)}{rng.choice(NAME_MIDS)} {rng.choice(NAME_TAILS)}"
    pool = csm_pools[plan]
    unassigned = 0.3 if plan == "starter" else 0.03
    account = Account(
        external_id=f"A-{number:06d}",
        name=name,
        domain="" if rng.random() < 0.04 else f"{name.lower().replace(' ', '')}.example",
        industry="" if rng.random() < 0.06 else rng.choice(INDUSTRIES),
        region="" if rng.random() < 0.03 else rng.choices(REGIONS, weights=REGION_WEIGHTS)[0],
        lifecycle_stage=stage,
        plan=plan,
        licenses=None if rng.random() < 0.03 else seats,
        employees=None if rng.random() < 0.15 else _employees(rng=rng, plan=plan),
        mrr=mrr,
        potential_arr=_potential_arr(rng=rng, mrr=mrr, plan=plan),
        renewal_date=renewal,
        customer_since=since,
        csm=None if not pool or rng.random() < unassigned else rng.choice(pool),
        referenceable=None if rng.random() < 0.45 else (trajectory == "growing" and rng.random() < 0.6),
        use_case="" if rng.random() < 0.35 else rng.choice(USE_CASES),
    )
    utilisation = {"starter": (0.5, 1.0), "business": (0.3, 0.9), "enterprise": (0.2, 0.6)}[plan]
    users = max(1, min(60, round(seats * rng.uniform(*utilisation))))
    draft = _Draft(number, rng, account, trajectory, seats, users, FEATURES_BY_PLAN[plan])
    draft.dormant_after = rng.randint(35, 80)
    account.custom = _custom_values(draft=draft, anchor=anchor)
    return draft


def _lifecycle(*, rng: random.Random, anchor: dt.date) -> tuple[str, dt.date | None, dt.date | None]:
    """Draw (stage, customer_since, renewal_date); renewals are anniversaries of customer_since."""
    roll = rng.random()
    if roll < 0.05:
        return "trial", None, None
    # About one customer in eight signed in the last quarter; the rest over six years.
    age = rng.randint(7, 90) if rng.random() < 0.12 else round(math.exp(rng.uniform(math.log(91), math.log(2200))))
    since = anchor - dt.timedelta(days=age)
    renewal = _anniversary_after(since=since, day=anchor)
    if roll < 0.13:  # churned: the last renewal was missed
        return "churned", since, _add_years(renewal, -1) if rng.random() < 0.85 else None
    if (anchor - since).days <= 90:
        stage = "onboarding"
    elif (renewal - anchor).days <= 90:
        stage = "renewal"
    else:
        stage = "nurturing"
    # CRMs are never quite up to date: a few stages are stale or missing.
    if rng.random() < 0.04:
        stage = rng.choice(["", "onboarding", "nurturing"])
    return stage, since, renewal


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _anniversary_after(*, since: dt.date, day: dt.date) -> dt.date:
    """Return the first anniversary of `since` strictly after `day`."""
    candidate = _add_years(since, day.year - since.year)
    while candidate <= day:
        candidate = _add_years(candidate, 1)
    return candidate


def _trajectory(*, rng: random.Random, stage: str) -> str:
    if stage == "churned":
        return rng.choices(["dormant", "declining"], weights=[70, 30])[0]
    if stage == "trial":
        return rng.choices(["growing", "flat", "never"], weights=[40, 30, 30])[0]
    return rng.choices(TRAJECTORIES, weights=TRAJECTORY_WEIGHTS)[0]


def _mrr(*, rng: random.Random, stage: str, seats: int, price: int) -> Decimal | None:
    if stage == "trial" or rng.random() < 0.02:
        return None
    if stage == "churned" and rng.random() < 0.7:
        return Decimal("0.00")
    discount = rng.choice([1.0, 1.0, 0.95, 0.9, 0.85, 0.8, 0.7])
    return Decimal(seats * price * discount).quantize(Decimal("0.01"))


def _potential_arr(*, rng: random.Random, mrr: Decimal | None, plan: str) -> Decimal | None:
    if mrr is None or rng.random() < 0.35:
        return None
    upside = rng.uniform(1.0, 4.0 if plan != "enterprise" else 2.5)
    return Decimal(float(mrr) * 12 * upside).quantize(Decimal("100"))


def _employees(*, rng: random.Random, plan: str) -> int:
    low, high = {"starter": (5, 200), "business": (50, 2000), "enterprise": (1000, 100_000)}[plan]
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


def _custom_values(*, draft: _Draft, anchor: dt.date) -> dict:
    """Draw the custom attribute values, each missing now and then as in real CRMs."""
    rng, account = draft.rng, draft.account
    values: dict = {}
    if rng.random() < 0.55:
        mood = {"growing": 2, "declining": -3, "dormant": -2}.get(draft.trajectory, 0)
        values["nps"] = max(0, min(10, round(rng.gauss(7 + mood, 2))))
    if account.customer_since and rng.random() < 0.75:
        values["onboarding_owner"] = rng.choice(ONBOARDING_OWNERS)
    if rng.random() < 0.9:
        mrr = account.mrr or 0
        values["tier"] = "strategic" if mrr >= 10_000 else "core" if mrr >= 1_000 else "tech_touch"
    if account.customer_since and rng.random() < 0.8:
        kickoff = account.customer_since + dt.timedelta(days=rng.randint(3, 21))
        if kickoff < anchor:
            values["kickoff_date"] = kickoff.isoformat()
    if rng.random() < 0.65:
        values["champion"] = rng.random() < (0.8 if draft.trajectory == "growing" else 0.45)
    return values


def _chunk_write(*, drafts: list[_Draft], anchor: dt.date, slots: "_TimeSlots", summary: DemoSummary) -> None:
    """Write one chunk of accounts and everything that hangs off them."""
    Account.objects.bulk_create([d.account for d in drafts], batch_size=BULK_BATCH)
    subscriptions = [s for d in drafts for s in _subscriptions(draft=d, anchor=anchor)]
    Subscription.objects.bulk_create(subscriptions, batch_size=BULK_BATCH)
    users_by_draft = [_end_users(draft=d, anchor=anchor) for d in drafts]
    EndUser.objects.bulk_create([u.user for users in users_by_draft for u in users], batch_size=BULK_BATCH)
    buffer: list[tuple] = []
    for draft, users in zip(drafts, users_by_draft, strict=True):
        buffer.extend(_events(draft=draft, users=users, slots=slots))
        if len(buffer) >= EVENT_FLUSH_ROWS:
            summary.events += _rows_insert(model=Event, fields=EVENT_FIELDS, rows=buffer)
            buffer = []
    summary.events += _rows_insert(model=Event, fields=EVENT_FIELDS, rows=buffer)
    account_last_activity_sync(account_ids=[d.account.pk for d in drafts])
    touchpoints = [t for d in drafts for t in _touchpoints(draft=d, anchor=anchor)]
    Touchpoint.objects.bulk_create(touchpoints, batch_size=BULK_BATCH)
    tickets = [t for d in drafts for t in _tickets(draft=d, anchor=anchor)]
    SupportTicket.objects.bulk_create(tickets, batch_size=BULK_BATCH)
    summary.accounts += len(drafts)
    summary.subscriptions += len(subscriptions)
    summary.end_users += sum(len(users) for users in users_by_draft)
    summary.touchpoints += len(touchpoints)
    summary.tickets += len(tickets)


def _subscriptions(*, draft: _Draft, anchor: dt.date) -> list[Subscription]:
    """The account's current subscription, and for some an earlier one they upgraded from."""
    rng, account = draft.rng, draft.account
    ext = f"S-{draft.number:06d}"
    if account.lifecycle_stage == "trial":
        start = anchor - dt.timedelta(days=rng.randint(0, 29))
        return [Subscription(
            external_id=f"{ext}-1", account=account, plan=account.plan or "business", status="trial",
            trial_start_date=start, end_date=start + dt.timedelta(days=30),
        )]
    since = account.customer_since
    end = account.renewal_date or _anniversary_after(since=since, day=anchor)
    start = max(since, _add_years(end, -1))
    status = rng.choice(["cancelled", "expired"]) if account.lifecycle_stage == "churned" else "active"
    weights = {"enterprise": (5, 15, 80), "business": (30, 20, 50), "starter": (80, 10, 10)}[account.plan]
    current = Subscription(
        external_id=f"{ext}-2", account=account, plan=account.plan, status=status,
        billing_period="" if rng.random() < 0.03 else rng.choices(["monthly", "quarterly", "annual"], weights)[0],
        mrr=account.mrr, start_date=start, end_date=end,
        trial_start_date=since - dt.timedelta(days=rng.randint(14, 30)) if rng.random() < 0.4 else None,
    )
    if start <= since or rng.random() > 0.25:
        return [current]
    lower = {"enterprise": "business", "business": "starter", "starter": "starter"}[account.plan]
    earlier = Subscription(
        external_id=f"{ext}-1", account=account, plan=lower, status="expired", billing_period="monthly",
        mrr=((account.mrr or Decimal(0)) / 2).quantize(Decimal("0.01")),
        start_date=since, end_date=start - dt.timedelta(days=1),
    )
    return [earlier, current]


class _DraftUser(NamedTuple):
    """An end user to write, with its chance to be active on a weekday and its age in days."""

    user: EndUser
    level: float
    days_ago: int


def _end_users(*, draft: _Draft, anchor: dt.date) -> list[_DraftUser]:
    """Draw the account's end users with roles, each with a weekday activity chance."""
    rng, account = draft.rng, draft.account
    anchor_dt = dt.datetime.combine(anchor, dt.time(), tzinfo=dt.UTC)
    since = account.customer_since or anchor - dt.timedelta(days=rng.randint(1, 29))
    first_day = max((anchor - since).days, 1)
    domain = account.domain or "customer.example"
    users, emails = [], set()
    for i in range(1, draft.users + 1):
        role = _user_role(rng=rng, position=i, total=draft.users)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}@{domain}".lower()
        if email in emails:
            email = f"{first}.{last}{i}@{domain}".lower()
        emails.add(email)
        # Growing accounts keep adding people during the 90 days.
        latest = min(first_day, EVENT_DAYS) if draft.trajectory == "growing" else first_day
        days_ago = rng.randint(1, max(latest, 1)) if i > 1 else first_day
        created = anchor_dt - dt.timedelta(days=days_ago) + dt.timedelta(seconds=rng.randint(0, 86_399))
        level = rng.choices([lv[1] for lv in USER_LEVELS], weights=[lv[0] for lv in USER_LEVELS])[0]
        if role in ("admin", "co_admin"):
            level = max(level, 0.25)
        user = EndUser(
            external_id=f"U-{draft.number:06d}-{i:02d}", account=account, role=role,
            email="" if rng.random() < 0.02 else email, name=f"{first} {last}",
            created_at=None if rng.random() < 0.03 else created,
        )
        users.append(_DraftUser(user, level, days_ago))
    return users


def _user_role(*, rng: random.Random, position: int, total: int) -> str:
    if position == 1:
        return "admin"
    if rng.random() < 0.02:
        return ""
    if position == 2 and total >= 4:
        return "co_admin"
    if position in (3, 4) and total >= 8:
        return "executive"
    return "user"


class _TimeSlots:
    """Event datetimes, already adapted for the database: day (days ago) x 5-minute slot.

    Adapting a datetime costs microseconds; millions of events reuse these
    90 x 192 precomputed values instead.
    """

    SLOTS = 192  # 06:00 to 21:55 UTC

    def __init__(self, *, anchor: dt.date):
        ops = connections[router.db_for_write(Event)].ops
        anchor_dt = dt.datetime.combine(anchor, dt.time(), tzinfo=dt.UTC)
        self.weekend = [(anchor - dt.timedelta(days=d)).weekday() >= 5 for d in range(EVENT_DAYS + 1)]
        self.values = [
            [
                ops.adapt_datetimefield_value(anchor_dt - dt.timedelta(days=d) + dt.timedelta(minutes=360 + 5 * s))
                for s in range(self.SLOTS)
            ]
            for d in range(EVENT_DAYS + 1)
        ]


EVENT_FIELDS = ("account", "user", "name", "occurred_at", "quantity")


def _day_factors(draft: _Draft, slots: _TimeSlots) -> list[float]:
    """Activity multiplier per day (index = days ago, 1..90) for the account's trajectory."""
    factors = [0.0] * (EVENT_DAYS + 1)
    for d in range(1, EVENT_DAYS + 1):
        if draft.trajectory == "growing":
            f = 0.3 + 0.7 * (EVENT_DAYS - d) / (EVENT_DAYS - 1)
        elif draft.trajectory == "declining":
            f = 1.0 if d > 30 else 0.2  # a sharp drop in the last 30 days
        elif draft.trajectory == "dormant":
            f = 1.0 if d > draft.dormant_after else 0.0
        elif draft.trajectory == "never":
            f = 0.0
        else:
            f = 1.0
        factors[d] = f * (0.15 if slots.weekend[d] else 1.0)
    return factors


def _events(*, draft: _Draft, users: list[_DraftUser], slots: _TimeSlots) -> Iterator[tuple]:
    """Yield event rows: per active user-day one login and usually one or two feature rows."""
    rng, account_id = draft.rng, draft.account.pk
    rnd, randrange, choice = rng.random, rng.randrange, rng.choice
    factors = _day_factors(draft, slots)
    features = draft.features
    for user, level, days_ago in users:
        if level == 0.0:
            continue
        # No activity before the user existed: from the day after creation.
        for d in range(min(days_ago - 1, EVENT_DAYS), 0, -1):
            if rnd() >= level * factors[d]:
                continue
            day, slot = slots.values[d], randrange(_TimeSlots.SLOTS - 12)
            r = rnd()
            yield (account_id, user.pk, "login", day[slot], 1 if r < 0.6 else 2 if r < 0.85 else randrange(3, 6))
            if rnd() < 0.6:
                yield (account_id, user.pk, choice(features), day[slot + 3], randrange(1, 13))
            if rnd() < 0.15:
                yield (account_id, user.pk, choice(features), day[slot + 9], randrange(1, 13))
    if "api" in features and draft.number % 2 == 0:
        # An integration calls the API without an end user (spec: events may have none).
        for d in range(EVENT_DAYS, 0, -1):
            if rnd() < 0.9 * factors[d]:
                yield (account_id, None, "api", slots.values[d][randrange(_TimeSlots.SLOTS)], randrange(20, 800))


def _touchpoints(*, draft: _Draft, anchor: dt.date) -> list[Touchpoint]:
    """QBRs each quarter for larger accounts, meetings, calls and emails over the last 180 days."""
    rng, account = draft.rng, draft.account
    plan = account.plan
    per_180_days = {"enterprise": (6, 9, 20), "business": (2, 3, 8), "starter": (0, 1, 3)}[plan]
    qbr_chance = {"enterprise": 0.75, "business": 0.35, "starter": 0.0}[plan]
    # Neglected accounts: dormant ones had no contact for the last 45 days.
    quiet = 45 if draft.trajectory == "dormant" else 0
    quarters = 4 if plan == "enterprise" else 2
    days = [("qbr", q * 91 + rng.randint(1, 90)) for q in range(quarters) if rng.random() < qbr_chance]
    for kind, mean in zip(("meeting", "call", "email"), per_180_days, strict=True):
        count = round(rng.uniform(0, 2 * mean))
        days.extend((kind, rng.randint(1, 180)) for _ in range(count))
    anchor_dt = dt.datetime.combine(anchor, dt.time(), tzinfo=dt.UTC)
    rows = []
    for k, (kind, days_ago) in enumerate(days, start=1):
        if days_ago <= quiet:
            continue
        rows.append(Touchpoint(
            external_id=f"T-{draft.number:06d}-{k:03d}", account=account, kind=kind,
            occurred_at=anchor_dt - dt.timedelta(days=days_ago) + dt.timedelta(minutes=rng.randrange(480, 1080)),
            note=rng.choice(TOUCHPOINT_NOTES[kind]),
        ))
    return rows


def _tickets(*, draft: _Draft, anchor: dt.date) -> list[SupportTicket]:
    """Support tickets of the last 180 days: recent ones often open, older ones closed."""
    rng = draft.rng
    mean = (0.5 + draft.users * 0.12) * (1.5 if draft.trajectory == "declining" else 1.0)
    count = min(30, int(rng.expovariate(1 / mean)))
    anchor_dt = dt.datetime.combine(anchor, dt.time(), tzinfo=dt.UTC)
    rows = []
    for k in range(1, count + 1):
        opened = anchor_dt - dt.timedelta(minutes=rng.randint(30, 180 * 1440))
        closed = opened + dt.timedelta(minutes=round(rng.expovariate(1 / (2 * 1440))))
        is_open = closed >= anchor_dt or rng.random() < 0.03
        rows.append(SupportTicket(
            external_id=f"K-{draft.number:06d}-{k:03d}", account=draft.account, opened_at=opened,
            status="open" if is_open else "closed", closed_at=None if is_open else closed,
            priority=rng.choices(["low", "normal", "high", "urgent", ""], weights=[30, 45, 18, 5, 2])[0],
        ))
    return rows


def _rows_insert(*, model, fields: Sequence[str], rows: list[tuple]) -> int:
    """Insert plain value tuples (already adapted) in bulk; return the row count.

    `bulk_create` without model instances, for events (the bulk of the demo):
    multi-row INSERTs on SQLite (78k rows/s vs 25k with bulk_create), COPY on
    PostgreSQL (psycopg re-parses every long INSERT's placeholders on the
    client, which made 100,000 accounts take over an hour). Table and column
    names come from the model's metadata, quoted by the backend; values are
    never part of the SQL.
    """
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        batch = max(1, min(BULK_BATCH, _max_query_params(connection) // len(fields)))
        head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - names from _meta
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            cursor.execute(head + ", ".join([placeholders] * len(part)), [value for row in part for value in row])
    return len(rows)


def _max_query_params(connection) -> int:
    """Parameters one statement may carry on this backend."""
    if connection.vendor == "sqlite":
        import sqlite3

        # Django assumes 999; SQLite >= 3.32 allows 32766 and reports its limit.
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65_535
