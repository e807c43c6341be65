"""Typing a batch of new rows a column at a time: the fast path of an append-only import.

A file without keys (events without an external_id column) only appends, so
a batch has nothing to compare with the database. Its cells are then typed a
column at a time with C loops (zip, map, set) instead of a cell at a time,
and go to the database as columns: a million events would otherwise spend
more time in the per-row Python of Importer.parse / resolve / sort than in
the database. Every value goes through the same parser, choice map and
resolver as on the row-by-row path, so what is stored is the same.

The path only takes batches whose every cell is plainly good. A row of the
wrong width or with bad bytes, a required cell left empty, a cell starting
with a quote, a text over its limit, an unknown choice or name, a cell its
parser refuses: any of these sends the whole batch down the row-by-row path,
which words each error (engine.Importer.flush).
"""

from collections.abc import Callable
from typing import Any

from accounts.csvio.cells import CellError
from accounts.csvio.reader import Record
from accounts.csvio.references import Reference
from accounts.csvio.rows import REFERENCE

TEXT, CHOICE, PARSE = range(3)  # how a column's cells are read (Importer.cell_plan)

Columns = dict[str, list[Any]]  # attname -> one value per row


def typed_columns(
    records: list[Record], plan: list[tuple], width: int, resolvers: dict[str, Reference]
) -> tuple[Columns, list[Any] | None] | None:
    """Type `records` column by column; None when a row needs the row-by-row path.

    `plan` is Importer.cell_plan (plain and reference columns only). Returns
    the columns by attname and, when the file names users, the account of
    each row's user (None where it names none).
    """
    if any(record.suspect for record in records) or any(len(record.cells) != width for record in records):
        return None
    raw = list(zip(*[record.cells for record in records], strict=True))
    columns: Columns = {}
    user_accounts = None
    for index, column, kind, field_, mode, limit, choices, parse, empty, required in plan:
        cells = [cell.strip(" \t") for cell in raw[index]]
        if _quoted(cells):
            return None  # a leading ' (a protected formula) is the row-by-row path's to unwrap
        given = cells
        if "" in cells:
            if required:
                return None
            given = [cell for cell in cells if cell]
        if kind == REFERENCE:
            values = _resolved(given, resolvers[column.reference])
            if values is None:
                return None
            if column.reference == "user":
                user_accounts = _filled(cells, [account for _, account in values], None)
                values = [pk for pk, _ in values]
        else:  # PLAIN: the engine sends no file with custom columns down this path
            values = _typed(given, mode, limit, choices, parse)
            if values is None:
                return None
        columns[field_] = values if given is cells else _filled(cells, values, empty)
    return columns, user_accounts


def _quoted(cells: list[str]) -> bool:
    # One C-level search; a "\n'" inside a multi-line cell is a false alarm (the slow path then).
    return "\n'" in "\n" + "\n".join(cells)


def _typed(cells: list[str], mode: int, limit: int | None, choices: dict | None, parse: Callable) -> list | None:
    """The values of non-empty cells, as Importer.parse makes them; None if any cell is not plainly good."""
    if mode == TEXT:
        return cells if not cells or max(map(len, cells)) <= limit else None
    if mode == CHOICE:
        values = list(map(choices.get, cells))
        return None if None in values else values
    try:
        return list(map(parse, cells))
    except CellError:
        return None


def _resolved(names: list[str], resolver: Reference) -> list | None:
    """What each name resolves to (Importer.resolve); None if a name resolves to nothing."""
    if not resolver.complete:
        resolver.load(set(names))
    values = list(map(resolver.getter, names))
    return None if None in values else values


def _filled(cells: list[str], values: list, empty: Any) -> list:
    """`values` of the non-empty `cells` put back in place, `empty` where a cell is empty."""
    found = iter(values)
    return [next(found) if cell else empty for cell in cells]
