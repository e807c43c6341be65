"""The column-by-column path of an append-only import (accounts/csvio/columns.py).

Events without an external_id column only append, and their batches are
typed a column at a time. The same rows with an (empty) external_id column
take the row-by-row path, so each test imports a file both ways and expects
the same outcome: the same stored rows, or the same errors and nothing stored.
"""

import io
import re

import pytest
from django.db import IntegrityError, transaction

from accounts.csvio import engine, references
from accounts.csvio.references import references_for
from accounts.csvio.services import csv_import
from accounts.models import Account, EndUser, Event
from tests.factories import AccountFactory, EndUserFactory, EventFactory

pytestmark = pytest.mark.django_db

GOOD_ROWS = [
    "A-1,U-1,login,2026-03-01T09:30:00Z,2",
    "A-2,,Reports,2026-03-01 10:00:00,",
    "  A-1 ,\tU-2 ,export , 2026-03-02T11:00:00+02:00 , 3 ",
    "A-2,U-3,api,2026-03-03T12:00:00.250Z,1",
    "A-3,,login,2026-03-04T08:00:00-05:00,7",
]


@pytest.fixture
def people():
    a1, a2 = AccountFactory(external_id="A-1"), AccountFactory(external_id="A-2")
    AccountFactory(external_id="A-3")
    EndUserFactory(external_id="U-1", account=a1)
    EndUserFactory(external_id="U-2", account=a1)
    EndUserFactory(external_id="U-3", account=a2)


@pytest.fixture
def typed_batches(monkeypatch):
    """For each batch offered to the column path, whether it took it (False: row by row)."""
    answers: list[bool] = []
    original = engine.Importer._append

    def spy(self, records):
        answers.append(original(self, records))
        return answers[-1]

    monkeypatch.setattr(engine.Importer, "_append", spy)
    return answers


def _import(rows: list[str], *, keyed: bool, dry_run: bool = False):
    """Import `rows` (account,user,name,occurred_at,quantity), with an empty external_id column when `keyed`."""
    header = "account,user,name,occurred_at,quantity"
    if keyed:
        header, rows = "external_id," + header, ["," + row for row in rows]
    data = "\n".join([header, *rows]) + "\n"
    return csv_import(entity="events", stream=io.BytesIO(data.encode()), dry_run=dry_run)


def _stored() -> list[tuple]:
    return list(Event.objects.order_by("pk").values_list(
        "account__external_id", "user__external_id", "name", "occurred_at", "quantity", "external_id"))


def _both_ways(rows: list[str]) -> tuple[tuple, tuple]:
    """Import `rows` by columns, then (after removing those events) row by row: (result, stored) of each."""
    by_columns = _import(rows, keyed=False)
    stored_by_columns = _stored()
    Event.objects.all().delete()
    by_rows = _import(rows, keyed=True)
    return (by_columns, stored_by_columns), (by_rows, _stored())


def test_good_rows_go_column_by_column_and_store_what_the_row_path_stores(people, typed_batches):
    (by_columns, stored), (by_rows, stored_by_rows) = _both_ways(GOOD_ROWS)
    assert typed_batches == [True]  # the keyed file never asks for the column path
    assert by_columns.ok and by_columns.created == by_rows.created == 5 and by_columns.rows == 5
    assert stored == stored_by_rows
    assert [(account, user, name, quantity) for account, user, name, _, quantity, _ in stored] == [
        ("A-1", "U-1", "login", 2), ("A-2", None, "Reports", 1), ("A-1", "U-2", "export", 3),
        ("A-2", "U-3", "api", 1), ("A-3", None, "login", 7)]
    assert stored[2][3].isoformat() == "2026-03-02T09:00:00+00:00"
    assert Account.objects.get(external_id="A-3").last_activity_at.isoformat() == "2026-03-04T13:00:00+00:00"


@pytest.mark.parametrize("odd_row", [
    "A-9,,login,2026-03-01T09:30:00Z,1",  # unknown account
    "A-1,U-9,login,2026-03-01T09:30:00Z,1",  # unknown user
    "A-2,U-1,login,2026-03-01T09:30:00Z,1",  # the user of another account
    "A-1,,,2026-03-01T09:30:00Z,1",  # required name left empty
    "A-1,,login,,1",  # required time left empty
    ",,login,2026-03-01T09:30:00Z,1",  # required account left empty
    "A-1,," + "n" * 101 + ",2026-03-01T09:30:00Z,1",  # a name over its 100 characters
    "A-1,,login,2026-02-30T09:30:00Z,1",  # no such day
    "A-1,,login,yesterday,1",
    "A-1,,login,2026-03-01T09:30:00Z,0",  # quantity below 1
    "A-1,,login,2026-03-01T09:30:00Z,-2",
    "A-1,,login,2026-03-01T09:30:00Z,1,extra",  # a cell too many
    "A-1,,login",  # cells missing
    "A-1,,log\x00in,2026-03-01T09:30:00Z,1",  # a NUL byte
])
def test_a_bad_row_sends_its_batch_row_by_row_with_the_same_errors_and_nothing_stored(people, typed_batches, odd_row):
    rows = [*GOOD_ROWS[:2], odd_row, *GOOD_ROWS[2:]]
    (by_columns, stored), (by_rows, stored_by_rows) = _both_ways(rows)
    assert typed_batches == [False]
    # The keyed file has one more column: its count of cells in the same words, one higher.
    expected = [re.sub(r"(\d+) cells, but the header has 6", lambda m: f"{int(m[1]) - 1} cells, but the header has 5",
                       error) for error in by_rows.errors]
    assert not by_columns.ok and by_columns.errors == expected and by_columns.errors[0].startswith("line 4")
    assert stored == stored_by_rows == []


