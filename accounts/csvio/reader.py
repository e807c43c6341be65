"""A streaming reader of RFC 4180 CSV that names records by their physical line.

The file is decoded as UTF-8 (a leading BOM is dropped) with `surrogateescape`
so that one bad byte does not stop the whole read: strict UTF-8 never yields
a lone surrogate, so a surrogate in a cell marks a byte that is not UTF-8 and
is reported on its record's line. Only one record is held at a time.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

# A cell may hold a whole note; a missing closing quote then swallows the rest
# of the file up to this limit instead of all of it.
MAX_CELL_CHARS = 1024 * 1024
_BAD_CHAR = re.compile("[\x00\udc80-\udcff]")
_CSV_ERRORS = {
    "unexpected end of data": "a quoted cell is not closed (missing closing quote)",
    "',' expected after '\"'": 'text after the closing quote of a cell (a quote inside a quoted cell is written "")',
}


class CsvSyntaxError(Exception):
    """The file is not CSV from this line on: reading cannot go on."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(slots=True)
class Record:
    """One non-blank CSV record: its first physical line and its raw cells."""

    line: int
    cells: list[str]


def csv_records(stream: BinaryIO) -> Iterator[Record]:
    """Yield the non-blank records of a binary CSV stream, one at a time.

    A record whose cells are all empty once trimmed is a blank line (skipped).
    Raise CsvSyntaxError on malformed CSV (reading cannot resume after it).
    """
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, strict=True)
    last_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvSyntaxError(last_line + 1, _explain(str(exc))) from None
        line, last_line = last_line + 1, reader.line_num
        if any(cell.strip(" \t") for cell in cells):
            yield Record(line, cells)


def _explain(message: str) -> str:
    if message.startswith("field larger than field limit"):
        return f"a cell is longer than {MAX_CELL_CHARS} characters (is a closing quote missing?)"
    return "malformed CSV: " + _CSV_ERRORS.get(message, message)


def bad_characters(cells: list[str]) -> list[tuple[int, str]]:
    """Return (cell index, problem) for cells holding non-UTF-8 bytes or NUL characters."""
    problems = []
    for index, cell in enumerate(cells):
        match = _BAD_CHAR.search(cell)
        if match is None:
            continue
        char = match.group()
        if char == "\x00":
            problems.append((index, "contains a NUL character"))
        else:
            problems.append((index, f"is not UTF-8 (byte 0x{ord(char) - 0xDC00:02X})"))
    return problems


def has_bad_characters(cells: list[str]) -> bool:
    """Tell quickly whether any cell holds a non-UTF-8 byte or a NUL character."""
    return _BAD_CHAR.search("".join(cells)) is not None
