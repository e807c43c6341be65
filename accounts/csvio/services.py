"""CSV import and export: the functions the admin, the commands and the resources call."""

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, TextIO

from django.db import DatabaseError, transaction
from django.db.models import QuerySet

from accounts.csvio.engine import Progress, import_stream
from accounts.csvio.export import export_chunks
from accounts.csvio.formats import format_get
from accounts.csvio.result import ImportResult


def csv_import(
    *, entity: str, stream: BinaryIO, dry_run: bool = False, progress: Progress | None = None
) -> ImportResult:
    """Import one CSV file into `entity`, all or nothing (interchange.md).

    A real run writes in one transaction, rolled back when any row is bad; a
    dry run makes no write at all and reports the same counts and errors.
    """
    fmt = format_get(entity)
    try:
        with _collector_quiet():
            result = _run(fmt, stream, dry_run, progress)
    except DatabaseError as exc:
        # Only a change made meanwhile by someone else gets here (e.g. the same
        # new key inserted by a concurrent import): the rows were all valid.
        result = ImportResult(entity=entity, dry_run=dry_run)
        result.add_failure(f"the database refused the import, nothing was written: {exc}")
    if not result.ok:
        result.created = result.updated = result.unchanged = 0
    return result


@contextmanager
def _collector_quiet() -> Iterator[None]:
    """Keep Python's cyclic garbage collector off the objects that exist before the import.

    Every batch makes thousands of short-lived dicts and lists; each full
    collection then walks everything Django has loaded. Freezing those objects
    and collecting the young generation less often saves about a third of the
    CPU of an events import (measured: perf-csvio.md). Rows form no cycles,
    so nothing piles up meanwhile; both settings are restored afterwards.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _run(fmt, stream: BinaryIO, dry_run: bool, progress: Progress | None) -> ImportResult:
    if dry_run:
        return import_stream(fmt=fmt, stream=stream, dry_run=True, progress=progress)
    started = time.monotonic()
    with transaction.atomic():
        result = import_stream(fmt=fmt, stream=stream, dry_run=False, progress=progress)
        if not result.ok:
            transaction.set_rollback(True)
    # The commit counts: PostgreSQL checks the deferred foreign keys of every new row then.
    result.seconds = time.monotonic() - started
    return result


def csv_export_chunks(*, entity: str, queryset: QuerySet | None = None) -> Iterator[str]:
    """Yield the CSV export of `entity` (or of `queryset`, one of its querysets) in text chunks."""
    return export_chunks(format_get(entity), queryset)


def csv_export(*, entity: str, out: TextIO, queryset: QuerySet | None = None) -> None:
    """Write the CSV export of `entity` (or of `queryset`) to the text stream `out`."""
    for chunk in csv_export_chunks(entity=entity, queryset=queryset):
        out.write(chunk)
