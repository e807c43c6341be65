"""A small, known world for the CSM page tests: accounts, activity, segments and a fake health metric."""

import datetime as dt
from decimal import Decimal

from django.db.models import Case, CharField, IntegerField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.extensions import AccountMetric, account_extensions
from accounts.services import account_last_activity_sync
from segments.models import Segment
from segments.services import segment_refresh
from tests.factories import AccountFactory, CustomAttributeFactory, EventFactory, StaffFactory, TeamFactory


def segment_make(slug: str, conditions: dict, *, order: int = 0, visible: bool = True, refresh: bool = True,
                 name: str | None = None, kind: str = "account", **fields) -> Segment:
    """Create a segment and (by default) refresh it now."""
    segment = Segment.objects.create(slug=slug, name=name or slug.replace("-", " ").title(), order=order,
                                     visible=visible, conditions=conditions, kind=kind, **fields)
    if refresh:
        segment_refresh(segment=segment)
        segment.refresh_from_db()
    return segment


def rule(field: str, op: str, value=None, **params) -> dict:
    """A one-rule condition document."""
    node = {"field": field, "op": op}
    if value is not None:
        node["value"] = value
    if params:
        node["params"] = params
    return {"match": "all", "rules": [node]}


def fake_health_score(*, as_of):
    """Health score = MRR / 100 capped at 100 (deterministic, computed in SQL)."""
    return Case(When(mrr__gte=10000, then=Value(100)), When(mrr__isnull=True, then=Value(None)),
                default=Cast("mrr", IntegerField()) / Value(100), output_field=IntegerField())


def fake_health_label(*, as_of):
    return Case(When(mrr__gte=5000, then=Value("good")), When(mrr__gte=1000, then=Value("average")),
                When(mrr__isnull=False, then=Value("poor")), default=Value(""), output_field=CharField())


class FakeHealth:
    """Replace the health metrics of accounts.extensions by fake ones for one test (restored after)."""

    KEYS = ("health_score", "health_label")

    def __enter__(self):
        self.saved = [account_extensions.metric(k) for k in self.KEYS]
        for key in self.KEYS:
            account_extensions.unregister(key)
        account_extensions.metric_register(AccountMetric("health_score", "Health", fake_health_score))
        account_extensions.metric_register(AccountMetric("health_label", "Health label", fake_health_label,
                                                         choices=(("good", "Good"), ("average", "Average"),
                                                                  ("poor", "Poor"))))
        return self

    def __exit__(self, *exc):
        for key, metric in zip(self.KEYS, self.saved, strict=True):
            account_extensions.unregister(key)
            if metric is not None:
                account_extensions.metric_register(metric)
        return False


def world() -> dict:
    """Six accounts with known attributes and activity, two CSMs in two teams, three segments."""
    now = timezone.now()
    enterprise, smb = TeamFactory(name="Enterprise"), TeamFactory(name="SMB")
    ada = StaffFactory(username="ada", first_name="Ada", last_name="Okafor", role="csm", team=enterprise)
    grace = StaffFactory(username="grace", first_name="Grace", last_name="Kim", role="csm", team=smb)
    CustomAttributeFactory(key="tier", label="Service tier", type="choice", choices=["strategic", "core", "tech_touch"])
    today = now.date()
    specs = [
        ("A-1", "Atlas Robotics", "atlas.example", "enterprise", "nurturing", "42000", ada, "EMEA", "Software", 20,
         "strategic"),
        ("A-2", "Blue Labs", "bluelabs.example", "enterprise", "renewal", "12000", ada, "EMEA", "Retail", 200, "core"),
        ("A-3", "Cedar Foods", "cedar.example", "business", "onboarding", "3000", grace, "APAC", "Retail", 5, "core"),
        ("A-4", "Delta Media", "delta.example", "business", "nurturing", "2500", grace, "North America", "Media", 400,
         None),
        ("A-5", "Echo Works", "echo.example", "starter", "trial", "90", None, "EMEA", "Software", None, None),
        ("A-6", "=HYPERLINK(1)", "formula.example", "starter", "churned", None, grace, "", "", 10, "tech_touch"),
    ]
    accounts = {}
    for ext, name, domain, plan, stage, mrr, csm, region, industry, renewal_in, tier in specs:
        accounts[ext] = AccountFactory(
            external_id=ext, name=name, domain=domain, plan=plan, lifecycle_stage=stage,
            mrr=Decimal(mrr) if mrr else None, csm=csm, region=region, industry=industry,
            renewal_date=today + dt.timedelta(days=renewal_in) if renewal_in is not None else None,
            custom={"tier": tier} if tier else {},
        )
    # Activity: A-1 active today, A-2 10 days ago, A-3 40 days ago, others never.
    for ext, days_ago in (("A-1", 0), ("A-2", 10), ("A-3", 40)):
        EventFactory(account=accounts[ext], occurred_at=now - dt.timedelta(days=days_ago, hours=1))
    account_last_activity_sync()  # as the imports do: the pages read the stored last activity
    segments = {
        "big": segment_make("big", rule("mrr", "gte", 10000), order=1, name="Big accounts"),
        "emea": segment_make("emea", rule("region", "eq", "EMEA"), order=2, name="EMEA"),
        "hidden": segment_make("hidden", rule("plan", "eq", "starter"), order=0, visible=False, name="Starters"),
    }
    return {"now": now, "ada": ada, "grace": grace, "accounts": accounts, "segments": segments,
            "teams": {"Enterprise": enterprise, "SMB": smb}}
