"""seed_demo: reproducible, realistic, valid demo data written in bulk."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q, Sum
from django.test.utils import CaptureQueriesContext

from accounts import demo
from accounts.custom_attributes import custom_value_errors
from accounts.demo import DEMO_STAFF, DEMO_STAFF_PASSWORD, customer_data_delete, demo_seed
from accounts.models import Account, CustomAttributeDefinition, EndUser, Event, Subscription, SupportTicket, Touchpoint

pytestmark = pytest.mark.django_db

ANCHOR = dt.date(2026, 6, 1)
ANCHOR_DT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

ROWS = {
    Account: ("external_id", "name", "domain", "industry", "region", "lifecycle_stage", "plan", "licenses",
              "employees", "mrr", "potential_arr", "renewal_date", "customer_since", "csm__username",
              "referenceable", "use_case", "custom"),
    Subscription: ("external_id", "account__external_id", "plan", "status", "billing_period", "mrr",
                   "trial_start_date", "start_date", "end_date"),
    EndUser: ("external_id", "account__external_id", "email", "name", "role", "created_at"),
    Event: ("account__external_id", "user__external_id", "name", "occurred_at", "quantity"),
    Touchpoint: ("external_id", "account__external_id", "kind", "occurred_at", "note"),
    SupportTicket: ("external_id", "account__external_id", "opened_at", "status", "closed_at", "priority"),
}


def _digest(accounts: Q | None = None) -> str:
    """A hash of every demo row by its natural keys (primary keys differ between runs)."""
    accounts = accounts or Q()
    digest = hashlib.sha256()
    for model, fields in ROWS.items():
        qs = model.objects.filter(accounts if model is Account else Q(account__in=Account.objects.filter(accounts)))
        for row in qs.order_by(*fields[:4]).values_list(*fields):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_same_seed_and_anchor_give_identical_data():
    demo_seed(accounts=25, seed=7, anchor=ANCHOR)
    first = _digest()
    customer_data_delete()
    assert not Account.objects.exists() and not Event.objects.exists()
    demo_seed(accounts=25, seed=7, anchor=ANCHOR)
    assert _digest() == first


def test_another_seed_or_anchor_gives_other_data():
    demo_seed(accounts=25, seed=7, anchor=ANCHOR)
    first = _digest()
    customer_data_delete()
    demo_seed(accounts=25, seed=8, anchor=ANCHOR)
    second = _digest()
    customer_data_delete()
    demo_seed(accounts=25, seed=7, anchor=ANCHOR + dt.timedelta(days=1))
    assert len({first, second, _digest()}) == 3


def test_an_account_does_not_depend_on_how_many_are_seeded():
    first_ten = Q(external_id__lte="A-000010")
    demo_seed(accounts=10, seed=3, anchor=ANCHOR)
    alone = _digest(first_ten)
    customer_data_delete()
    demo_seed(accounts=40, seed=3, anchor=ANCHOR)
    assert _digest(first_ten) == alone


def test_summary_counts_match_the_rows_written():
    summary = demo_seed(accounts=30, seed=1, anchor=ANCHOR)
    assert (summary.accounts, summary.subscriptions, summary.end_users) == (
        Account.objects.count(), Subscription.objects.count(), EndUser.objects.count()
    )
    assert (summary.events, summary.touchpoints, summary.tickets) == (
        Event.objects.count(), Touchpoint.objects.count(), SupportTicket.objects.count()
    )
    assert summary.accounts == 30 and summary.custom_attributes == 5 and summary.staff == len(DEMO_STAFF)


@pytest.fixture
def seeded(db):
    """150 accounts: enough for every plan, stage and trajectory to appear."""
    return demo_seed(accounts=150, seed=42, anchor=ANCHOR)


def test_mrr_fits_each_plan_and_every_plan_appears(seeded):
    ranges = {p["plan"]: p for p in Account.objects.filter(mrr__gt=0).values("plan").annotate(lo=Min("mrr"),
                                                                                                hi=Max("mrr"))}
    assert set(ranges) == {"starter", "business", "enterprise"}
    assert ranges["starter"]["hi"] <= 250 < ranges["business"]["hi"] <= 3600 < ranges["enterprise"]["hi"]
    assert ranges["enterprise"]["lo"] >= 30 * 150 * 0.7


def test_end_users_number_one_to_sixty_per_account_with_roles(seeded):
    counts = Account.objects.annotate(n=Count("end_users")).aggregate(lo=Min("n"), hi=Max("n"))
    assert counts["lo"] >= 1 and counts["hi"] <= 60
    assert Account.objects.filter(end_users__role="admin").distinct().count() == 150
    assert set(EndUser.objects.values_list("role", flat=True)) >= {"admin", "co_admin", "user", "executive"}


def test_activity_lies_in_the_ninety_days_before_the_anchor(seeded):
    span = Event.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    assert ANCHOR_DT - dt.timedelta(days=90) <= span["first"] and span["last"] < ANCHOR_DT
    assert not Touchpoint.objects.filter(occurred_at__gte=ANCHOR_DT).exists()
    assert not SupportTicket.objects.filter(Q(opened_at__gte=ANCHOR_DT) | Q(closed_at__gte=ANCHOR_DT)).exists()
    assert not EndUser.objects.filter(created_at__gte=ANCHOR_DT).exists()
    feature_names = set(Event.objects.values_list("name", flat=True))
    assert feature_names == {"login", "reports", "dashboards", "exports", "data_import", "integrations", "api"}


def test_no_user_is_active_before_being_created_nor_outside_their_account(seeded):
    assert not Event.objects.filter(user__created_at__gt=F("occurred_at")).exists()
    assert not Event.objects.exclude(user=None).exclude(user__account=F("account")).exists()
    assert Event.objects.filter(user=None, name="api").exists()


def _usage(days_from: int, days_to: int):
    window = Q(events__occurred_at__gte=ANCHOR_DT - dt.timedelta(days=days_to),
               events__occurred_at__lt=ANCHOR_DT - dt.timedelta(days=days_from))
    return Sum("events__quantity", filter=window & ~Q(events__name="login"), default=0)


def test_accounts_grow_stay_flat_decline_sharply_or_go_dormant(seeded):
    usage = Account.objects.annotate(recent=_usage(0, 30), before=_usage(30, 60), last=Max("events__occurred_at"))
    rows = list(usage.values("recent", "before", "last"))
    assert any(r["before"] >= 20 and r["recent"] <= 0.4 * r["before"] for r in rows), "sharp decline"
    assert any(r["before"] >= 20 and r["recent"] >= 1.3 * r["before"] for r in rows), "growth"
    assert any(r["last"] and r["last"] < ANCHOR_DT - dt.timedelta(days=35) for r in rows), "dormant"
    assert any(r["last"] is None for r in rows), "never active"


def test_renewals_spread_over_the_next_year_and_stages_follow_dates(seeded):
    live = Account.objects.exclude(lifecycle_stage__in=["churned", "trial"]).exclude(renewal_date=None)
    span = live.aggregate(first=Min("renewal_date"), last=Max("renewal_date"))
    assert span["first"] > ANCHOR and span["last"] <= ANCHOR + dt.timedelta(days=366)
    assert (span["last"] - span["first"]).days > 250
    renewal = Account.objects.filter(lifecycle_stage="renewal")
    assert renewal.exists() and not renewal.filter(renewal_date__gt=ANCHOR + dt.timedelta(days=90)).exists()
    assert set(Account.objects.values_list("lifecycle_stage", flat=True)) >= {
        "trial", "onboarding", "nurturing", "renewal", "churned"
    }


def test_data_is_spotty_like_real_crm_data(seeded):
    accounts = Account.objects.all()
    assert accounts.filter(potential_arr=None).exists() and accounts.filter(employees=None).exists()
    assert accounts.filter(use_case="").exists() and accounts.filter(referenceable=None).exists()
    assert accounts.filter(csm=None).exists() and accounts.exclude(csm=None).exists()
    custom_keys = {key for custom in accounts.values_list("custom", flat=True) for key in custom}
    assert custom_keys == {"nps", "onboarding_owner", "tier", "kickoff_date", "champion"}
    assert any("nps" not in c for c in accounts.values_list("custom", flat=True))


def test_touchpoints_include_qbrs_and_tickets_are_open_or_closed(seeded):
    assert Touchpoint.objects.filter(kind="qbr", account__plan="enterprise").exists()
    assert set(Touchpoint.objects.values_list("kind", flat=True)) == {"qbr", "meeting", "call", "email"}
    assert SupportTicket.objects.filter(status="open", closed_at=None).exists()
    closed = SupportTicket.objects.filter(status="closed")
    assert closed.exists() and not closed.filter(closed_at=None).exists()


def test_every_row_passes_model_validation(seeded):
    definitions = {d.key: d for d in CustomAttributeDefinition.objects.all()}
    for account in Account.objects.all():
        assert custom_value_errors(account.custom, definitions) == []
    for model in (Account, Subscription, EndUser, Touchpoint, SupportTicket):
        for obj in model.objects.all()[:100]:
            obj.full_clean(validate_unique=False)
    for event in Event.objects.order_by("?")[:100]:
        event.full_clean(validate_unique=False)


def test_demo_staff_have_roles_teams_and_the_documented_password(seeded):
    User = get_user_model()
    staff = {u.username: u for u in User.objects.select_related("profile__team")}
    for username, _first, _last, role, team in DEMO_STAFF:
        assert staff[username].profile.role == role
        assert (staff[username].profile.team.name if staff[username].profile.team else None) == team
    assert staff["maria"].is_staff and not staff["ada"].is_staff
    assert staff["ada"].check_password(DEMO_STAFF_PASSWORD)
    csm_roles = set(Account.objects.exclude(csm=None).values_list("csm__profile__role", flat=True))
    assert csm_roles == {"csm"}


def test_enterprise_accounts_are_looked_after_by_the_enterprise_team(seeded):
    teams = set(Account.objects.filter(plan="enterprise").exclude(csm=None).values_list("csm__profile__team__name",
                                                                                        flat=True))
    assert teams == {"Enterprise"}


def test_queries_do_not_grow_per_account_or_per_row(django_assert_max_num_queries):
    demo_seed(accounts=0, seed=5, anchor=ANCHOR)  # staff and attributes exist in both runs below
    with CaptureQueriesContext(connection) as small:
        demo_seed(accounts=20, seed=5, anchor=ANCHOR)
    customer_data_delete()
    extra_accounts = 180
    # Each extra account brings ~150 rows: a query per account (or per row) would break this bound.
    with django_assert_max_num_queries(len(small) + extra_accounts // 2):
        summary = demo_seed(accounts=20 + extra_accounts, seed=5, anchor=ANCHOR)
    assert summary.events + summary.end_users > 100 * extra_accounts


def test_zero_accounts_still_sets_up_staff_and_attributes():
    summary = demo_seed(accounts=0, seed=1, anchor=ANCHOR)
    assert summary.accounts == 0 and not Account.objects.exists()
    assert CustomAttributeDefinition.objects.count() == 5


# The command -----------------------------------------------------------------


def _call(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_command_seeds_an_empty_database_and_reports_counts():
    output = _call("--accounts", "12", "--seed", "9", "--anchor", "2026-06-01")
    assert Account.objects.count() == 12
    assert "12 accounts" in output and "12/12 accounts" in output and DEMO_STAFF_PASSWORD in output


def test_command_refuses_a_database_with_accounts_unless_reset():
    _call("--accounts", "5", "--anchor", "2026-06-01")
    with pytest.raises(CommandError, match="already holds 5 accounts.*--reset"):
        _call("--accounts", "8", "--anchor", "2026-06-01")
    assert Account.objects.count() == 5
    _call("--accounts", "8", "--anchor", "2026-06-01", "--reset")
    assert Account.objects.count() == 8


def test_command_rejects_a_bad_anchor_and_a_negative_count():
    with pytest.raises(CommandError, match="not a date"):
        _call("--anchor", "2026-13-01")
    with pytest.raises(CommandError, match="zero or more"):
        _call("--accounts", "-1")


def test_command_runs_registered_extensions_with_seed_and_anchor(monkeypatch):
    calls = []

    def starter_segments(*, seed, anchor):
        calls.append((seed, anchor))
        return {"segments": 4}

    monkeypatch.setattr(demo, "DEMO_EXTENSIONS", [])
    demo.demo_extension_register(starter_segments)
    with pytest.raises(ValueError, match="already a demo extension"):
        demo.demo_extension_register(starter_segments)
    output = _call("--accounts", "2", "--seed", "4", "--anchor", "2026-06-01")
    assert calls == [(4, ANCHOR)]
    assert "4 segments" in output
