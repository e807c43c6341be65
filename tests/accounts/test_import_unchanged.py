"""Re-imports: rows that change nothing are recognised (fast), with the verdict typing would give."""

import functools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from tests.accounts.test_csv_support import export_text, import_file
from tests.factories import AccountFactory, CustomAttributeFactory, StaffFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_import(tmp_path):
    return functools.partial(import_file, tmp_path)


def _writes(captured) -> list[str]:
    return [q["sql"] for q in captured if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_equal_values_written_differently_are_unchanged(run_import):
    StaffFactory(username="jane")
    AccountFactory(external_id="A-1", name="Acme", mrr=Decimal("10.50"), plan="business", referenceable=True)
    with CaptureQueriesContext(connection) as captured:
        outcome = run_import("accounts", "external_id,name,mrr,plan,referenceable\nA-1, Acme ,10.5,BUSINESS,yes\n")
    assert "0 updated, 1 unchanged" in outcome.out
    assert _writes(captured) == []


def test_an_exported_row_with_escaped_formulas_is_unchanged(run_import):
    AccountFactory(external_id="A-1", name="=1+1", use_case="-x")
    outcome = run_import("accounts", export_text("accounts"))
    assert "1 unchanged" in outcome.out


def test_a_stored_custom_value_of_the_wrong_type_is_still_refused(run_import):
    CustomAttributeFactory(key="nps", type="number")
    AccountFactory(external_id="A-1", custom={"nps": "high"})  # stored by another path
    outcome = run_import("accounts", export_text("accounts"))
    assert outcome.status == 1
    assert outcome.errors == ['line 2, column custom.nps: "high" is not a number']


def test_a_key_twice_is_an_error_even_when_the_first_row_is_unchanged(run_import):
    AccountFactory(external_id="A-1", name="Acme")
    outcome = run_import("accounts", "external_id,name\nA-1,Acme\nA-1,Acme\n")
    assert outcome.errors == ['line 3: external_id "A-1" appears twice in this file']


def test_one_changed_cell_makes_an_update(run_import):
    CustomAttributeFactory(key="tier", type="choice", choices=["gold", "silver"])
    AccountFactory(external_id="A-1", name="Acme", custom={"tier": "gold"})
    AccountFactory(external_id="A-2", name="Beta", custom={"tier": "gold"})
    exported = export_text("accounts").replace("Beta", "Beta2")
    outcome = run_import("accounts", exported)
    assert "0 created, 1 updated, 1 unchanged" in outcome.out
    assert Account.objects.get(external_id="A-2").name == "Beta2"


def test_a_reference_to_another_row_is_a_change(run_import):
    SubscriptionFactory(external_id="S-1", account=AccountFactory(external_id="A-1"))
    AccountFactory(external_id="A-2")
    outcome = run_import("subscriptions", export_text("subscriptions").replace("S-1,A-1", "S-1,A-2"))
    assert "1 updated" in outcome.out


def test_unchanged_rows_of_a_bad_file_are_not_written_either(run_import):
    AccountFactory(external_id="A-1", name="Acme")
    outcome = run_import("accounts", "external_id,name,mrr\nA-1,Acme,\nA-2,New,-1\n")
    assert outcome.status == 1 and "0 unchanged, 1 rejected" in outcome.err


def test_an_unknown_reference_is_an_error_even_where_nothing_is_stored(run_import):
    AccountFactory(external_id="A-1", name="Acme", csm=None)
    outcome = run_import("accounts", "external_id,name,csm\nA-1,Acme,ghost\n")
    assert outcome.errors == ['line 2, column csm: no staff member with username "ghost"']


@pytest.mark.parametrize(
    ("type_", "choices", "stored", "cell", "error"),
    [
        ("number", [], "5", "5", None),  # a string where a number belongs: typing stores the number 5
        ("number", [], True, "true", '"true" is not a number'),  # a JSON true is not the number 1
        ("text", [], 5, "5", None),  # a number where text belongs: typing stores the text "5"
        ("boolean", [], "yes", "yes", None),  # a string is not a JSON boolean: typing stores true
        ("choice", ["gold", "silver"], "bronze", "bronze", '"bronze" is not one of gold, silver'),
        ("choice", ["gold", "silver"], 7, "7", '"7" is not one of gold, silver'),
    ],
)
def test_a_stored_custom_value_typing_would_not_give_never_counts_as_unchanged(
    run_import, type_, choices, stored, cell, error
):
    CustomAttributeFactory(key="c", type=type_, choices=choices)
    AccountFactory(external_id="A-1", name="Acme", custom={"c": stored})
    outcome = run_import("accounts", f"external_id,name,custom.c\nA-1,Acme,{cell}\n")
    if error:
        assert outcome.status == 1 and error in outcome.err
    else:
        assert outcome.status == 0 and "1 updated, 0 unchanged" in outcome.out, outcome.out


@pytest.mark.parametrize(
    ("type_", "choices", "stored", "cell"),
    [
        ("number", [], 5, "5"), ("number", [], 2.5, "2.5"), ("number", [], -0.00001, "-0.00001"),
        ("text", [], "x, y", '"x, y"'), ("boolean", [], False, "false"), ("choice", ["gold"], "gold", "GOLD"),
        ("date", [], "2026-02-03", "2026-02-03"),
    ],
)
def test_stored_custom_values_as_the_export_writes_them_are_unchanged(run_import, type_, choices, stored, cell):
    CustomAttributeFactory(key="c", type=type_, choices=choices)
    AccountFactory(external_id="A-1", name="Acme", custom={"c": stored})
    with CaptureQueriesContext(connection) as captured:
        outcome = run_import("accounts", export_text("accounts"))
        assert "1 unchanged" in outcome.out, outcome.out + outcome.err
        outcome = run_import("accounts", f"external_id,name,custom.c\nA-1,Acme,{cell}\n")
    assert outcome.status == 0 and "1 unchanged" in outcome.out, outcome.out + outcome.err
    assert _writes(captured) == []


def test_whole_numbers_dates_and_booleans_compare_as_the_export_writes_them(run_import):
    import datetime as dt

    AccountFactory(external_id="A-1", name="Acme", licenses=7, employees=None, renewal_date=dt.date(2026, 2, 3),
                   customer_since=None, referenceable=False)
    with CaptureQueriesContext(connection) as captured:
        same = run_import("accounts", "external_id,name,licenses,employees,renewal_date,customer_since,referenceable\n"
                          "A-1,Acme,7,,2026-02-03,,false\n")
        written_differently = run_import("accounts", "external_id,name,licenses,referenceable\nA-1,Acme,007,no\n")
    assert "1 unchanged" in same.out and "1 unchanged" in written_differently.out
    assert _writes(captured) == []
    changed = run_import("accounts", "external_id,licenses,renewal_date,referenceable\nA-1,8,2026-02-04,true\n")
    assert "1 updated" in changed.out
    account = Account.objects.get(external_id="A-1")
    assert (account.licenses, account.renewal_date, account.referenceable) == (8, dt.date(2026, 2, 4), True)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="only SQLite stores a date in another shape")
