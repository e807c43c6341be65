"""Bulk reads and writes of one table: executemany on SQLite, COPY on PostgreSQL.

Django's bulk_create builds SQL for every object (~50-100 us a row); a
million events must go in at under 20 us a row. Every value still goes
through its field's `get_db_prep_save`, so what is stored is exactly what
the ORM stores; table and column names come from the model's `_meta`, never
from a file. Reads of the rows an import compares against skip the ORM's
per-value machinery too (`TableWriter.existing`). Rows are validated before they get here (engine.py): the
database's constraints are a second line, not the check.
"""

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Model

from accounts.csvio.references import chunks, where_in

_PLAIN_TYPES = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "EmailField", "ForeignKey",
    "IntegerField", "PositiveIntegerField", "PositiveBigIntegerField", "SmallIntegerField", "TextField",
}


def _SAME(value: Any) -> Any:
    return value


def _prepare(field) -> Callable[[Any], Any]:
    """The function turning a Python value of `field` into what the database driver takes.

    The same as `field.get_db_prep_save(value, connection)` for values already of the
    field's Python type (the engine's parsers make sure of it), minus its to_python().
    """
    kind = field.get_internal_type()
    ops = connection.ops
    if kind in _PLAIN_TYPES:
        # str, int, bool and None go to the driver as they are.
        return _SAME
    if kind == "DateTimeField":
        if connection.vendor == "sqlite" and connection.timezone.utcoffset(None) == dt.timedelta(0):
            return _sqlite_utc
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
    if kind == "DateField":
        return lambda value: None if value is None else ops.adapt_datefield_value(value)
    if kind == "DecimalField":
        digits, places = field.max_digits, field.decimal_places
        return lambda value: None if value is None else ops.adapt_decimalfield_value(value, digits, places)
    return lambda value: field.get_db_prep_save(value, connection)


def _sqlite_utc(value: dt.datetime | None) -> str | None:
    """What adapt_datetimefield_value makes of a datetime on SQLite in UTC, minus its checks for UTC values."""
    if value is None:
        return None
    # isoformat() is str() of the naive value plus "+00:00": one call instead of two.
    return value.isoformat(" ")[:-6] if value.tzinfo is dt.UTC else connection.ops.adapt_datetimefield_value(value)


def _sqlite_utc_many(values: list[dt.datetime | None]) -> list[str | None]:
    # _sqlite_utc's common case inline, without a call per value (a million events' times).
    return [value.isoformat(" ")[:-6] if value is not None and value.tzinfo is dt.UTC else _sqlite_utc(value)
            for value in values]


