"""The import engine: read a CSV stream in batches, validate, upsert, all or nothing.

For each batch of records (BATCH_ROWS) the engine
1. fetches the stored rows of the batch's keys (one query per ~900 keys) and
   sets aside the rows whose text is the export's text of the stored row:
   unchanged, nothing to type (unchanged.py);
2. types every cell of the others (accounts.csvio.cells), remembering each key
   seen so that a key given twice in one file is an error;
3. resolves the references of the whole batch at once (references.py);
4. sorts the rows into new, changed (only the columns in the file) and
   unchanged, checking the cross-field rules of the entity's handler;
5. writes the batch (writes.py: executemany, COPY on PostgreSQL) unless this
   is a dry run or an error has been seen (the caller then rolls back).
No query is made per row, except for staff (handlers.StaffHandler, small
files). Only one batch is held in memory.
"""

import time
from collections.abc import Callable
from typing import Any, BinaryIO

from accounts.csvio import cells
from accounts.csvio.columns import CHOICE as _CHOICE
from accounts.csvio.columns import PARSE as _PARSE
from accounts.csvio.columns import TEXT as _TEXT
from accounts.csvio.columns import typed_columns
from accounts.csvio.formats import CUSTOM_PREFIX, CsvFormat, custom_column
from accounts.csvio.reader import CsvSyntaxError, Record, bad_characters, csv_records
from accounts.csvio.result import ImportResult
from accounts.csvio.rows import CUSTOM, PLAIN, REFERENCE, Change, PlannedColumn, Row
from accounts.csvio.unchanged import UnchangedRows
from accounts.models import CustomAttributeDefinition

BATCH_ROWS = 2000

Progress = Callable[[int], None]


