"""import_csv: every entity creates, updates (only the columns given) and leaves unchanged rows alone."""

import datetime as dt
import functools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import (
    Account,
    CustomAttributeDefinition,
    EndUser,
    Event,
    StaffProfile,
    Subscription,
    SupportTicket,
    Team,
    Touchpoint,
)
from tests.accounts.test_csv_support import import_file
from tests.factories import (
    AccountFactory,
    CustomAttributeFactory,
    EndUserFactory,
    EventFactory,
    StaffFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db
UTC = dt.UTC
User = get_user_model()


@pytest.fixture
def run_import(tmp_path):
    return functools.partial(import_file, tmp_path)


# --- accounts ------------------------------------------------------------------


def test_accounts_are_created_with_typed_values(run_import):
    StaffFactory(username="jane")
    outcome = run_import(
        "accounts",
        "external_id,name,domain,industry,region,lifecycle_stage,plan,licenses,employees,mrr,potential_arr,"
        "renewal_date,customer_since,csm,referenceable,use_case\n"
        "A-1,Acme,acme.test,Retail,EMEA,Renewal,ENTERPRISE,25,1200,1000.5,48000,2026-09-30,2021-01-15,jane,Yes,Ops\n",
    )
    assert outcome.status == 0, outcome.err
    assert "1 created, 0 updated, 0 unchanged, 0 rejected" in outcome.out
    account = Account.objects.get(external_id="A-1")
    assert (account.name, account.lifecycle_stage, account.plan) == ("Acme", "renewal", "enterprise")
    assert (account.licenses, account.employees, account.mrr) == (25, 1200, Decimal("1000.50"))
    assert account.renewal_date == dt.date(2026, 9, 30) and account.csm.username == "jane"
    assert account.referenceable is True


def test_column_names_ignore_case_and_spaces_and_cells_are_trimmed(run_import):
    outcome = run_import("accounts", " EXTERNAL_ID ,\tName\n  A-1\t, \" Acme \" \n")
    assert outcome.status == 0, outcome.err
    assert Account.objects.get(external_id="A-1").name == "Acme"


def test_an_update_touches_only_the_columns_in_the_file(run_import):
    AccountFactory(external_id="A-1", name="Acme", plan="business", mrr=Decimal("10"), region="EMEA")
    outcome = run_import("accounts", "external_id,plan\nA-1,starter\n")
    assert "0 created, 1 updated" in outcome.out
    account = Account.objects.get(external_id="A-1")
    assert (account.plan, account.name, account.mrr, account.region) == ("starter", "Acme", Decimal("10"), "EMEA")


def test_an_empty_cell_clears_an_optional_value(run_import):
    AccountFactory(external_id="A-1", mrr=Decimal("10"), region="EMEA", plan="business")
    run_import("accounts", "external_id,mrr,region,plan\nA-1,,,\n")
    account = Account.objects.get(external_id="A-1")
    assert (account.mrr, account.region, account.plan) == (None, "", "")


def test_reimporting_the_same_file_writes_nothing(run_import):
    data = "external_id,name,mrr,renewal_date\nA-1,Acme,10,2026-01-01\nA-2,Beta,5.5,\n"
    assert "2 created" in run_import("accounts", data).out
    outcome = run_import("accounts", data)
    assert "0 created, 0 updated, 2 unchanged" in outcome.out


def test_keys_are_case_sensitive(run_import):
    AccountFactory(external_id="A-1", name="Upper")
    outcome = run_import("accounts", "external_id,name\na-1,Lower\n")
    assert "1 created" in outcome.out
    assert Account.objects.get(external_id="A-1").name == "Upper"


def test_a_quote_protecting_a_formula_is_removed(run_import):
    run_import("accounts", "external_id,name,use_case\nA-1,'=Acme,'-minus\n")
    account = Account.objects.get(external_id="A-1")
    assert (account.name, account.use_case) == ("=Acme", "-minus")


def test_header_only_is_a_valid_import_of_nothing(run_import):
    outcome = run_import("accounts", "external_id,name\n")
    assert outcome.status == 0
    assert "0 created, 0 updated, 0 unchanged, 0 rejected" in outcome.out


def test_blank_lines_are_skipped(run_import):
    outcome = run_import("accounts", "\n\nexternal_id,name\n\nA-1,Acme\n   \n,\nA-2,Beta\n\n")
    assert outcome.status == 0, outcome.err
    assert Account.objects.count() == 2


def test_custom_attribute_columns_are_typed_by_their_definition(run_import):
    CustomAttributeFactory(key="nps", type="number")
    CustomAttributeFactory(key="tier", type="choice", choices=["gold", "silver"])
    CustomAttributeFactory(key="churn_risk", type="boolean")
    CustomAttributeFactory(key="kickoff", type="date")
    CustomAttributeFactory(key="notes", type="text")
    outcome = run_import(
        "accounts",
        "external_id,name,CUSTOM.NPS,custom.tier,custom.churn_risk,custom.kickoff,custom.notes\n"
        "A-1,Acme,42,GOLD,no,2026-04-01,hello\nA-2,Beta,7.5,,,,\n",
    )
    assert outcome.status == 0, outcome.err
    assert Account.objects.get(external_id="A-1").custom == {
        "nps": 42, "tier": "gold", "churn_risk": False, "kickoff": "2026-04-01", "notes": "hello"
    }
    assert Account.objects.get(external_id="A-2").custom == {"nps": 7.5}


def test_custom_values_not_in_the_file_are_kept_and_empty_cells_remove_them(run_import):
    CustomAttributeFactory(key="nps", type="number")
    CustomAttributeFactory(key="tier", type="text")
    AccountFactory(external_id="A-1", custom={"nps": 3, "tier": "x"})
    outcome = run_import("accounts", "external_id,custom.nps\nA-1,\n")
    assert "1 updated" in outcome.out
    assert Account.objects.get(external_id="A-1").custom == {"tier": "x"}


# --- subscriptions, users, touchpoints, tickets ------------------------------


def test_subscriptions_reference_their_account(run_import):
    account = AccountFactory(external_id="A-1")
    outcome = run_import(
        "subscriptions",
        "external_id,account,plan,status,billing_period,mrr,trial_start_date,start_date,end_date\n"
        "S-1,A-1,Business,ACTIVE,annual,99.99,2025-12-01,2026-01-01,2025-06-01\n",
    )
    assert outcome.status == 0, outcome.err
    subscription = Subscription.objects.get(external_id="S-1")
    assert subscription.account == account and subscription.status == "active"
    # An end before the start is data, not an error (interchange.md).
    assert subscription.end_date < subscription.start_date


def test_users_are_upserted(run_import):
    AccountFactory(external_id="A-1")
    EndUserFactory(external_id="U-1", name="Old", account=AccountFactory(external_id="A-2"))
    outcome = run_import(
        "users",
        "external_id,account,email,name,role,created_at\n"
        "U-1,A-1,u1@x.test,New,Co_Admin,2026-01-02 03:04:05\nU-2,A-1,,,,\n",
    )
    assert "1 created, 1 updated" in outcome.out, outcome.err
    user = EndUser.objects.get(external_id="U-1")
    assert (user.account.external_id, user.name, user.role) == ("A-1", "New", "co_admin")
    assert user.created_at == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_touchpoints_and_tickets(run_import):
    AccountFactory(external_id="A-1")
    assert run_import(
        "touchpoints", "external_id,account,kind,occurred_at,note\nT-1,A-1,QBR,2026-02-01T10:00:00+01:00,'=x\n"
    ).status == 0
    touchpoint = Touchpoint.objects.get(external_id="T-1")
    assert (touchpoint.kind, touchpoint.note) == ("qbr", "=x")
    assert touchpoint.occurred_at == dt.datetime(2026, 2, 1, 9, tzinfo=UTC)
    assert run_import(
        "tickets",
        "external_id,account,opened_at,status,closed_at,priority\nK-1,A-1,2026-02-01T10:00:00Z,Closed,,URGENT\n",
    ).status == 0
    ticket = SupportTicket.objects.get(external_id="K-1")
    assert (ticket.status, ticket.priority, ticket.closed_at) == ("closed", "urgent", None)


# --- events --------------------------------------------------------------------


def test_events_without_external_id_are_appended_every_time(run_import):
    AccountFactory(external_id="A-1")
    data = "account,name,occurred_at\nA-1,login,2026-03-01T09:00:00Z\nA-1,Reports,2026-03-01T09:05:00Z\n"
    assert "2 created" in run_import("events", data).out
    assert "2 created" in run_import("events", data).out
    assert Event.objects.count() == 4
    assert set(Event.objects.values_list("quantity", flat=True)) == {1}
    assert Event.objects.filter(name="Reports").count() == 2  # event names are exact


def test_events_with_external_id_are_upserted(run_import):
    account = AccountFactory(external_id="A-1")
    user = EndUserFactory(external_id="U-1", account=account)
    EventFactory(external_id="E-1", account=account, quantity=1)
    outcome = run_import(
        "events",
        "external_id,account,user,name,occurred_at,quantity\n"
        "E-1,A-1,U-1,export,2026-03-01T09:00:00Z,3\nE-2,A-1,,login,2026-03-01T09:00:00Z,\n",
    )
    assert "1 created, 1 updated" in outcome.out, outcome.err
    event = Event.objects.get(external_id="E-1")
    assert (event.user, event.name, event.quantity) == (user, "export", 3)
    assert Event.objects.get(external_id="E-2").quantity == 1


# --- custom attribute definitions ------------------------------------------------


def test_custom_attributes_are_created_with_trimmed_lower_case_choices(run_import):
    outcome = run_import(
        "custom_attributes",
        "key,label,type,choices\ntier,Tier,CHOICE, Gold | SILVER |bronze\nnps,NPS,number,\nnote,,,\n",
    )
    assert outcome.status == 0, outcome.err
    assert CustomAttributeDefinition.objects.get(key="tier").choices == ["gold", "silver", "bronze"]
    assert CustomAttributeDefinition.objects.get(key="nps").type == "number"
    # An empty type is the default, text.
    assert CustomAttributeDefinition.objects.get(key="note").type == "text"


def test_custom_attributes_are_updated(run_import):
    CustomAttributeFactory(key="tier", type="choice", choices=["gold"], label="Old")
    outcome = run_import("custom_attributes", "key,label,choices\ntier,Tier,gold|platinum\n")
    assert "1 updated" in outcome.out, outcome.err
    definition = CustomAttributeDefinition.objects.get(key="tier")
    assert (definition.label, definition.choices) == ("Tier", ["gold", "platinum"])


# --- staff -------------------------------------------------------------------------


def test_staff_are_created_with_role_groups_and_a_new_team(run_import):
    TeamFactory(name="Enterprise")
    outcome = run_import(
        "staff",
        "username,email,first_name,last_name,team,role\n"
        "ann,ann@example.com,Ann,Lee,Enterprise,OPS\nbob,,Bob,,New Team,csm\ncid,,,,,\n",
    )
    assert outcome.status == 0, outcome.err
    ann = User.objects.get(username="ann")
    assert (ann.profile.role, ann.profile.team.name, ann.is_staff) == ("ops", "Enterprise", True)
    assert list(ann.groups.values_list("name", flat=True)) == ["ops"]
    assert not ann.has_usable_password()
    bob = User.objects.get(username="bob")
    assert (bob.profile.role, bob.profile.team.name, bob.is_staff) == ("csm", "New Team", False)
    assert Team.objects.filter(name="New Team").count() == 1
    # No role and no team: a user without a csbox role (no profile, no group).
    assert not StaffProfile.objects.filter(user__username="cid").exists()


def test_team_names_are_exact(run_import):
    TeamFactory(name="Enterprise")
    run_import("staff", "username,team,role\nann,enterprise,viewer\n")
    assert set(Team.objects.values_list("name", flat=True)) == {"Enterprise", "enterprise"}


def test_staff_role_change_moves_groups_and_admin_access(run_import):
    StaffFactory(username="ann", role="ops")
    outcome = run_import("staff", "username,role\nann,viewer\n")
    assert "1 updated" in outcome.out
    ann = User.objects.get(username="ann")
    assert ann.profile.role == "viewer" and not ann.is_staff
    assert list(ann.groups.values_list("name", flat=True)) == ["viewer"]
    assert Group.objects.get(name="ops").user_set.count() == 0


def test_staff_reimport_is_unchanged(run_import):
    data = "username,email,first_name,last_name,team,role\nann,a@x.test,Ann,Lee,T1,ops\ncid,,,,,\n"
    run_import("staff", data)
    assert "0 created, 0 updated, 2 unchanged" in run_import("staff", data).out


def test_an_empty_role_on_update_is_the_least_privilege(run_import):
    StaffFactory(username="ann", role="ops")
    run_import("staff", "username,role\nann,\n")
    assert User.objects.get(username="ann").profile.role == "viewer"


def test_updates_of_different_columns_in_one_file(run_import):
    CustomAttributeFactory(key="nps", type="number")
    for n in range(1, 5):
        AccountFactory(external_id=f"A-{n}", name=f"Old {n}", mrr=Decimal("1"), custom={"nps": n})
    outcome = run_import(
        "accounts",
        "external_id,name,mrr,custom.nps\nA-1,New 1,1,1\nA-2,Old 2,2.5,2\nA-3,New 3,3,30\nA-4,Old 4,1.00,4\n",
    )
    assert "0 created, 3 updated, 1 unchanged" in outcome.out, outcome.err
    got = {a.external_id: (a.name, a.mrr, a.custom) for a in Account.objects.all()}
    assert got == {
        "A-1": ("New 1", Decimal("1.00"), {"nps": 1}),
        "A-2": ("Old 2", Decimal("2.50"), {"nps": 2}),
        "A-3": ("New 3", Decimal("3.00"), {"nps": 30}),
        "A-4": ("Old 4", Decimal("1.00"), {"nps": 4}),
    }