def _prepare_many(prepare: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    """`prepare` over a list of values."""
    if prepare is _sqlite_utc:
        return _sqlite_utc_many
    return lambda values: list(map(prepare, values))


class TableWriter:
    """Insert and update rows of one model, given as {attname: value} dicts."""

    def __init__(self, model: type[Model]):
        meta = model._meta
        self.table = meta.db_table
        self.pk = meta.pk.column
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.by_attname = {f.attname: f for f in self.fields}
        self.prepare = {f.attname: _prepare(f) for f in self.fields}
        self.prepare_many = {f.attname: _prepare_many(self.prepare[f.attname]) for f in self.fields}
        # Python-side defaults (e.g. quantity 1, custom {}), prepared once.
        self.defaults = {f.attname: self.prepare[f.attname](f.get_default()) for f in self.fields}
        self._reserved = 0  # SQLite: the highest pk handed out by reserve_pks

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert new rows; columns a row does not give take the field's default."""
        self.insert_params(self.params(rows))

    def params(self, rows: list[dict[str, Any]], pks: list[int] | None = None) -> list[tuple]:
        """The rows as the driver takes them: a tuple of prepared values per row (its pk first when `pks`)."""
        if not rows:
            return []
        present = rows[0].keys()
        if all(row.keys() == present for row in rows):
            # The usual case: every row gives the same columns (those of the file).
            columns = {f.attname: list(map(itemgetter(f.attname), rows)) for f in self.fields if f.attname in present}
            return self.column_params(columns, len(rows), pks)
        prepare, defaults = self.prepare, self.defaults
        params = [tuple([prepare[f.attname](row[f.attname]) if f.attname in row else defaults[f.attname]
                         for f in self.fields]) for row in rows]
        return params if pks is None else [(pk, *values) for pk, values in zip(pks, params, strict=True)]

    def insert_params(self, params: list[tuple], *, with_pks: bool = False, index_order: tuple[str, ...] = ()) -> None:
        """Insert rows given as prepared tuples (`params`), each led by its pk when `with_pks`.

        With `index_order` (attnames), the rows are inserted sorted by those
        columns: each index whose key starts with them is then filled page
        after page instead of at random (the events' indexes: ~2x fewer page
        reads on a 1M-row table). Give them pks (reserve_pks) in file order
        first: exports order ties by pk.
        """
        if not params:
            return
        columns = [self.pk, *(f.column for f in self.fields)] if with_pks else [f.column for f in self.fields]
        if index_order:
            positions = [next(i for i, f in enumerate(self.fields) if f.attname == a) + with_pks for a in index_order]
            params.sort(key=itemgetter(*positions))
        if connection.vendor == "postgresql":
            self._copy(columns, params)
        else:
            names = ", ".join(map(_quote, columns))
            placeholders = ", ".join(["%s"] * len(columns))
            # Identifiers from the model's _meta, quoted; values as parameters.
            self._executemany(f"INSERT INTO {_quote(self.table)} ({names}) VALUES ({placeholders})", params)  # noqa: S608

    def reserve_pks(self, count: int) -> list[int]:
        """Reserve `count` new primary keys, increasing: what the database would give rows inserted now."""
        table, pk = _quote(self.table), _quote(self.pk)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # nextval() per row, as COPY would: safe with concurrent writers.
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                               [self.table, self.pk, count])
                return sorted(row[0] for row in cursor.fetchall())
            # SQLite: after the highest id ever used (AUTOINCREMENT keeps it in sqlite_sequence)
            # and those reserved but not inserted yet. Only one connection writes at a time; a
            # writer that got in first makes this transaction's insert fail (nothing written),
            # never a duplicate.
            cursor.execute(
                f"SELECT MAX(COALESCE((SELECT MAX({pk}) FROM {table}), 0),"  # noqa: S608 - names from _meta
                " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))", [self.table])
            start = max(int(cursor.fetchone()[0]), self._reserved) + 1
        self._reserved = start + count - 1
        return list(range(start, start + count))

    def column_params(self, columns: dict[str, list[Any]], count: int, pks: list[int] | None = None) -> list[tuple]:
        """One tuple per row (its pk first when `pks`) from `columns` (attname -> values; absent: the default).

        Built column by column with map() and zip() (C loops): only the values a
        field must convert (e.g. datetimes on SQLite) cost a Python call each.
        """
        prepared: list[Any] = [pks] if pks is not None else []
        for field in self.fields:
            values = columns.get(field.attname)
            if values is None:
                prepared.append(repeat(self.defaults[field.attname], count))
                continue
            prepare = self.prepare[field.attname]
            prepared.append(values if prepare is _SAME else self.prepare_many[field.attname](values))
        return list(zip(*prepared, strict=False))  # repeat() objects are as long as the rows

    def update(self, rows: list[tuple[Any, dict[str, Any]]], attnames: list[str]) -> None:
        """Set `attnames` of each (pk, values) row; every row gives all of them."""
        if not rows:
            return
        fields = [self.by_attname[a] for a in attnames]
        prepare = [self.prepare[a] for a in attnames]
        params = [(*[p(values[a]) for p, a in zip(prepare, attnames, strict=True)], pk) for pk, values in rows]
        if connection.vendor == "postgresql":
            self._update_from_copy([f.column for f in fields], params)
            return
        assignments = ", ".join(f"{_quote(f.column)} = %s" for f in fields)
        sql = f"UPDATE {_quote(self.table)} SET {assignments} WHERE {_quote(self.pk)} = %s"  # noqa: S608 (see insert)
        self._executemany(sql, params)

    def _update_from_copy(self, columns: list[str], params: list[tuple]) -> None:
        """PostgreSQL: COPY the new values into a temporary table, then one UPDATE ... FROM it.

        An UPDATE per row costs a round trip each (~10x slower on 100,000 rows).
        """
        table, pk, staging = _quote(self.table), _quote(self.pk), _quote("csvio_staging")
        names = ", ".join(map(_quote, columns))
        assignments = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS SELECT {names}, {pk} FROM {table} WITH NO DATA")  # noqa: S608
            with cursor.cursor.copy(f"COPY {staging} ({names}, {pk}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            # Temporary tables are never auto-analysed: without row counts the planner
            # hash-joins a sequential scan of the whole target table for every batch.
            cursor.execute(f"ANALYZE {staging}")
            cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM {staging} AS s WHERE t.{pk} = s.{pk}")  # noqa: S608
            cursor.execute(f"DROP TABLE {staging}")

    def raise_to(self, attname: str, values: dict[Any, Any]) -> None:
        """Set `attname` of each row (pk -> value) to the value where it is NULL or lower: one UPDATE.

        The values go into a temporary table (COPY / executemany), joined by
        one set-based UPDATE: greatest(stored, new), NULL meaning "none yet".
        """
        if not values:
            return
        column, pk, table, staging = (_quote(self.by_attname[attname].column), _quote(self.pk), _quote(self.table),
                                      _quote("csvio_raise"))
        prepare = self.prepare[attname]
        rows = ((key, prepare(value)) for key, value in values.items())  # streamed: one row at a time
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS SELECT {pk} AS pk, {column} AS value"  # noqa: S608
                               f" FROM {table} WITH NO DATA")
                with cursor.cursor.copy(f"COPY {staging} (pk, value) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(f"UPDATE {table} AS t SET {column} = s.value FROM {staging} AS s"  # noqa: S608
                               f" WHERE t.{pk} = s.pk AND (t.{column} IS NULL OR t.{column} < s.value)")
            else:
                cursor.execute(f"CREATE TEMPORARY TABLE {staging} (pk integer PRIMARY KEY, value)")
                cursor.executemany(f"INSERT INTO {staging} (pk, value) VALUES (%s, %s)", rows)  # noqa: S608
                # No UPDATE ... FROM before SQLite 3.33: the rows to raise first, then their new value by pk.
                cursor.execute(
                    f"UPDATE {table} SET {column} = (SELECT s.value FROM {staging} AS s WHERE s.pk = {table}.{pk})"  # noqa: S608
                    f" WHERE {pk} IN (SELECT s.pk FROM {staging} AS s JOIN {table} AS t ON t.{pk} = s.pk"
                    f" WHERE t.{column} IS NULL OR t.{column} < s.value)")
            cursor.execute(f"DROP TABLE {staging}")

    def existing(
        self, key: str, keys: list[str], attnames: list[str], as_text: frozenset[str] = frozenset()
    ) -> dict[str, dict[str, Any]]:
        """Return key -> {"pk": ..., attname: value} for the rows whose `key` is in `keys`.

        Values come back as the import's parsers make them (Decimal, date,
        aware datetime, parsed JSON), so they compare with parsed cells;
        those of `as_text` (see text_select) as the export's text of the value.
        """
        fields = [self.by_attname[a] for a in attnames]
        readers = [(_text_reader(f) if text_select(f) is None else None) if f.attname in as_text else _reader(f)
                   for f in fields]
        names = ["pk", *attnames]
        columns = ", ".join([_quote(self.pk), *((text_select(f) or _quote(f.column)) if f.attname in as_text
                                                else _quote(f.column) for f in fields)])
        where = _quote(self.by_attname[key].column)
        found: dict[str, dict[str, Any]] = {}
        index = attnames.index(key)
        with connection.cursor() as cursor:
            for part in chunks(keys):
                condition, params = where_in(where, part)
                cursor.execute(f"SELECT {columns} FROM {_quote(self.table)} WHERE {condition}", params)  # noqa: S608
                fetched = cursor.fetchall()
                if not fetched:
                    continue
                # Column by column: one comprehension per typed column, none for the others.
                by_column = [list(values) for values in zip(*fetched, strict=True)]
                for position, read in enumerate(readers, start=1):
                    if read is not None:
                        by_column[position] = [None if v is None else read(v) for v in by_column[position]]
                for row in zip(*by_column, strict=True):
                    found[row[index + 1]] = dict(zip(names, row, strict=True))
        return found

    def _executemany(self, sql: str, params: list[tuple]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)

    def _copy(self, columns: list[str], params: list[tuple]) -> None:
        # COPY: PostgreSQL's bulk path, several times faster than INSERT.
        statement = f"COPY {_quote(self.table)} ({', '.join(map(_quote, columns))}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in params:
                copy.write_row(row)


