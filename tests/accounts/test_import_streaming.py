"""The import streams: it writes batch after batch while reading, and never needs the whole file."""

import io

import pytest

from accounts.csvio import engine
from accounts.csvio.handlers import EventsHandler
from accounts.csvio.services import csv_import
from accounts.models import Event
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


class LazyEvents(io.RawIOBase):
    """An events file produced row by row, watching how far the import got at each row."""

    def __init__(self, rows: int, *, bad_last_row: bool = False):
        self.rows, self.bad_last_row = rows, bad_last_row
        self.lines = self._lines()
        self.pending = b""
        self.written_when_produced: list[tuple[int, int]] = []

    def _lines(self):
        yield b"account,name,occurred_at,quantity\n"
        for n in range(1, self.rows + 1):
            if n % 500 == 0:
                self.written_when_produced.append((n, Event.objects.count()))
            quantity = "0" if self.bad_last_row and n == self.rows else "2"
            yield f"A-1,feature_{n % 7},2026-03-01T09:{n % 60:02}:00Z,{quantity}\n".encode()

    def readable(self):
        return True

    def readinto(self, buffer):
        while len(self.pending) < len(buffer):
            line = next(self.lines, None)
            if line is None:
                break
            self.pending += line
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size


def test_events_are_written_in_batches_while_the_file_is_still_being_read(monkeypatch):
    monkeypatch.setattr(engine, "BATCH_ROWS", 1000)
    monkeypatch.setattr(EventsHandler, "SORTED_ROWS", 1500)
    AccountFactory(external_id="A-1")
    source = LazyEvents(6000)
    result = csv_import(entity="events", stream=io.BufferedReader(source, buffer_size=4096))
    assert result.ok and result.created == 6000 and Event.objects.count() == 6000
    # When row n was produced, all but the last batch or two before it, and the new rows
    # held to be inserted in index order, were in the database: the engine holds a bounded
    # number of rows, not the file.
    for produced, written in source.written_when_produced:
        assert written >= produced - 2 * 1000 - 1500 - 200, (produced, written)
    assert source.written_when_produced[-1][1] > 0


def test_a_bad_last_row_of_a_stream_undoes_every_batch(monkeypatch):
    monkeypatch.setattr(engine, "BATCH_ROWS", 1000)
    AccountFactory(external_id="A-1")
    result = csv_import(entity="events", stream=io.BufferedReader(LazyEvents(3000, bad_last_row=True)))
    assert not result.ok and result.errors == ['line 3001, column quantity: "0" is less than 1']
    assert Event.objects.count() == 0


def test_a_dry_run_of_a_stream_writes_nothing(monkeypatch):
    monkeypatch.setattr(engine, "BATCH_ROWS", 1000)
    AccountFactory(external_id="A-1")
    source = LazyEvents(3000)
    result = csv_import(entity="events", stream=io.BufferedReader(source), dry_run=True)
    assert result.ok and result.created == 3000
    assert Event.objects.count() == 0 and {w for _, w in source.written_when_produced} == {0}


def test_the_engine_holds_one_batch_of_rows_at_a_time(monkeypatch):
    batches: list[int] = []
    original = engine.Importer.flush

    def spy(self, batch):
        batches.append(len(batch))
        return original(self, batch)

    monkeypatch.setattr(engine, "BATCH_ROWS", 700)
    monkeypatch.setattr(engine.Importer, "flush", spy)
    AccountFactory(external_id="A-1")
    csv_import(entity="events", stream=io.BufferedReader(LazyEvents(2000)))
    assert batches == [700, 700, 600]
