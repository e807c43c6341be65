"""The streamed export: the import format, ordered by key, formula cells escaped.

Rows come from one `values_list().iterator()` query (plus one for the custom
attribute definitions of accounts), so the query count is the same for ten
rows or a million and the first bytes go out at once.
"""

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from accounts.csvio.cells import FORMULA_CHARS, cell_escape, render_json_value
from accounts.csvio.formats import CUSTOM_PREFIX, CsvFormat
from accounts.models import AttributeType, CustomAttributeDefinition

ROWS_PER_CHUNK = 1000
ITERATOR_CHUNK = 2000


def export_header(fmt: CsvFormat, custom_keys: list[str]) -> list[str]:
    """The header row: the entity's columns, then custom.<key> for each definition (sorted)."""
    return [cell_escape(name) for name in fmt.column_names + [CUSTOM_PREFIX + key for key in custom_keys]]


def export_chunks(fmt: CsvFormat, queryset: QuerySet | None = None) -> Iterator[str]:
    """Yield the CSV text of `queryset` (default: every row) in chunks of about ROWS_PER_CHUNK rows."""
    definitions = list(CustomAttributeDefinition.objects.order_by("key")) if fmt.custom else []
    custom_keys = [d.key for d in definitions]
    # Custom values of these types are free text, which may look like a formula.
    custom_escaped = [d.type in (AttributeType.TEXT, AttributeType.CHOICE) for d in definitions]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export_header(fmt, custom_keys))
    renders = [column.render for column in fmt.columns]
    escaped = [i for i, column in enumerate(fmt.columns) if column.escape]
    paths = [column.path for column in fmt.columns] + (["custom"] if definitions else [])
    queryset = fmt.model.objects.all() if queryset is None else queryset
    rows = queryset.order_by(*fmt.export_order).values_list(*paths).iterator(chunk_size=ITERATOR_CHUNK)
    for count, values in enumerate(rows, start=1):
        out = [render(value) for render, value in zip(renders, values, strict=False)]
        if definitions:
            custom = values[-1] if isinstance(values[-1], dict) else {}
            out.extend(render_json_value(custom.get(key)) for key in custom_keys)
            escaped_here = escaped + [len(renders) + i for i, e in enumerate(custom_escaped) if e]
        else:
            escaped_here = escaped
        for i in escaped_here:
            cell = out[i]
            if cell and cell[0] in FORMULA_CHARS:
                out[i] = cell_escape(cell)
        writer.writerow(out)
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
