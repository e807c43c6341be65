"""export_csv: the import format, ordered by key, formula cells escaped, streamed; and the round trip."""

import csv
import datetime as dt
import functools
import io
import types
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.csvio.export import export_header
from accounts.demo import customer_data_delete, demo_seed
from accounts.models import Account, CustomAttributeDefinition, EndUser, Event, Team
from segments.models import AccountMembership, Segment, UserMembership
from tests.accounts.test_csv_support import export_text, import_file, table_counts
from tests.factories import (
    AccountFactory,
    CustomAttributeFactory,
    EndUserFactory,
    EventFactory,
    StaffFactory,
    SubscriptionFactory,
    TeamFactory,
    TicketFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db
UTC = dt.UTC
ENTITIES = ("staff", "custom_attributes", "accounts", "subscriptions", "users", "events", "touchpoints", "tickets")
NASTY = ["=1+1", "==1+1", "+41 22 000", "-x", "@SUM(A1)", "\tlead", "\rlead", "-12.5", "'quoted", 'say "hi", ok',
         "multi\nline", "crlf\r\nline", "Ünïcødé ✓ 😀", "trailing\\"]


@pytest.fixture
def run_import(tmp_path):
    return functools.partial(import_file, tmp_path)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_accounts_export_in_the_import_format_ordered_by_key():
    StaffFactory(username="jane")
    CustomAttributeFactory(key="zeta", type="text")
    CustomAttributeFactory(key="alpha", type="number")
    AccountFactory(external_id="B", name="Beta", mrr=Decimal("10.50"), renewal_date=dt.date(2026, 1, 2),
                   referenceable=False, custom={"alpha": 2.5, "zeta": "z"})
    AccountFactory(external_id="A", name="Acme", mrr=None, licenses=None, csm=get_user_model().objects.get())
    table = rows(export_text("accounts"))
    assert table[0] == ["external_id", "name", "domain", "industry", "region", "lifecycle_stage", "plan", "licenses",
                        "employees", "mrr", "potential_arr", "renewal_date", "customer_since", "csm",
                        "referenceable", "use_case", "custom.alpha", "custom.zeta"]
    assert table[1] == ["A", "Acme", "", "", "", "nurturing", "business"] + [""] * 6 + ["jane"] + [""] * 4
    assert table[2][:2] == ["B", "Beta"] and table[2][9] == "10.50" and table[2][11] == "2026-01-02"
    assert table[2][14] == "false" and table[2][16:] == ["2.5", "z"]


def test_an_empty_export_is_the_header_alone():
    assert export_text("tickets") == "external_id,account,opened_at,status,closed_at,priority\r\n"


def test_formula_cells_are_escaped_but_plain_numbers_are_not():
    CustomAttributeFactory(key="note", type="text")
    for n, value in enumerate(NASTY):
        AccountFactory(external_id=f"A-{n:02}", name=value, custom={"note": value})
    table = rows(export_text("accounts"))[1:]
    expected = ["'" + v if v[0] in "=+-@\t\r" and v != "-12.5" else v for v in NASTY]
    assert [r[1] for r in table] == expected
    assert [r[-1] for r in table] == expected


def test_headers_go_through_the_same_escaping():
    fmt = types.SimpleNamespace(column_names=["=cmd", "plain"])
    assert export_header(fmt, ["x"]) == ["'=cmd", "plain", "custom.x"]


def test_every_entity_exports_its_columns():
    account = AccountFactory(external_id="A-1")
    user = EndUserFactory(external_id="U-1", account=account, created_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
    SubscriptionFactory(external_id="S-1", account=account, start_date=dt.date(2026, 1, 1))
    EventFactory(account=account, user=user, external_id="E-1", quantity=3)
    EventFactory(account=account, occurred_at=dt.datetime(2026, 1, 1, 8, 0, 0, 250000, tzinfo=UTC))
    TouchpointFactory(external_id="T-1", account=account, note="=HYPERLINK()")
    TicketFactory(external_id="K-1", account=account, priority="high")
    StaffFactory(username="ann", role="ops", team=TeamFactory(name="Core"))
    CustomAttributeFactory(key="tier", type="choice", choices=["gold", "silver"], label="Tier")
    assert rows(export_text("users"))[1] == ["U-1", "A-1", "u-1@customer.test", "", "user", "2026-01-01T00:00:00Z"]
    assert rows(export_text("subscriptions"))[1] == ["S-1", "A-1", "business", "active", "", "", "", "2026-01-01", ""]
    assert rows(export_text("events"))[1:] == [
        ["E-1", "A-1", "U-1", "login", "2026-06-01T12:00:00Z", "3"],
        ["", "A-1", "", "login", "2026-01-01T08:00:00.250000Z", "1"],
    ]
    assert rows(export_text("touchpoints"))[1] == ["T-1", "A-1", "call", "2026-06-01T12:00:00Z", "'=HYPERLINK()"]
    assert rows(export_text("tickets"))[1] == ["K-1", "A-1", "2026-06-01T12:00:00Z", "open", "", "high"]
    assert rows(export_text("staff"))[1] == ["ann", "ann@example.com", "", "", "Core", "ops"]
    assert rows(export_text("custom_attributes"))[1:] == [["tier", "Tier", "choice", "gold|silver"]]


def test_export_makes_the_same_number_of_queries_for_10_or_100_rows():
    CustomAttributeFactory(key="nps", type="number")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export_text("accounts")
        return len(captured)

    AccountFactory.create_batch(10)
    few = queries()
    AccountFactory.create_batch(90)
    assert queries() == few <= 2


def test_export_to_a_file(tmp_path):
    AccountFactory(external_id="A-1")
    target = tmp_path / "out.csv"
    assert export_text("accounts", "-o", str(target)) == ""
    assert target.read_bytes().startswith(b"external_id,") and b"\r\nA-1," in target.read_bytes()


def test_export_of_a_segment():
    inside, outside = AccountFactory(external_id="A-1"), AccountFactory(external_id="A-2")
    segment = Segment.objects.create(slug="vip", name="VIP", kind="account")
    AccountMembership.objects.create(segment=segment, account=inside, since=dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert [r[0] for r in rows(export_text("accounts", "--segment", "vip"))[1:]] == ["A-1"]
    users = Segment.objects.create(slug="admins", name="Admins", kind="user")
    user = EndUserFactory(external_id="U-1", account=outside)
    EndUserFactory(external_id="U-2", account=outside)
    UserMembership.objects.create(segment=users, user=user, since=dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert [r[0] for r in rows(export_text("users", "--segment", "admins"))[1:]] == ["U-1"]


@pytest.mark.parametrize(
    ("entity", "slug", "message"),
    [("accounts", "nope", 'no segment with slug "nope"'),
     ("accounts", "admins", "is a segment of users"),
     ("events", "vip", "is a segment of accounts")],
)
def test_export_of_a_segment_errors(entity, slug, message):
    Segment.objects.create(slug="vip", name="VIP", kind="account")
    Segment.objects.create(slug="admins", name="Admins", kind="user")
    with pytest.raises(CommandError, match=message):
        export_text(entity, "--segment", slug)


# --- the round trip -------------------------------------------------------------------


def _nasty_extras() -> None:
    """Add the values most likely to break a round trip to seeded demo data."""
    CustomAttributeFactory(key="remark", type="text", label="=Remark")
    CustomAttributeFactory(key="score", type="number")
    team = TeamFactory(name="-Ops, \"the\" team")
    StaffFactory(username="nasty", role="csm", team=team, first_name="=cmd", last_name="@me")
    for n, value in enumerate(NASTY):
        account = AccountFactory(external_id=f"N-{n}", name=value, domain=value, use_case=value,
                                 mrr=Decimal("0.10"), custom={"remark": value, "score": [0.1, -3, 1e-05, 12.75][n % 4]})
        TouchpointFactory(external_id=f"T-N{n}", account=account, note=value)
        EventFactory(account=account, name=value.strip(" \t\r\n") or "x", external_id=f"E-N{n}",
                     occurred_at=dt.datetime(2026, 1, 1, 0, 0, n, 123456, tzinfo=UTC))


def _export_all() -> dict[str, str]:
    return {entity: export_text(entity) for entity in ENTITIES}


def _wipe() -> None:
    customer_data_delete()
    CustomAttributeDefinition.objects.all().delete()
    get_user_model().objects.all().delete()
    Team.objects.all().delete()


def test_export_import_export_gives_identical_files(tmp_path):
    demo_seed(accounts=12, seed=7, anchor=dt.date(2026, 6, 1))
    _nasty_extras()
    first = _export_all()
    assert "'=1+1" in first["accounts"] and "'=Remark" in first["custom_attributes"]
    _wipe()
    for entity in ENTITIES:
        outcome = import_file(tmp_path, entity, first[entity])
        assert outcome.status == 0, (entity, outcome.err)
    assert _export_all() == first
    assert Event.objects.filter(external_id__startswith="E-N").count() == len(NASTY)


def test_reimporting_an_export_writes_nothing(tmp_path):
    demo_seed(accounts=8, seed=3, anchor=dt.date(2026, 6, 1))
    _nasty_extras()
    exported = _export_all()
    before = table_counts()
    for entity in ENTITIES:
        if entity == "events":
            continue  # events without an external_id are appended again, by the spec
        with CaptureQueriesContext(connection) as captured:
            outcome = import_file(tmp_path, entity, exported[entity])
        assert " 0 created, 0 updated, " in outcome.out, (entity, outcome.out, outcome.err)
        writes = [q["sql"] for q in captured if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
        assert writes == [], entity
    assert table_counts() == before


def test_keyed_events_reimport_unchanged(tmp_path):
    account = AccountFactory(external_id="A-1")
    EventFactory(account=account, external_id="E-1", user=EndUserFactory(account=account))
    outcome = import_file(tmp_path, "events", export_text("events"))
    assert "0 created, 0 updated, 1 unchanged" in outcome.out


def test_an_account_csm_and_custom_values_survive_the_round_trip(tmp_path):
    CustomAttributeFactory(key="kickoff", type="date")
    CustomAttributeFactory(key="happy", type="boolean")
    StaffFactory(username="jane")
    data = "external_id,name,csm,custom.kickoff,custom.happy\nA-1,Acme,jane,2026-02-01,YES\n"
    import_file(tmp_path, "accounts", data)
    exported = export_text("accounts")
    assert rows(exported)[1][13] == "jane" and rows(exported)[1][-2:] == ["true", "2026-02-01"]
    Account.objects.all().delete()
    import_file(tmp_path, "accounts", exported)
    assert Account.objects.get().custom == {"kickoff": "2026-02-01", "happy": True}
    assert EndUser.objects.count() == 0
