"""Batched look-ups of the rows a CSV names: accounts, users, staff and teams.

Each batch of rows asks once for the names it has not seen yet (an `in`
query per ~900 names, SQLite's parameter limit), so an import makes a few
queries per thousand rows whatever the size of the tables. Answers are kept
(misses too) up to a bound, so memory stays flat on files of millions of rows.
A big file that keeps naming new rows of a table small enough to keep whole
gets the whole table in one read instead (`Reference.complete`).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import Account, EndUser, Team

_CACHE_LIMIT = 200_000
# Distinct names asked for before reading the whole table is worth trying: a
# big file over a table of up to _CACHE_LIMIT rows then makes one query in all.
_READ_ALL_AFTER = 20_000


def chunks(items: list, size: int | None = None) -> Iterator[list]:
    """Split `items` into lists small enough for one `in` query on any backend."""
    size = size or min(connection.features.max_query_params or 5000, 5000) - 10
    for start in range(0, len(items), size):
        yield items[start : start + size]


def where_in(column: str, values: list) -> tuple[str, list]:
    """SQL and parameters for `column` being one of `values` (`column` already quoted).

    PostgreSQL takes the list as one array parameter (= ANY): no statement of
    thousands of placeholders to build and parse; other backends get IN (...).
    """
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


@dataclass(frozen=True)
class NewTeam:
    """A team a staff file names that does not exist yet: created on write."""

    name: str


class Reference:
    """Resolve one kind of reference (e.g. account external_id -> pk) with a cache."""

    def __init__(self, model, lookup: str, values: tuple[str, ...], missing: str):
        self.model, self.lookup, self.values, self.missing = model, lookup, values, missing
        self.cache: dict[str, Any] = {}
        self.complete = False  # the cache holds every row of the table: a name not in it is a miss
        self._asked = 0  # distinct names looked up so far (None once the table proved too big to keep)
        # A plain `IN` query: the ORM spends ~3 us preparing each element of an
        # __in list, which adds up over millions of event rows. Names from _meta.
        meta = model._meta
        columns = ", ".join(connection.ops.quote_name((meta.pk if v == "pk" else meta.get_field(v)).column)
                            for v in values)
        self.sql = f"SELECT {columns} FROM {connection.ops.quote_name(meta.db_table)} WHERE "  # noqa: S608
        self.column = connection.ops.quote_name(meta.get_field(lookup).column)

    def load(self, names: Iterable[str]) -> None:
        """Look up every name not seen yet, in as few queries as possible."""
        if self.complete:
            return
        cache = self.cache
        unknown = [n for n in (names if isinstance(names, set) else set(names)) if n not in cache]
        if self._asked is not None:
            self._asked += len(unknown)
            if self._asked > _READ_ALL_AFTER and self._read_all():
                return
        if len(self.cache) + len(unknown) > _CACHE_LIMIT:
            self.cache.clear()
        with connection.cursor() as cursor:
            for part in chunks(unknown):
                condition, params = where_in(self.column, part)
                cursor.execute(self.sql + condition, params)
                self.cache.update(map(_answer, cursor.fetchall()))
        for name in unknown:
            self.cache.setdefault(name, None)

    def _read_all(self) -> bool:
        """Keep the whole table when it has at most _CACHE_LIMIT rows; return whether it did."""
        with connection.cursor() as cursor:
            cursor.execute(f"{self.sql}{self.column} IS NOT NULL LIMIT {_CACHE_LIMIT + 1}")
            rows = cursor.fetchall()
        if len(rows) > _CACHE_LIMIT:
            self._asked = None  # too big: keep asking batch by batch
            return False
        self.cache.clear()
        self.cache.update(map(_answer, rows))
        self.complete = True
        return True

    def get(self, name: str) -> Any:
        """Return what `name` resolves to (None when nothing has that name)."""
        return self.cache.get(name)

    @property
    def getter(self):
        """A function doing what `get` does, the fastest way there is (the resolve loop's)."""
        return self.cache.get if type(self).get is Reference.get else self.get

    def message(self, name: str) -> str:
        return self.missing.format(name=name)


def _answer(found: tuple) -> tuple[str, Any]:
    """(name, what it resolves to) from a row of Reference.sql: the pk, or a tuple of the other values."""
    return found[0], found[1] if len(found) == 2 else found[1:]


class TeamReference(Reference):
    """Team names: a missing team is not an error, it is created (interchange.md)."""

    def get(self, name: str) -> Any:
        found = self.cache.get(name)
        return NewTeam(name) if found is None else found


def references_for(kinds: Iterable[str]) -> dict[str, Reference]:
    """Return a fresh resolver for each kind of reference a format uses."""
    User = get_user_model()
    factories = {
        "account": lambda: Reference(Account, "external_id", ("external_id", "pk"),
                                     'no account with external_id "{name}"'),
        # A user resolves to (pk, account pk): an event's user must belong to its account.
        "user": lambda: Reference(EndUser, "external_id", ("external_id", "pk", "account_id"),
                                  'no user with external_id "{name}"'),
        "staff": lambda: Reference(User, "username", ("username", "pk"), 'no staff member with username "{name}"'),
        "team": lambda: TeamReference(Team, "name", ("name", "pk"), ""),
    }
    return {kind: factories[kind]() for kind in set(kinds)}