def text_select(field) -> str | None:
    """SQL giving exactly the export's text of `field`'s value (NULL for NULL), or None where Python renders it.

    Reading numbers, dates and booleans as the text the export writes spares
    building and rendering a Python object per value when a re-import compares
    rows (accounts.csvio.unchanged). PostgreSQL: numeric(p, 2) always prints
    its 2 decimals; to_char does not depend on DateStyle. SQLite: whole numbers
    and dates are stored as that text already (an expression skips the driver's
    date converter); its decimals are floats, rendered in Python.
    """
    column, kind = _quote(field.column), field.get_internal_type()
    if connection.vendor == "sqlite":
        if kind in _INTEGER_TYPES or kind == "DateField":
            return f"CAST({column} AS TEXT)"
        if kind == "BooleanField":
            return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
        return None
    if connection.vendor != "postgresql":
        return None
    if kind == "DecimalField" or kind in _INTEGER_TYPES:
        return f"{column}::text"
    if kind == "DateField":
        return f"to_char({column}, 'YYYY-MM-DD')"
    if kind == "BooleanField":
        return f"{column}::text"  # true / false
    return None


def reads_as_text(field) -> bool:
    """Whether TableWriter.existing can give `field`'s values as the export's text (as_text)."""
    return text_select(field) is not None or _text_reader(field) is not None


