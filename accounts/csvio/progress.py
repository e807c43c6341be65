"""A progress line for long imports and exports on a terminal: rows done / total and rate."""

import os
import time
from typing import BinaryIO, TextIO

_REDRAW_SECONDS = 0.2


def lines_in_file(stream: BinaryIO) -> int | None:
    """Count the lines of a regular file without moving its position (None for pipes)."""
    try:
        if not os.path.isfile(stream.name):
            return None
        position = stream.tell()
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    stream.seek(0)
    count = 0
    last = b""
    for block in iter(lambda: stream.read(1 << 20), b""):
        count += block.count(b"\n")
        last = block
    stream.seek(position)
    return count + (1 if last and not last.endswith(b"\n") else 0)


class ProgressLine:
    """Redraw `done / total rows (rate rows/s)` on one terminal line, at most every 0.2 s."""

    def __init__(self, out: TextIO, *, total: int | None, noun: str = "rows"):
        self.out, self.total, self.noun = out, total, noun
        self.started = self.drawn = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.drawn < _REDRAW_SECONDS:
            return
        self.drawn = now
        rate = done / max(now - self.started, 1e-9)
        total = f" / {self.total:,}" if self.total else ""
        self.out.write(f"\r{done:,}{total} {self.noun} ({rate:,.0f} {self.noun}/s)   ")
        self.out.flush()

    def close(self) -> None:
        """Clear the progress line."""
        if self.drawn > self.started:
            self.out.write("\r\033[K")
            self.out.flush()
