"""django-import-export resources: one per entity, each a thin face of its csvio format.

The admin's Import/Export buttons, `import_csv` / `export_csv` and these
resources all run the same code (accounts.csvio): django-import-export's own
row-by-row path is ~10x slower and does not name lines and columns the way
the spec wants. A resource keeps the library's API for code that calls it
(`Resource().import_data(dataset, dry_run=True)`, `Resource().export()`).
"""

import io

import tablib
from import_export import fields, resources
from import_export.results import Error, Result, RowResult

from accounts.csvio.export import export_header
from accounts.csvio.formats import CUSTOM_PREFIX, CsvFormat, format_get
from accounts.csvio.result import ImportResult
from accounts.csvio.services import csv_export_chunks, csv_import
from accounts.models import CustomAttributeDefinition


class CsvResource(resources.Resource):
    """A resource whose format, import and export are those of the csvio entity `entity`."""

    entity = ""

    @classmethod
    def csv_format(cls) -> CsvFormat:
        return format_get(cls.entity)

    @classmethod
    def get_display_name(cls) -> str:
        return cls.entity.replace("_", " ").capitalize()

    def column_names(self) -> list[str]:
        """The columns of the format, with custom.<key> for each custom attribute of accounts."""
        fmt = self.csv_format()
        keys = CustomAttributeDefinition.objects.order_by("key").values_list("key", flat=True) if fmt.custom else []
        return fmt.column_names + [CUSTOM_PREFIX + key for key in keys]

    def get_user_visible_fields(self):
        return [fields.Field(attribute=name, column_name=name) for name in self.column_names()]

    def get_export_headers(self, selected_fields=None):
        names = self.column_names()
        return export_header(self.csv_format(), [n[len(CUSTOM_PREFIX) :] for n in names if n.startswith(CUSTOM_PREFIX)])

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs) -> Result:
        """Import a tablib dataset through the csvio engine (all or nothing; lines are the dataset's CSV)."""
        stream = io.BytesIO(dataset.export("csv").encode("utf-8"))
        return import_result_as_library_result(csv_import(entity=self.entity, stream=stream, dry_run=dry_run))

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        """Export (a queryset of) the entity in its import format as a tablib dataset."""
        text = "".join(csv_export_chunks(entity=self.entity, queryset=queryset))
        return tablib.Dataset().load(text, format="csv")


def import_result_as_library_result(outcome: ImportResult) -> Result:
    """Translate an ImportResult into django-import-export's Result (totals and errors)."""
    result = Result()
    result.totals[RowResult.IMPORT_TYPE_NEW] = outcome.created
    result.totals[RowResult.IMPORT_TYPE_UPDATE] = outcome.updated
    result.totals[RowResult.IMPORT_TYPE_SKIP] = outcome.unchanged
    result.totals[RowResult.IMPORT_TYPE_ERROR] = outcome.rejected
    result.total_rows = outcome.rows
    for message in outcome.listed_errors():
        result.append_base_error(Error(message))
    return result


class StaffResource(CsvResource):
    entity = "staff"


class CustomAttributesResource(CsvResource):
    entity = "custom_attributes"


class AccountsResource(CsvResource):
    entity = "accounts"


class SubscriptionsResource(CsvResource):
    entity = "subscriptions"


class UsersResource(CsvResource):
    entity = "users"


class EventsResource(CsvResource):
    entity = "events"


class TouchpointsResource(CsvResource):
    entity = "touchpoints"


class TicketsResource(CsvResource):
    entity = "tickets"