def _text_reader(field) -> Callable[[Any], str] | None:
    """Python's way to the export's text where the database has none (SQLite's decimals, stored as floats)."""
    if connection.vendor == "sqlite" and field.get_internal_type() == "DecimalField":
        reader = _reader(field)

        def decimal_text(raw: Any) -> str:
            # What format(Decimal(repr(raw)).quantize(...), "f") gives, without the Decimal when
            # the shortest text of the float has at most the field's places (always, for values
            # the import stored): pad its decimals.
            if isinstance(raw, int):
                return f"{raw}.{'0' * places}"
            text = repr(raw)
            whole, dot, decimals = text.partition(".")
            if dot and len(decimals) <= places and decimals.isdigit() and whole.lstrip("-").isdigit():
                return f"{whole}.{decimals.ljust(places, '0')}"
            return format(reader(raw), "f")

        places = field.decimal_places
        return decimal_text
    return None


def value_from_text(field) -> Callable[[str], Any]:
    """The inverse of text_select: the value the import's parsers make of that text."""
    kind = field.get_internal_type()
    if kind == "DecimalField":
        places = Decimal(1).scaleb(-field.decimal_places)
        return lambda text: Decimal(text).quantize(places)
    if kind == "DateField":
        return dt.date.fromisoformat
    if kind == "BooleanField":
        return lambda text: text == "true"
    return int


_INTEGER_TYPES = {"IntegerField", "PositiveIntegerField", "BigIntegerField", "PositiveBigIntegerField",
                  "SmallIntegerField", "PositiveSmallIntegerField"}


def _reader(field) -> Callable[[Any], Any] | None:
    """How a value of `field` read by a plain cursor becomes what the parsers produce (None: as it is)."""
    kind = field.get_internal_type()
    if kind == "DecimalField":
        # SQLite gives floats (or ints); repr() is the shortest text of the stored value,
        # quantized as the ORM does (10.5 -> 10.50).
        places = Decimal(1).scaleb(-field.decimal_places)
        return lambda raw: (raw if isinstance(raw, Decimal) else Decimal(repr(raw) if isinstance(raw, float) else raw)
                            ).quantize(places)
    if kind == "DateField":
        return lambda raw: dt.date.fromisoformat(raw) if isinstance(raw, str) else raw
    if kind == "DateTimeField":
        return _datetime_reader
    if kind == "JSONField":
        return lambda raw: json.loads(raw) if isinstance(raw, str | bytes) else raw
    if kind == "BooleanField":
        return bool
    return None


def _datetime_reader(raw: Any) -> dt.datetime:
    value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
