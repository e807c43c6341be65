"""The django-import-export resources: the same engine behind the library's API."""

import pytest
import tablib
from import_export.results import RowResult

from accounts.models import Account
from accounts.resources import AccountsResource, EventsResource, StaffResource
from tests.factories import AccountFactory, CustomAttributeFactory

pytestmark = pytest.mark.django_db


def test_import_data_runs_the_csvio_engine_and_reports_totals():
    AccountFactory(external_id="A-1", name="Old")
    dataset = tablib.Dataset(["A-1", "New"], ["A-2", "Two"], headers=["external_id", "name"])
    dry = AccountsResource().import_data(dataset, dry_run=True)
    assert dry.totals[RowResult.IMPORT_TYPE_NEW] == 1 and dry.totals[RowResult.IMPORT_TYPE_UPDATE] == 1
    assert Account.objects.count() == 1
    AccountsResource().import_data(dataset, dry_run=False)
    assert Account.objects.get(external_id="A-1").name == "New" and Account.objects.count() == 2


def test_import_data_reports_errors_and_writes_nothing():
    dataset = tablib.Dataset(["A-1", "x", "1.001"], headers=["external_id", "name", "mrr"])
    result = AccountsResource().import_data(dataset, dry_run=False)
    assert result.has_errors()
    assert [e.error for e in result.base_errors] == ['line 2, column mrr: "1.001" has more than 2 decimal places']
    assert Account.objects.count() == 0


def test_export_is_the_import_format():
    CustomAttributeFactory(key="nps", type="number")
    AccountFactory(external_id="A-1", name="=x", custom={"nps": 3})
    dataset = AccountsResource().export()
    assert dataset.headers[0] == "external_id" and dataset.headers[-1] == "custom.nps"
    assert dataset[0][:2] == ("A-1", "'=x") and dataset[0][-1] == "3"


def test_every_resource_lists_its_columns():
    CustomAttributeFactory(key="nps", type="number")
    assert [f.column_name for f in AccountsResource().get_user_visible_fields()][-1] == "custom.nps"
    assert [f.column_name for f in EventsResource().get_user_visible_fields()] == [
        "external_id", "account", "user", "name", "occurred_at", "quantity"
    ]
    assert StaffResource.get_display_name() == "Staff"