class Importer:
    """Import one CSV stream into one entity (see the module docstring)."""

    def __init__(self, fmt: CsvFormat, result: ImportResult, *, dry_run: bool, progress: Progress | None = None):
        from accounts.csvio.handlers import HANDLERS

        self.fmt, self.result, self.dry_run, self.progress = fmt, result, dry_run, progress
        self.handler = HANDLERS[fmt.handler](fmt)
        self.plan: list[PlannedColumn] = []
        self.cell_plan: list[tuple] = []  # the plan unpacked for parse(), the hot loop
        self.required = [column for column in fmt.columns if column.required]
        self.names: list[str] = []
        self.definitions: dict[str, CustomAttributeDefinition] = {}
        self.unchanged: UnchangedRows | None = None
        self.seen_keys: set[str] = set()
        self.appends = False  # every row is new and typed column by column when it can be (columns.py)

    # --- reading -----------------------------------------------------------

    def run(self, stream: BinaryIO) -> None:
        """Read, check and (unless dry or bad) write the whole stream."""
        records = csv_records(stream)
        batch: list[Record] = []
        try:
            header = next(records, None)
            if header is None:
                self.result.add_failure("line 1: the file is empty; it needs a header row")
                return
            if not self.read_header(header):
                return
            self.unchanged = self._unchanged_rows()
            for record in records:
                batch.append(record)
                if len(batch) >= BATCH_ROWS:
                    self.flush(batch)
                    batch = []
        except CsvSyntaxError as exc:
            self.flush(batch)
            self.result.add_error(exc.line, exc.message)
            return
        self.flush(batch)
        if not self.dry_run and self.result.ok:
            self.handler.finish()

    def read_header(self, record: Record) -> bool:
        """Map header cells to columns; record every header problem. Return True when usable."""
        problems = len(self.result.errors)
        line = record.line
        for index, problem in bad_characters(record.cells):
            self.result.add_error(line, f"column {index + 1} {problem}", row=False)
        self.names = [cells.cell_clean(c).lower() for c in record.cells]
        seen: set[str] = set()
        for index, name in enumerate(self.names):
            if not name:
                self.result.add_error(line, f"column {index + 1} has no name", row=False)
            elif name in seen:
                self.result.add_error(line, "appears twice in the header (column names ignore case)", name, row=False)
            else:
                seen.add(name)
                self._plan_column(line, index, name)
        for name in self._required_header_columns(seen):
            self.result.add_error(line, f"missing required column {name}", row=False)
        self.cell_plan = [
            (p.index, c, p.kind, c.field, _TEXT if c.text_limit is not None else _CHOICE if c.choice_map else _PARSE,
             c.text_limit, c.choice_map, c.parse, c.empty, c.required)
            for p in self.plan
            for c in [p.column]
        ]
        self.appends = (self.fmt.key_optional and self.fmt.key not in seen
                        and all(p.kind != CUSTOM for p in self.plan))
        return len(self.result.errors) == problems

    def _plan_column(self, line: int, index: int, name: str) -> None:
        column = self.fmt.by_name.get(name)
        kind = REFERENCE if column is not None and column.reference else PLAIN
        if column is None and self.fmt.custom and name.startswith(CUSTOM_PREFIX):
            key = name[len(CUSTOM_PREFIX) :]
            definition = CustomAttributeDefinition.objects.filter(key=key).first()
            if definition is None:
                self.result.add_error(line, f'no custom attribute "{key}"', name, row=False)
                return
            column, kind = custom_column(definition), CUSTOM
            self.definitions[key] = definition
        if column is None:
            expected = ", ".join(self.fmt.column_names + (["custom.<key>"] if self.fmt.custom else []))
            message = f"unknown column (the columns of {self.fmt.entity} are {expected})"
            self.result.add_error(line, message, name, row=False)
            return
        self.plan.append(PlannedColumn(index, column, kind))

    def _unchanged_rows(self) -> UnchangedRows | None:
        """The shortcut for unchanged rows, for the entities whose handler allows it."""
        if not self.handler.compare_text:
            return None
        key_index = next(p.index for p in self.plan if p.column.name == self.fmt.key)
        return UnchangedRows(self.plan, key_index, len(self.names), self.definitions, self.fmt.model)

    def _required_header_columns(self, present: set[str]) -> list[str]:
        if not self.fmt.key_optional:
            return [] if self.fmt.key in present else [self.fmt.key]
        if self.fmt.key in present:
            return []
        # Without keys every row is new: the columns a new row needs must be there.
        return [c.name for c in self.fmt.columns if c.required and c.name not in present]

    def parse(self, record: Record) -> Row:
        """Type the cells of one record (no queries)."""
        row = Row(record.line)
        raw = record.cells
        self.result.rows += 1
        if len(raw) != len(self.names):
            row.error(None, f"{len(raw)} cells, but the header has {len(self.names)} columns")
            return row
        if record.suspect:
            for index, problem in bad_characters(raw):
                row.error(self.names[index], problem)
            return row
        values, custom = row.values, row.custom
        formula_chars = cells.FORMULA_CHARS
        # The hot loop of an import: one pass per cell, attributes unpacked once per file.
        for index, column, kind, field_, mode, limit, choices, parse, empty, required in self.cell_plan:
            cell = raw[index].strip(" \t")
            if not cell:
                if kind == CUSTOM:
                    custom[field_] = None
                else:
                    values[field_] = empty
                    if required:
                        row.empties.append(column)
                continue
            if cell[0] == "'" and len(cell) > 1 and cell[1] in formula_chars:
                cell = cell[1:]
            # Plain text within its length and known choices need no call; the rest (and
            # anything wrong, for its message) goes through the column's parser.
            if mode == _TEXT and len(cell) <= limit:
                value = cell
            elif mode == _CHOICE and ((value := choices.get(cell)) is not None
                                      or (value := choices.get(cell.lower())) is not None):
                pass
            else:
                try:
                    value = parse(cell)
                except cells.CellError as exc:
                    row.error(column.name, str(exc))
                    continue
            if kind == PLAIN:
                values[field_] = value
            elif kind == REFERENCE:
                row.refs.append((column, value))
            else:
                custom[field_] = value
        self._check_key(row)
        return row

    def _check_key(self, row: Row) -> None:
        key = row.values.get(self.fmt.key)
        if key is None or key == "":
            if not self.fmt.key_optional and not any(c == self.fmt.key for c, _ in row.errors):
                row.error(self.fmt.key, "is empty; every row needs one")
            return
        row.key = key
        if key in self.seen_keys:
            row.error(None, f'{self.fmt.key} "{key}" appears twice in this file')
        else:
            self.seen_keys.add(key)

    # --- a batch -----------------------------------------------------------

    def flush(self, records: list[Record]) -> None:
        """Type, resolve, sort, check and (when allowed) write one batch; report its errors."""
        if not records:
            return
        if self.appends and self._append(records):
            return
        existing = None
        if self.unchanged is not None:
            # Rows that are the export's text of what is stored need no typing (unchanged.py).
            candidates = self.unchanged.candidates(records)
            existing = self.handler.existing(list(candidates), *self.compared, self.unchanged.as_text)
            resolvers = self.handler.references(self.reference_kinds) if self.reference_kinds else {}
            records, skipped = self.unchanged.split(records, candidates, existing, resolvers, self.seen_keys)
            self.unchanged.type_texts(existing)
            self.result.rows += skipped
            self.result.unchanged += skipped
        batch = [self.parse(record) for record in records]
        self.resolve(batch)
        changes = self.sort(batch, existing)
        self.handler.check(changes)
        for row in batch:
            for column, message in row.errors:
                self.result.add_error(row.line, message, column)
        good = [c for c in changes if not c.row.errors]
        creates = [c for c in good if c.old is None]
        updates = [c for c in good if c.old is not None and (c.changed or c.custom is not None)]
        self.result.created += len(creates)
        self.result.updated += len(updates)
        self.result.unchanged += len(good) - len(creates) - len(updates)
        if not self.dry_run and self.result.ok:
            self.handler.write(creates, updates)
        if self.progress:
            self.progress(self.result.rows)

    def _append(self, records: list[Record]) -> bool:
        """Type and write a batch of new rows column by column; False when it needs the row-by-row path."""
        kinds = self.reference_kinds
        typed = typed_columns(records, self.cell_plan, len(self.names), self.handler.references(kinds) if kinds else {})
        if typed is None or not self.handler.accepts(*typed):
            return False
        self.result.rows += len(records)
        self.result.created += len(records)
        if not self.dry_run and self.result.ok:
            self.handler.append(typed[0], len(records))
        if self.progress:
            self.progress(self.result.rows)
        return True

    @property
    def compared(self) -> tuple[list[str], bool]:
        """The fields (and whether the custom values) a batch compares with the stored rows."""
        return [p.column.field for p in self.plan if p.kind != CUSTOM], any(p.kind == CUSTOM for p in self.plan)

    @property
    def reference_kinds(self) -> set[str]:
        return {plan.column.reference for plan in self.plan if plan.kind == REFERENCE}

    def resolve(self, batch: list[Row]) -> None:
        """Turn the batch's references into primary keys, one query per kind and ~900 names."""
        kinds = self.reference_kinds
        if not kinds:
            return
        resolvers = self.handler.references(kinds)
        if not all(resolver.complete for resolver in resolvers.values()):
            wanted: dict[str, set[str]] = {kind: set() for kind in resolvers}
            for row in batch:
                for column, name in row.refs:
                    wanted[column.reference].add(name)
            for kind, resolver in resolvers.items():
                resolver.load(wanted[kind])
        # Per column of the file: its resolver's getter, and whether it is a user (pk, account pk).
        lookups = {id(plan.column): (resolvers[plan.column.reference].getter, plan.column.reference == "user")
                   for plan in self.plan if plan.kind == REFERENCE}
        for row in batch:
            for column, name in row.refs:
                get, is_user = lookups[id(column)]
                found = get(name)
                if found is None:
                    row.error(column.name, resolvers[column.reference].message(name))
                elif is_user:
                    row.values[column.field], row.user_account = found
                else:
                    row.values[column.field] = found

    def sort(self, batch: list[Row], existing: dict[str, dict[str, Any]] | None = None) -> list[Change]:
        """Pair each valid row with its existing row (fetched unless given) and work out what changes."""
        valid = [row for row in batch if not row.errors]
        fields, has_custom = self.compared
        if existing is None:
            existing = self.handler.existing([r.key for r in valid if r.key is not None], fields, has_custom)
        changes = []
        for row in valid:
            old = existing.get(row.key) if row.key is not None else None
            if old is None:
                for column in self.required:
                    if column.field not in row.values or column in row.empties:
                        row.error(column.name, f"is required to create a new {self.fmt.noun}")
                custom = {k: v for k, v in row.custom.items() if v is not None} if has_custom else None
                changes.append(Change(row, None, row.values, custom))
                continue
            for column in row.empties:
                row.error(column.name, "is required and cannot be emptied")
            changed = {f: v for f, v in row.values.items() if old[f] != v}
            changes.append(Change(row, old, changed, self._merged_custom(old, row) if has_custom else None))
        return changes

    @staticmethod
    def _merged_custom(old: dict[str, Any], row: Row) -> dict[str, Any] | None:
        """The account's custom dict after the row, or None when it does not change."""
        current = old["custom"] if isinstance(old["custom"], dict) else {}
        merged = dict(current)
        for key, value in row.custom.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return None if merged == current else merged


def import_stream(
    *, fmt: CsvFormat, stream: BinaryIO, dry_run: bool, progress: Progress | None = None
) -> ImportResult:
    """Run the engine over `stream` (no transaction handling: see services.csv_import)."""
    result = ImportResult(entity=fmt.entity, dry_run=dry_run)
    started = time.monotonic()
    Importer(fmt, result, dry_run=dry_run, progress=progress).run(stream)
    result.seconds = time.monotonic() - started
    return result
