"""An events import keeps Account.last_activity_at (derived) current; the accounts format never carries it."""

import datetime as dt
import functools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.csvio.handlers import EventsHandler
from accounts.models import Account, Event
from tests.accounts.test_csv_support import export_text, import_file
from tests.factories import AccountFactory, EndUserFactory, EventFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
HEADER = "external_id,account,user,name,occurred_at,quantity\n"


@pytest.fixture
def run_import(tmp_path):
    return functools.partial(import_file, tmp_path)


def _last(external_id: str) -> dt.datetime | None:
    return Account.objects.values_list("last_activity_at", flat=True).get(external_id=external_id)


def _latest_event(external_id: str) -> dt.datetime | None:
    event = Event.objects.filter(account__external_id=external_id).order_by("-occurred_at").first()
    return event and event.occurred_at


def test_appended_events_set_the_latest_time_of_each_account(run_import):
    AccountFactory(external_id="A-1")
    AccountFactory(external_id="A-2")
    AccountFactory(external_id="A-3")
    outcome = run_import("events", "account,name,occurred_at\n"
                         "A-1,login,2026-06-01T10:00:00Z\n"
                         "A-1,login,2026-06-03T10:00:00.250000Z\n"
                         "A-1,login,2026-06-02T10:00:00Z\n"
                         "A-2,login,2026-05-01T10:00:00+02:00\n")
    assert outcome.status == 0, outcome.err
    assert _last("A-1") == dt.datetime(2026, 6, 3, 10, 0, 0, 250000, tzinfo=dt.UTC)
    assert _last("A-2") == dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC)
    assert _last("A-3") is None  # no event


def test_an_older_event_does_not_lower_the_stored_time(run_import):
    account = AccountFactory(external_id="A-1")
    EventFactory(account=account, occurred_at=T0)
    Account.objects.filter(pk=account.pk).update(last_activity_at=T0)
    assert run_import("events", "account,name,occurred_at\nA-1,login,2026-05-01T00:00:00Z\n").status == 0
    assert _last("A-1") == T0
    assert run_import("events", "account,name,occurred_at\nA-1,login,2026-06-01T12:00:01Z\n").status == 0
    assert _last("A-1") == T0 + dt.timedelta(seconds=1)


def test_a_stale_null_is_filled_from_the_file(run_import):
    # A stored NULL is "no activity yet": any event raises it.
    AccountFactory(external_id="A-1")
    assert run_import("events", "account,name,occurred_at\nA-1,login,2000-01-01T00:00:00Z\n").status == 0
    assert _last("A-1") == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def test_an_update_moving_an_event_to_another_account_re_derives_both(run_import):
    first, second = AccountFactory(external_id="A-1"), AccountFactory(external_id="A-2")
    EventFactory(account=first, external_id="E-1", occurred_at=T0)
    EventFactory(account=first, external_id="E-2", occurred_at=T0 - dt.timedelta(days=2))
    Account.objects.filter(pk=first.pk).update(last_activity_at=T0)
    outcome = run_import("events", "external_id,account\nE-1,A-2\n")
    assert outcome.status == 0, outcome.err
    assert _last("A-1") == T0 - dt.timedelta(days=2) == _latest_event("A-1")
    assert _last("A-2") == T0 == _latest_event("A-2")
    assert second.pk  # A-2 had no activity before


def test_an_update_moving_the_only_event_away_leaves_null(run_import):
    AccountFactory(external_id="A-2")
    EventFactory(account=AccountFactory(external_id="A-1"), external_id="E-1", occurred_at=T0)
    Account.objects.filter(external_id="A-1").update(last_activity_at=T0)
    assert run_import("events", "external_id,account\nE-1,A-2\n").status == 0
    assert _last("A-1") is None and _last("A-2") == T0


def test_an_update_moving_the_latest_event_back_in_time_lowers_it(run_import):
    account = AccountFactory(external_id="A-1")
    EventFactory(account=account, external_id="E-1", occurred_at=T0)
    EventFactory(account=account, external_id="E-2", occurred_at=T0 - dt.timedelta(days=5))
    Account.objects.filter(pk=account.pk).update(last_activity_at=T0)
    assert run_import("events", "external_id,occurred_at\nE-1,2026-01-01T00:00:00Z\n").status == 0
    assert _last("A-1") == T0 - dt.timedelta(days=5)


def test_updates_that_keep_account_and_time_leave_it_alone(run_import):
    account = AccountFactory(external_id="A-1")
    EventFactory(account=account, external_id="E-1", occurred_at=T0, quantity=1)
    marker = T0 + dt.timedelta(days=30)  # deliberately not derived: an untouched account keeps it
    Account.objects.filter(pk=account.pk).update(last_activity_at=marker)
    assert run_import("events", "external_id,quantity\nE-1,3\n").status == 0
    assert Event.objects.get(external_id="E-1").quantity == 3
    assert _last("A-1") == marker


