"""The rows of an import on their way to the database."""

from dataclasses import dataclass, field
from typing import Any

from accounts.csvio.formats import Column

PLAIN, REFERENCE, CUSTOM = range(3)  # what a column's cells become: a field, a reference, a custom value


@dataclass(frozen=True, slots=True)
class PlannedColumn:
    """A column of the file: where its cells are, and what they become."""

    index: int
    column: Column
    kind: int


@dataclass(slots=True)
class Row:
    """One data row on its way to the database."""

    line: int
    key: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    refs: list[tuple[Column, str]] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)  # key -> JSON value, None to remove
    empties: list[Column] = field(default_factory=list)  # required columns given empty
    errors: list[tuple[str | None, str]] = field(default_factory=list)
    user_account: int | None = None  # events: the account of the user named

    def error(self, column: str | None, message: str) -> None:
        self.errors.append((column, message))


@dataclass(slots=True)
class Change:
    """A valid row sorted against the database: `old` is None for a new row."""

    row: Row
    old: dict[str, Any] | None
    changed: dict[str, Any]  # attname -> new value (all given values for a new row)
    custom: dict[str, Any] | None = None  # the whole new custom dict, when it changes
