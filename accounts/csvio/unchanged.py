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

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from accounts.csvio.cells import (
    FORMULA_CHARS,
    render_boolean,
    render_date,
    render_decimal,
    render_int,
    render_json_number,
    render_json_value,
    render_text,
)
from accounts.csvio.reader import Record
from accounts.csvio.references import Reference
from accounts.csvio.rows import CUSTOM, REFERENCE, PlannedColumn
from accounts.csvio.writes import reads_as_text, value_from_text
from accounts.custom_attributes import value_error
from accounts.models import AttributeType

_NEVER = object()  # a canonical text no cell equals
# The renderers whose text writes.TableWriter.existing reads instead (as_text), by field type.
_RENDERS = {"DecimalField": render_decimal, "DateField": render_date, "BooleanField": render_boolean,
            "IntegerField": render_int, "PositiveIntegerField": render_int, "BigIntegerField": render_int,
            "PositiveBigIntegerField": render_int, "SmallIntegerField": render_int,
            "PositiveSmallIntegerField": render_int}


def _clean(raw: str) -> str:
    cell = raw.strip(" \t")
    if cell[:1] == "'" and cell[1:2] in FORMULA_CHARS and len(cell) > 1:
        return cell[1:]
    return cell


class UnchangedRows:
    """Split a batch of records into unchanged rows (counted) and rows to type."""

    def __init__(
        self, plan: list[PlannedColumn], key_index: int, width: int, definitions: Mapping[str, Any], model: Any
    ):
        self.plan, self.key_index, self.width = plan, key_index, width
        self.definitions = definitions
        self.references = [p for p in plan if p.kind == REFERENCE]
        self.customs = [p for p in plan if p.kind == CUSTOM]
        plain = [p for p in plan if p.kind not in (REFERENCE, CUSTOM)]
        # Text and choices are stored as the export writes them: compared in one C-level tuple
        # comparison; the other columns through their renderer, one by one.
        text = [p for p in plain if p.column.render is render_text]
        self.text_cells = itemgetter(*[p.index for p in text]) if text else _nothing
        self.text_stored = itemgetter(*[p.column.field for p in text]) if text else _nothing
        rendered = [p for p in plain if p.column.render is not render_text]
        # Where the database can write the export's text itself (writes.text_select), it does
        # (or a cheaper way to it from the raw value, writes.reads_as_text):
        # no Python object to build and render per value; rows that go on to typing get typed
        # values back from that text (type_texts).
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.from_text = {
            p.column.field: value_from_text(fields[p.column.field]) for p in rendered
            if p.column.field in fields and _RENDERS.get(fields[p.column.field].get_internal_type()) is p.column.render
            and reads_as_text(fields[p.column.field])
        }
        self.as_text = frozenset(self.from_text)
        self.rendered = [(p.index, p.column.field, None if p.column.field in self.as_text else p.column.render)
                         for p in rendered]
        self._unchanged_keys: set[str] = set()
        self.custom_texts = [(p.index, p.column.field, _custom_renderer(definitions[p.column.field]))
                             for p in self.customs]

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
        self._unchanged_keys = set()
        for key, record in candidates.items():
            old = existing.get(key)
            if old is not None and key not in seen_keys and self._same(record.cells, old, resolvers):
                unchanged.add(id(record))
                seen_keys.add(key)
                self._unchanged_keys.add(key)
        return [r for r in records if id(r) not in unchanged], len(unchanged)

    def type_texts(self, existing: dict[str, dict[str, Any]]) -> None:
        """Turn the values read as text back into typed values, for the rows that were not unchanged."""
        if not self.from_text:
            return
        skip = self._unchanged_keys
        for key, old in existing.items():
            if key not in skip:
                for field, convert in self.from_text.items():
                    if old[field] is not None:
                        try:
                            old[field] = convert(old[field])
                        except (ValueError, ArithmeticError):
                            # Stored by another path in a shape the import never writes: equal to
                            # no typed value, so the row's value is written again (an update).
                            old[field] = _NEVER

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
        if self.text_cells(cleaned) != self.text_stored(old):
            return False
        for index, field, render in self.rendered:
            value = old[field]
            if cleaned[index] != (("" if value is None else value) if render is None else render(value)):
                return False
        for plan in self.references:
            cell = cleaned[plan.index]
            found = resolvers[plan.column.reference].get(cell) if cell else None
            if cell and found is None:
                return False  # names nothing: typing reports it
            if (found[0] if isinstance(found, tuple) else found) != old[plan.column.field]:
                return False
        if self.custom_texts:
            custom = old["custom"] if isinstance(old["custom"], dict) else {}
            for index, key, text in self.custom_texts:
                value = custom.get(key)
                if cleaned[index] != ("" if value is None else text(value)):
                    return False
        return True


def _nothing(_: Any) -> tuple:
    return ()


def _custom_renderer(definition: Any) -> Callable[[Any], Any]:
    """The export's text of a stored custom value of `definition`, or _NEVER when typing would refuse it.

    The same verdict as custom_attributes.value_error + render_json_value, specialised per
    type once per file (they run for every custom cell of a re-imported file).
    """
    type_ = definition.type
    if type_ == AttributeType.TEXT:
        return lambda value: value if isinstance(value, str) else _NEVER
    if type_ == AttributeType.NUMBER:
        return lambda value: (render_json_number(value) if isinstance(value, int | float)
                              and not isinstance(value, bool) else _NEVER)
    if type_ == AttributeType.BOOLEAN:
        return lambda value: ("true" if value else "false") if isinstance(value, bool) else _NEVER
    if type_ == AttributeType.CHOICE and isinstance(definition.choices, list):
        allowed = frozenset(c for c in definition.choices if isinstance(c, str))
        return lambda value: value if isinstance(value, str) and value in allowed else _NEVER
    choices = definition.choices

    def generic(value: Any) -> Any:
        if value_error(type_=type_, choices=choices, value=value):
            return _NEVER
        return render_json_value(value)

    return generic