def test_mixed_file_of_new_and_updated_events(run_import):
    a1, a2 = AccountFactory(external_id="A-1"), AccountFactory(external_id="A-2")
    EndUserFactory(account=a2, external_id="U-2")
    EventFactory(account=a1, external_id="E-1", occurred_at=T0)
    Account.objects.filter(pk=a1.pk).update(last_activity_at=T0)
    data = (HEADER
            + "E-1,A-2,U-2,login,2026-06-01T12:00:00Z,1\n"   # moved from
            + ",A-1,,report,2026-04-01T00:00:00Z,2\n"        # appended, older than the moved one
            + "E-9,A-2,,login,2026-07-01T00:00:00Z,\n")      # new keyed event, the latest of A-2
    outcome = run_import("events", data)
    assert outcome.status == 0, outcome.err
    assert _last("A-1") == dt.datetime(2026, 4, 1, tzinfo=dt.UTC) == _latest_event("A-1")
    assert _last("A-2") == dt.datetime(2026, 7, 1, tzinfo=dt.UTC) == _latest_event("A-2")


def test_a_dry_run_and_a_rejected_file_leave_it_alone(run_import):
    AccountFactory(external_id="A-1")
    assert run_import("events", "account,name,occurred_at\nA-1,login,2026-06-01T10:00:00Z\n", dry_run=True).status == 0
    assert _last("A-1") is None
    outcome = run_import("events", "account,name,occurred_at\nA-1,login,2026-06-01T10:00:00Z\nA-1,login,nope\n")
    assert outcome.status == 1
    assert _last("A-1") is None and not Event.objects.exists()


def test_many_batches_keep_one_statement_for_the_accounts(run_import, monkeypatch):
    monkeypatch.setattr("accounts.csvio.engine.BATCH_ROWS", 50)
    monkeypatch.setattr(EventsHandler, "SORTED_ROWS", 120)
    for n in range(30):
        AccountFactory(external_id=f"A-{n}")
    rows = "".join(f"A-{n % 30},login,2026-06-{1 + n % 28:02}T00:00:{n % 60:02}Z\n" for n in range(600))
    with CaptureQueriesContext(connection) as captured:
        assert run_import("events", "account,name,occurred_at\n" + rows).status == 0
    updates = [q["sql"] for q in captured if q["sql"].startswith("UPDATE") and "last_activity_at" in q["sql"]]
    assert len(updates) == 1  # one set-based statement at the end, not one per batch or per account
    for account in Account.objects.all():
        assert account.last_activity_at == _latest_event(account.external_id)


def test_appended_events_keep_file_order_in_their_ids(run_import, monkeypatch):
    # Inserted in index order, but numbered as the file goes: ties in an export stay in file order.
    monkeypatch.setattr("accounts.csvio.engine.BATCH_ROWS", 3)
    monkeypatch.setattr(EventsHandler, "SORTED_ROWS", 5)
    for key in ("A-2", "A-1", "A-3"):
        AccountFactory(external_id=key)
    EventFactory(account=Account.objects.get(external_id="A-3"), occurred_at=T0)  # ids continue after it
    order = ["A-3", "A-1", "A-2", "A-1", "A-3", "A-2", "A-1"]
    names = ["z", "y", "x", "w", "v", "u", "t"]  # against the index order too
    rows = zip(order, names, strict=True)
    data = "account,name,occurred_at,quantity\n" + "".join(
        f"{key},{name},2026-06-01T12:00:00Z,{n + 1}\n" for n, (key, name) in enumerate(rows))
    assert run_import("events", data).status == 0
    appended = Event.objects.filter(quantity__gt=0).order_by("pk").exclude(pk=Event.objects.order_by("pk").first().pk)
    assert [(e.account.external_id, e.quantity) for e in appended] == [(k, n + 1) for n, k in enumerate(order)]
    exported = export_text("events").splitlines()[2:]
    assert [line.split(",")[1] for line in exported] == order


# --- the accounts format and the API do not carry the derived field -------------------------


def test_the_accounts_export_has_no_last_activity_column():
    AccountFactory(external_id="A-1", last_activity_at=T0)
    header = export_text("accounts").splitlines()[0]
    assert "last_activity" not in header
    assert header.startswith("external_id,name,")


def test_the_accounts_import_refuses_a_last_activity_column_and_keeps_the_stored_value(run_import):
    AccountFactory(external_id="A-1", name="One")
    Account.objects.filter(external_id="A-1").update(last_activity_at=T0)
    outcome = run_import("accounts", "external_id,name,last_activity_at\nA-1,One,2020-01-01T00:00:00Z\n")
    assert outcome.status == 1 and "unknown column" in outcome.err and "last_activity_at" in outcome.err
    # An update, and a re-import of the export, leave the derived value as it was.
    assert run_import("accounts", "external_id,name\nA-1,Renamed\n").status == 0
    assert run_import("accounts", export_text("accounts")).status == 0
    assert _last("A-1") == T0 and Account.objects.get(external_id="A-1").name == "Renamed"


def test_a_new_account_from_csv_has_no_activity(run_import):
    assert run_import("accounts", "external_id,name\nA-1,One\n").status == 0
    assert _last("A-1") is None


def test_the_api_does_not_expose_last_activity(viewer_user):
    AccountFactory(external_id="A-1", last_activity_at=T0)
    api = APIClient()
    api.force_authenticate(viewer_user)
    response = api.get("/api/accounts/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["external_id"] == "A-1" and not any("last_activity" in key for key in row)