def test_a_date_stored_in_another_shape_is_rewritten_not_refused(run_import):
    # Stored by another path (raw SQL): read back as text, it is no date the import writes.
    AccountFactory(external_id="A-1", name="Acme")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET renewal_date = '2026-1-5' WHERE external_id = 'A-1'")
    outcome = run_import("accounts", "external_id,name,renewal_date\nA-1,Acme,2026-01-05\n")
    assert outcome.status == 0 and "1 updated" in outcome.out, outcome.out + outcome.err
    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(renewal_date AS TEXT) FROM accounts_account WHERE external_id = 'A-1'")
        assert cursor.fetchone()[0] == "2026-01-05"


@pytest.mark.parametrize("mrr", ["0.10", "12.50", "100.00", "123456789012.34", "0.00"])
def test_money_read_back_from_sqlite_floats_compares_exactly(run_import, mrr):
    AccountFactory(external_id="A-1", name="Acme", mrr=Decimal(mrr))
    assert "1 unchanged" in run_import("accounts", f"external_id,name,mrr\nA-1,Acme,{mrr}\n").out
    cents = Decimal(mrr) + Decimal("0.01")
    assert "1 updated" in run_import("accounts", f"external_id,name,mrr\nA-1,Acme,{cents}\n").out
    assert Account.objects.get(external_id="A-1").mrr == cents
