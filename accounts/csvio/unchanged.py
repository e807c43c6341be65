"""Spot rows that change nothing before typing their cells (re-importing an export).

A row whose every cell, once cleaned, is exactly the text the export writes
for the stored value changes nothing: parse(render(v)) == v for every column
(tests/accounts/test_export.py round-trips every entity), so typing the row
would only confirm it. Comparing text is several times cheaper than typing,
which is what makes re-importing an unchanged 100,000-row file cheap. Any
difference, however small ("10.5" for "10.50"), sends the row down the normal
path, so the verdict is the one typing would give. A stored custom value that
typing would refuse (wrong type, unknown choice) never matches. (A text longer
than its field, which SQLite lets other paths store, does match: the row
changes nothing, so it is left alone rather than refused.)
"""

from collections.abc import Mapping
from typing import Any

from accounts.csvio.cells import FORMULA_CHARS, render_json_value, render_text
from accounts.csvio.reader import Record
from accounts.csvio.references import Reference
from accounts.csvio.rows import CUSTOM, REFERENCE, PlannedColumn
from accounts.custom_attributes import value_error

_NEVER = object()  # a canonical text no cell equals


def _clean(raw: str) -> str:
    cell = raw.strip(" \t")
    if cell[:1] == "'" and cell[1:2] in FORMULA_CHARS and len(cell) > 1:
        return cell[1:]
    return cell


class UnchangedRows:
    """Split a batch of records into unchanged rows (counted) and rows to type."""

    def __init__(self, plan: list[PlannedColumn], key_index: int, width: int, definitions: Mapping[str, Any]):
        self.plan, self.key_index, self.width = plan, key_index, width
        self.definitions = definitions
        self.references = [p for p in plan if p.kind == REFERENCE]
        self.customs = [p for p in plan if p.kind == CUSTOM]
        plain = [p for p in plan if p.kind not in (REFERENCE, CUSTOM)]
        self.plain_indexes = [p.index for p in plain]
        # Text and choices are stored as the export writes them: compared without a call.
        self.plain_renders = [(p.column.field, None if p.column.render is render_text else p.column.render)
                              for p in plain]

    def candidates(self, records: list[Record]) -> dict[str, Record]:
        """The records worth looking up: key -> record (well-formed, with a key)."""
        found = {}
        for record in records:
            if len(record.cells) == self.width and not record.suspect:
                key = _clean(record.cells[self.key_index])
                if key and key not in found:
                    found[key] = record
        return found

    def split(
        self, records: list[Record], candidates: dict[str, Record], existing: dict[str, dict[str, Any]],
        resolvers: dict[str, Reference], seen_keys: set[str],
    ) -> tuple[list[Record], int]:
        """Return the records to type and the number of unchanged ones (their keys join `seen_keys`)."""
        self._load_references(candidates, existing, resolvers)
        unchanged: set[int] = set()
        for key, record in candidates.items():
            old = existing.get(key)
            if old is not None and key not in seen_keys and self._same(record.cells, old, resolvers):
                unchanged.add(id(record))
                seen_keys.add(key)
        return [r for r in records if id(r) not in unchanged], len(unchanged)

    def _load_references(self, candidates, existing, resolvers) -> None:
        for plan in self.references:
            resolver = resolvers[plan.column.reference]
            resolver.load(
                name for key, record in candidates.items() if key in existing
                for name in [_clean(record.cells[plan.index])] if name
            )

    def _same(self, cells: list[str], old: dict[str, Any], resolvers: dict[str, Reference]) -> bool:
        cleaned = [cell.strip(" \t") for cell in cells]
        if "'" in "".join(cleaned):  # a ' somewhere: maybe one protecting a formula
            cleaned = [_clean(c) for c in cleaned]
        if [cleaned[i] for i in self.plain_indexes] != [
            old[field] if render is None else render(old[field]) for field, render in self.plain_renders
        ]:
            return False
        for plan in self.references:
            cell = cleaned[plan.index]
            found = resolvers[plan.column.reference].get(cell) if cell else None
            if cell and found is None:
                return False  # names nothing: typing reports it
            if (found[0] if isinstance(found, tuple) else found) != old[plan.column.field]:
                return False
        return all(cleaned[plan.index] == self._custom_text(plan, old) for plan in self.customs)

    def _custom_text(self, plan: PlannedColumn, old: dict[str, Any]) -> Any:
        """The export's text of a stored custom value, or _NEVER when typing would refuse it."""
        custom = old["custom"] if isinstance(old["custom"], dict) else {}
        value = custom.get(plan.column.field)
        if value is None:
            return ""
        definition = self.definitions[plan.column.field]
        if value_error(type_=definition.type, choices=definition.choices, value=value):
            return _NEVER
        return render_json_value(value)
