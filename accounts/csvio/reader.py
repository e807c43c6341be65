"""A streaming reader of RFC 4180 CSV that names records by their physical line.

The file is decoded as UTF-8 (a leading BOM is dropped) with `surrogateescape`
so that one bad byte does not stop the whole read: strict UTF-8 never yields
a lone surrogate, so a surrogate in a cell marks a byte that is not UTF-8 and
is reported on its record's line. Only one record is held at a time.

Python's csv module is not used: it stores ` "x" ` (spaces around a quoted
cell, which the spec trims) as the text `"x"` with its quotes, or fails on
it. Here a quoted cell may have spaces and tabs around its quotes; text after
a closing quote and a quote never closed are malformed CSV; a quote inside an
unquoted cell is kept as text, as Python and spreadsheets do. A line with no
quote at all (most lines) is split at its commas, which is also the fastest.
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
_OPEN_QUOTE = re.compile(r'[ \t]*"')
_UNQUOTED = re.compile(r"[^,\r\n]*")
# After a closing quote: spaces or tabs, then a comma or the end of the record.
_AFTER_QUOTE = re.compile(r"[ \t]*(?:(,)|(?:\r\n|\n|\r)?\Z)")


class CsvSyntaxError(Exception):
    """The file is not CSV from this line on: reading cannot go on."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(slots=True)
class Record:
    """One non-blank CSV record: its first physical line and its raw cells."""

    line: int
    cells: list[str]
    suspect: bool = False  # holds a byte that is not UTF-8 or a NUL: see bad_characters()


def csv_records(stream: BinaryIO) -> Iterator[Record]:
    """Yield the non-blank records of a binary CSV stream, one at a time.

    A record whose cells are all empty once trimmed is a blank line (skipped).
    Raise CsvSyntaxError on malformed CSV (reading cannot resume after it).
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    lines = _numbered(text)
    search = _BAD_CHAR.search
    for number, line in lines:
        if '"' not in line:
            # Only commas, spaces and tabs: a blank line.
            if line.strip(" \t\r\n,"):
                yield Record(number, line.rstrip("\r\n").split(","), search(line) is not None)
            continue
        cells = _simple_quoted(line) or _quoted_record(number, line, lines)
        if any(cell.strip(" \t") for cell in cells):
            yield Record(number, cells, any(search(cell) for cell in cells))


def _numbered(text: io.TextIOBase) -> Iterator[tuple[int, str]]:
    # newline="": lines end at \r\n, \n or \r, each one physical line.
    return enumerate(text, start=1)


def _simple_quoted(line: str) -> list[str] | None:
    """Split a one-line record with quotes by the csv module (C) when it reads it as csbox does.

    That is when every quote is closed on the line and none touches a space or a
    tab (csbox trims those around a quoted cell, the csv module keeps them as text).
    """
    if line.count('"') % 2 or ' "' in line or '" ' in line or '\t"' in line or '"\t' in line:
        return None
    try:
        return next(csv.reader((line,), strict=True))
    except csv.Error:
        return None  # malformed: csbox's own parser says where and why


def _quoted_record(number: int, buffer: str, lines: Iterator[tuple[int, str]]) -> list[str]:
    """Split a record that has quotes, reading more lines while a quoted cell goes on."""
    cells: list[str] = []
    position = 0
    while True:
        opening = _OPEN_QUOTE.match(buffer, position)
        if opening is None:
            cell = _UNQUOTED.match(buffer, position)
            cells.append(cell.group())
            position = cell.end()
            if buffer.startswith(",", position):
                position += 1
                continue
            return cells
        start = opening.end()
        buffer, end = _closing_quote(number, buffer, start, lines)
        cells.append(buffer[start:end].replace('""', '"'))
        after = _AFTER_QUOTE.match(buffer, end + 1)
        if after is None:
            raise CsvSyntaxError(number, 'malformed CSV: text after the closing quote of a cell (a quote inside a '
                                         'quoted cell is written "")')
        if not after.group(1):
            return cells
        position = after.end()


def _closing_quote(number: int, buffer: str, start: int, lines: Iterator[tuple[int, str]]) -> tuple[str, int]:
    """Find the quote closing the cell opened before `start`, adding lines to `buffer` as needed."""
    searched = start
    while True:
        found = buffer.find('"', searched)
        if found == -1:
            if len(buffer) - start > MAX_CELL_CHARS:
                raise CsvSyntaxError(number, f"a cell is longer than {MAX_CELL_CHARS} characters "
                                             "(is a closing quote missing?)")
            searched = len(buffer)
            more = next(lines, None)
            if more is None:
                raise CsvSyntaxError(number, "malformed CSV: a quoted cell is not closed (missing closing quote)")
            buffer += more[1]
        elif buffer.startswith('"', found + 1):
            searched = found + 2
        else:
            return buffer, found


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