@pytest.mark.parametrize("odd_row", [
    "A-1,,'=HYPERLINK(1),2026-03-01T09:30:00Z,1",  # a protected formula: stored without its quote
    "A-1,,'-plain,2026-03-01T09:30:00Z,1",
    '"A-1","",  "login"  ,2026-03-01T09:30:00Z,1',  # quoted cells
    "A-1,,LOGIN,2026-03-01T09:30:00z,1",  # a lower-case z: the parser's slow shape
])
def test_rows_the_column_path_leaves_to_the_row_path_are_stored_the_same(people, odd_row):
    rows = [*GOOD_ROWS[:2], odd_row, *GOOD_ROWS[2:]]
    (by_columns, stored), (by_rows, stored_by_rows) = _both_ways(rows)
    assert by_columns.ok and by_rows.ok and by_columns.created == 6
    assert stored == stored_by_rows


def test_one_bad_batch_does_not_stop_the_others_from_being_checked(people, typed_batches, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_ROWS", 2)
    rows = [*GOOD_ROWS[:2], "A-9,,login,2026-03-01T09:30:00Z,1", *GOOD_ROWS[2:], "A-1,,login,never,1"]
    result = _import(rows, keyed=False)
    assert typed_batches == [True, False, True, False]  # (1, 2) (bad, 3) (4, 5) (bad)
    assert result.errors == ['line 4, column account: no account with external_id "A-9"',
                             'line 8, column occurred_at: "never" is not a date and time (ISO 8601, e.g. '
                             "2026-03-01T09:30:00Z)"]
    assert result.rows == 7 and Event.objects.count() == 0


def test_a_dry_run_by_columns_counts_and_writes_nothing(people, typed_batches):
    result = _import(GOOD_ROWS, keyed=False, dry_run=True)
    assert typed_batches == [True] and result.ok and result.created == 5 and Event.objects.count() == 0
    assert Account.objects.filter(last_activity_at__isnull=False).count() == 0


def test_a_file_with_keys_is_never_typed_by_columns(people, typed_batches):
    data = "external_id,account,name,occurred_at\nE-1,A-1,login,2026-03-01T09:30:00Z\n"
    result = csv_import(entity="events", stream=io.BytesIO(data.encode()))
    assert result.ok and typed_batches == [] and Event.objects.get().external_id == "E-1"


# --- references: a big file over a small table reads it whole -------------------------------


def test_a_resolver_asked_for_many_names_keeps_the_whole_small_table(monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(references, "_READ_ALL_AFTER", 3)
    accounts = {AccountFactory(external_id=f"A-{n}").external_id: n for n in range(8)}
    resolver = references_for(["account"])["account"]
    resolver.load({"A-0", "A-1"})
    assert not resolver.complete
    with django_assert_num_queries(1):
        resolver.load({"A-2", "A-3", "nobody"})  # past the threshold: the whole table, in one query
    assert resolver.complete
    with django_assert_num_queries(0):
        resolver.load({"A-7", "A-6", "someone else"})
    found = {name: resolver.get(name) for name in [*accounts, "nobody", "someone else"]}
    assert found == {**dict(Account.objects.values_list("external_id", "pk")), "nobody": None, "someone else": None}


def test_a_table_too_big_to_keep_is_still_asked_batch_by_batch(monkeypatch):
    monkeypatch.setattr(references, "_READ_ALL_AFTER", 1)
    monkeypatch.setattr(references, "_CACHE_LIMIT", 4)
    users = [EndUserFactory(external_id=f"U-{n}") for n in range(6)]
    resolver = references_for(["user"])["user"]
    for pair in ({"U-0", "U-1"}, {"U-2", "U-9"}, {"U-4", "U-5"}):
        resolver.load(pair)
        assert not resolver.complete
    assert [resolver.get(f"U-{n}") for n in (4, 5, 9)] == [(users[4].pk, users[4].account_id),
                                                          (users[5].pk, users[5].account_id), None]
    assert EndUser.objects.count() == 6


# --- the partial indexes on events ----------------------------------------------------------


def test_external_ids_of_events_are_unique_where_given():
    account = AccountFactory()
    EventFactory(account=account, external_id=None)
    EventFactory(account=account, external_id=None)  # any number without one
    EventFactory(account=account, external_id="E-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(account=account, external_id="E-1")
    assert Event.objects.count() == 3
