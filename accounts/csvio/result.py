"""What an import did, or for a dry run would do: counts and every error, by line and column."""

from dataclasses import dataclass, field

# Beyond this many messages the rest are only counted: a million bad rows must not exhaust memory.
MAX_LISTED_ERRORS = 10_000


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    entity: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    bad_lines: set[int] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def rejected(self) -> int:
        """The number of bad rows (header problems are not rows)."""
        return len(self.bad_lines)

    def add_error(self, line: int, message: str, column: str | None = None, *, row: bool = True) -> None:
        """Record one problem, as `line N, column C: message`."""
        self.error_count += 1
        if row:
            self.bad_lines.add(line)
        if len(self.errors) < MAX_LISTED_ERRORS:
            where = f"line {line}, column {column}" if column else f"line {line}"
            self.errors.append(f"{where}: {message}")

    def add_failure(self, message: str) -> None:
        """Record a problem of the whole file (no line)."""
        self.error_count += 1
        self.errors.append(message)

    def listed_errors(self) -> list[str]:
        """Every error message, with a last line counting those not listed."""
        hidden = self.error_count - len(self.errors)
        return self.errors + ([f"... and {hidden} more errors"] if hidden > 0 else [])

    def summary(self) -> str:
        """One line: created, updated, unchanged, rejected and seconds."""
        verb = "dry run, nothing written: " if self.dry_run else ""
        if not self.ok:
            verb = "nothing written: "
        return (
            f"{self.entity}: {verb}{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected in {self.seconds:.2f} s"
        )
